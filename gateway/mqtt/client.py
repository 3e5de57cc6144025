"""MqttClient: paho-mqtt driven by the circuits poller, no thread of its own.

paho's external-loop API is used: ``loop_read`` runs when bytes arrived,
``loop_write`` once per loop pass after paho asked to write (its
socket_register_write callback), ``loop_misc`` from a one-second loop timer
for keep-alive pings. paho's "socket" is a :class:`.TransportSocket`, a face
on the loop's shared buffered Transport (write queue, backpressure, TLS
handshake on the poller). The TCP connect is non-blocking too (see
:mod:`.dialer`). A fresh paho client is made for every connection, so no
message state survives in paho between connections -- the uplink's spool,
not paho's memory, is what gets resent.

paho callbacks become events on this component's channel:
``mqtt_connected()``, ``mqtt_disconnected(reason)``,
``mqtt_message(topic, payload)`` and ``mqtt_published(mid)``.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from circuits.core import BaseComponent, Event, handler
from circuits.core.loop import TimerHandle
from circuits.net.tls import client_context
from gateway.config import MqttConfig

from .dialer import Dialer, is_literal
from .events import mqtt_connected, mqtt_disconnected, mqtt_message, mqtt_published
from .pahosocket import TransportSocket

__all__ = ["MqttClient", "Will"]

log = logging.getLogger(__name__)

#: Seconds between loop_misc() calls: paho's keep-alive has 1 s resolution.
MISC_INTERVAL = 1.0

if not hasattr(paho.Client, "_create_socket"):  # pragma: no cover - guards a paho upgrade
    raise ImportError("this paho-mqtt has no Client._create_socket hook; MqttClient needs paho-mqtt 2.x")


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: published by the broker when we vanish without DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class _HandedSocketClient(paho.Client):
    """A paho client that uses the socket it is handed.

    ``_create_socket`` is paho's one socket factory (reconnect() calls it);
    overriding it is the smallest change that keeps the connect off paho's
    blocking path.
    """

    handed: TransportSocket | None = None

    def _create_socket(self) -> Any:
        sock, self.handed = self.handed, None
        if sock is None:
            raise ConnectionError("paho tried to reconnect by itself")
        return sock


class MqttClient(BaseComponent):
    """One MQTT connection, kept up with backoff (see module doc)."""

    channel: Any = "mqtt"

    def init(self, host: str, port: int = 1883, *, client_id: str = "", keepalive: int = 60,
             username: str | None = None, password: str | None = None, tls: bool = False,
             ca_file: str | Path | None = None, certfile: str | Path | None = None,
             keyfile: str | Path | None = None, ssl_context: ssl.SSLContext | None = None,
             will: Will | None = None, reconnect_min: float = 1.0, reconnect_max: float = 60.0,
             connect_timeout: float = 10.0, max_inflight: int = 0, autostart: bool = True,
             channel: Any = "mqtt") -> None:
        self.host, self.port = host, port
        self.client_id = client_id
        self.keepalive = keepalive
        self.username, self.password = username, password
        self.will = will
        self.reconnect_min = max(0.01, reconnect_min)
        self.reconnect_max = max(self.reconnect_min, reconnect_max)
        self.connect_timeout = connect_timeout
        #: paho's limit of QoS>0 messages in flight (0: none). Past it paho
        #: queues in memory; the uplink keeps its own window instead, so the
        #: default leaves paho unlimited and it never holds anything back.
        self.max_inflight = max_inflight
        self.autostart = autostart
        self._ssl_context = ssl_context
        if ssl_context is None and tls:
            self._ssl_context = client_context(ca_certs=_str(ca_file), certfile=_str(certfile),
                                               keyfile=_str(keyfile))
        self._subscriptions: dict[str, int] = {}
        self._paho: _HandedSocketClient | None = None
        self._sock: TransportSocket | None = None
        self._write_scheduled = False
        self._dialer: Dialer | None = None
        self._retry: TimerHandle | None = None
        self._misc: TimerHandle | None = None
        self._connack_timer: TimerHandle | None = None
        self._delay = self.reconnect_min
        self._active = False
        self.connected = False
        self.attempts = 0
        self.connections = 0
        #: Id of the current (or last) connection, stamped on every mqtt_* event
        #: as ``event.connection``: message ids restart with each connection, so
        #: an mqtt_published(mid) is only meaningful with it.
        self.connection = 0
        self.last_error: str | None = None

    @classmethod
    def from_config(cls, config: MqttConfig, *, will: Will | None = None, channel: Any = "mqtt",
                    **kwargs: Any) -> MqttClient:
        return cls(config.host, config.port, client_id=config.client_id, keepalive=config.keepalive,
                   username=config.username, password=config.password, tls=config.tls,
                   ca_file=config.ca_file, certfile=config.certfile, keyfile=config.keyfile, will=will,
                   reconnect_min=config.reconnect_min, reconnect_max=config.reconnect_max,
                   channel=channel, **kwargs)

    # -- lifetime ----------------------------------------------------------
    @handler("started", channel="*")
    def _on_started(self, component: Any) -> None:
        if component is self.root and self.autostart:
            self.start()

    @handler("registered", channel="*")
    def _on_registered(self, component: Any, manager: Any) -> None:
        if component is self and self.root.running and self.autostart:
            self.start()

    @handler("stopped", channel="*", priority=-10)
    def _on_stopped(self, component: Any) -> None:
        # Low priority: whoever wants to publish a last message (the uplink's
        # "offline") does so first.
        if component is self.root:
            self.disconnect()

    def start(self) -> None:
        """Connect, and keep reconnecting until :meth:`disconnect`."""
        if self._active:
            return
        self._active = True
        self._delay = self.reconnect_min
        self._attempt()

    def disconnect(self) -> None:
        """Say DISCONNECT (so no will is published) and stop reconnecting.

        The packets still queued are written if the socket takes them now,
        the rest when it is writable (if the loop still runs): blocking to
        wait for it is not an option.
        """
        self._active = False
        self._cancel_timers()
        if self._dialer is not None:
            self._dialer.cancel()
            self._dialer = None
        client, sock = self._paho, self._sock
        was_connected = self.connected
        if client is not None and sock is not None and self.connected:
            client.on_disconnect = None  # this end is wanted: no "connection lost"
            self._sock = None  # a closing transport is no lost connection; _drop_client must not abort it
            client.disconnect()
            client.loop_write()  # paho writes DISCONNECT, then closes its socket:
            sock.close()  # the transport writes what it can now, closes after the rest
        self._drop_client()
        if was_connected:
            self._fire(mqtt_disconnected("disconnected by us"))

    # -- requests ----------------------------------------------------------
    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int | None:
        """Queue a PUBLISH; the message id, or None when not connected."""
        client = self._paho
        if client is None or not self.connected:
            return None
        info = client.publish(topic, payload, qos, retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return None
        return info.mid

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now (if connected) and again after every reconnect."""
        self._subscriptions[topic] = qos
        if self._paho is not None and self.connected:
            self._paho.subscribe(topic, qos)

    # -- connecting --------------------------------------------------------
    def _attempt(self) -> None:
        self._retry = None
        if not self._active:
            return
        self.attempts += 1
        self._dialer = Dialer(self.loop, self.host, self.port, self._dialed, timeout=self.connect_timeout)
        self._dialer.start()

    def _dialed(self, raw: socket.socket | None, error: BaseException | None) -> None:
        self._dialer = None
        if raw is None:
            self._connection_lost(f"connect failed: {error}")
            return
        sock: Any = raw
        if self._ssl_context is not None:
            try:
                sock = self._ssl_context.wrap_socket(
                    raw, do_handshake_on_connect=False,
                    server_hostname=self.host if self._ssl_context.check_hostname or not is_literal(self.host)
                    else None)
            except (OSError, ValueError) as exc:
                raw.close()
                self._connection_lost(f"TLS set-up failed: {exc}")
                return
        self.connection += 1
        client = _HandedSocketClient(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                     clean_session=True, protocol=paho.MQTTv311)
        client.max_inflight_messages_set(self.max_inflight)
        client.max_queued_messages_set(0)
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.will is not None:
            client.will_set(self.will.topic, self.will.payload, self.will.qos, self.will.retain)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_socket_register_write = self._on_register_write
        # CONNECT may be queued while the TLS handshake runs: the transport
        # holds writes until it is done.
        wrapped = TransportSocket(self.loop, sock, lambda: self._on_data(wrapped),
                                  lambda reason: self._on_transport_closed(wrapped, reason),
                                  handshake=self._ssl_context is not None)
        self._paho = client
        self._sock = wrapped
        client.connect_async(self.host, self.port, self.keepalive)
        client.handed = wrapped
        try:
            client.reconnect()  # takes the handed socket and queues CONNECT
        except (OSError, ValueError) as exc:
            self._connection_lost(f"connect failed: {exc}")
            return
        self._connack_timer = self.loop.call_later(self.connect_timeout, self._connack_timed_out)
        self._misc = self.loop.call_later(MISC_INTERVAL, self._on_misc)

    def _connack_timed_out(self) -> None:
        self._connack_timer = None
        self._connection_lost("no CONNACK from the broker")

    def _connection_lost(self, reason: str) -> None:
        """Forget the connection and try again after the backoff delay."""
        was_connected = self.connected
        self._drop_client()
        self.last_error = reason
        if was_connected:
            log.warning("MQTT connection to %s:%d lost: %s", self.host, self.port, reason)
        else:
            log.info("MQTT connection to %s:%d failed: %s", self.host, self.port, reason)
        if self._active and self._retry is None:
            # Jitter: many gateways losing one broker must not come back in step.
            delay = self._delay * random.uniform(0.8, 1.2)
            self._delay = min(self._delay * 2, self.reconnect_max)
            self._retry = self.loop.call_later(delay, self._attempt)
        self._fire(mqtt_disconnected(reason))

    def _drop_client(self) -> None:
        self.connected = False
        for name in ("_connack_timer", "_misc"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)
        client, self._paho = self._paho, None
        sock, self._sock = self._sock, None
        if client is not None:
            # Late callbacks from a dropped client must not reach us.
            client.on_connect = client.on_disconnect = client.on_publish = client.on_message = None
            client.on_socket_register_write = None
        if sock is not None:
            sock.abort()

    def _cancel_timers(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    # -- the socket on the loop -------------------------------------------
    def _on_data(self, sock: TransportSocket) -> None:
        """Bytes arrived: let paho read every whole packet now buffered."""
        client = self._paho
        if sock is not self._sock:
            return  # a dropped connection's
        while client is not None and self._paho is client and sock.pending():
            before = sock.pending()
            client.loop_read()
            if sock.pending() >= before:  # paho took nothing (it was dropped meanwhile)
                break
        self._write_now()  # paho's replies (PUBACK to QoS 1 messages, ...) go out with this pass

    def _on_transport_closed(self, sock: TransportSocket, reason: str) -> None:
        if sock is self._sock:
            self._connection_lost(reason)

    def _on_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        # paho queued packets. Write them once this pass is done with its
        # work, so a batch of publishes leaves in one system call.
        if not self._write_scheduled:
            self._write_scheduled = True
            self.loop.call_soon_threadsafe(self._write_now)  # "soon": later in this pass, no thread

    def _write_now(self) -> None:
        self._write_scheduled = False
        client, sock = self._paho, self._sock
        if client is None or sock is None:
            return
        if client.want_write():
            client.loop_write()  # into the TransportSocket: never blocks, never partial
        if self._sock is sock:
            sock.flush()

    def _on_misc(self) -> None:
        self._misc = None
        client = self._paho
        if client is None:
            return
        client.loop_misc()  # pings; reports a dead broker through on_disconnect
        if self._paho is client:
            self._write_now()
            self._misc = self.loop.call_later(MISC_INTERVAL, self._on_misc)

    # -- paho callbacks (run inside loop_read/loop_write/loop_misc) --------
    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if client is not self._paho:
            return
        if reason.is_failure:
            self._connection_lost(f"broker refused the connection: {reason}")
            return
        if self._connack_timer is not None:
            self._connack_timer.cancel()
            self._connack_timer = None
        self.connected = True
        self.connections += 1
        self._delay = self.reconnect_min
        self.last_error = None
        log.info("MQTT connected to %s:%d as %r", self.host, self.port, self.client_id)
        for topic, qos in self._subscriptions.items():
            client.subscribe(topic, qos)
        self._fire(mqtt_connected())

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        if client is self._paho:
            self._connection_lost(f"disconnected: {reason}")

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any,
                    properties: Any) -> None:
        self._fire(mqtt_published(mid))

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._fire(mqtt_message(message.topic, message.payload))

    def _fire(self, event: Event) -> None:
        event.connection = self.connection  # type: ignore[attr-defined]
        self.fire(event)

    # -- introspection -----------------------------------------------------
    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"connected": self.connected, "attempts": self.attempts, "connections": self.connections,
                "last_error": self.last_error, "host": self.host, "port": self.port}


def _str(path: str | Path | None) -> str | None:
    return None if path is None else str(path)

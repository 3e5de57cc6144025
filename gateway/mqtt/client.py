"""MqttClient: one MQTT 3.1.1 connection driven by the circuits poller.

The protocol is :class:`.protocol.MqttProtocol` (sans-I/O: bytes in,
events out); this component binds it to the loop's shared buffered
Transport (write queue, backpressure, TLS handshake on the poller) through
:class:`.wire.Wire`. The TCP connect is non-blocking too (see
:mod:`.dialer`). A fresh protocol object is made for every connection, so
no message state survives between connections -- the uplink's spool is
what gets resent.

Why not paho: its per-message cost (a message object, properties and
reason-code objects, locks, a callback per packet; about 40 us per QoS 1
publish and PUBACK together) was most of the reading path's budget at
20,000 readings/s, and importing it costs the gateway ~10 MB of memory.

What arrives becomes events on this component's channel:
``mqtt_connected()``, ``mqtt_disconnected(reason)``,
``mqtt_message(topic, payload)`` and ``mqtt_published(mid)``.

Completed publishes can come as a call instead: an owner that sets
:attr:`MqttClient.on_published` gets ``on_published(connection, mids)`` once
per chunk read (and once per write for QoS 0), with every mid completed
in it, and no ``mqtt_published`` events. The uplink does, because at
20,000 readings/s an event per PUBACK was a dispatch per reading.
"""

from __future__ import annotations

import logging
import random
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from circuits.core import BaseComponent, Event, handler
from circuits.core.loop import TimerHandle
from circuits.net.tls import client_context
from gateway.config import MqttConfig

from .dialer import Dialer, is_literal
from .events import mqtt_connected, mqtt_disconnected, mqtt_message, mqtt_published
from .protocol import Connack, Message, MqttProtocol, MqttProtocolError, Published, Suback
from .wire import Wire

if TYPE_CHECKING:
    import ssl  # a type only: circuits.net.tls imports ssl when TLS is configured

__all__ = ["MqttClient", "Will"]

log = logging.getLogger(__name__)

#: Seconds between keep-alive checks: the keep-alive has 1 s resolution.
MISC_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class Will:
    """The last will: published by the broker when we vanish without DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class MqttClient(BaseComponent):
    """One MQTT connection, kept up with backoff (see module doc)."""

    channel: Any = "mqtt"

    def init(self, host: str, port: int = 1883, *, client_id: str = "", keepalive: int = 60,
             username: str | None = None, password: str | None = None, tls: bool = False,
             ca_file: str | Path | None = None, certfile: str | Path | None = None,
             keyfile: str | Path | None = None, ssl_context: ssl.SSLContext | None = None,
             will: Will | None = None, reconnect_min: float = 1.0, reconnect_max: float = 60.0,
             connect_timeout: float = 10.0, autostart: bool = True, channel: Any = "mqtt") -> None:
        self.host, self.port = host, port
        self.client_id = client_id
        self.keepalive = keepalive
        self.username, self.password = username, password
        self.will = will
        self.reconnect_min = max(0.01, reconnect_min)
        self.reconnect_max = max(self.reconnect_min, reconnect_max)
        self.connect_timeout = connect_timeout
        self.autostart = autostart
        self._ssl_context = ssl_context
        if ssl_context is None and tls:
            self._ssl_context = client_context(ca_certs=_str(ca_file), certfile=_str(certfile),
                                               keyfile=_str(keyfile))
        self._subscriptions: dict[str, int] = {}
        self._proto: MqttProtocol | None = None
        self._sock: Wire | None = None
        self._write_scheduled = False
        #: QoS 0 mids written in this pass: they complete once handed to the transport.
        self._qos0: list[int] = []
        self._dialer: Dialer | None = None
        self._retry: TimerHandle | None = None
        self._misc: TimerHandle | None = None
        self._connack_timer: TimerHandle | None = None
        self._last_out = 0.0
        self._last_in = 0.0
        self._ping_at: float | None = None
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
        #: Hears completed publishes by a call (see module doc), or None: events.
        self.on_published: Callable[[int, list[int]], object] | None = None

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
        proto, sock = self._proto, self._sock
        was_connected = self.connected
        if proto is not None and sock is not None and self.connected:
            proto.disconnect()
            self._sock = None  # a closing transport is no lost connection; _drop_client must not abort it
            sock.write(proto.data_to_send())
            sock.close()  # the transport writes what it can now, closes after the rest
        self._drop_client()
        if was_connected:
            self._fire(mqtt_disconnected("disconnected by us"))

    # -- requests ----------------------------------------------------------
    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int | None:
        """Queue a PUBLISH; the message id, or None when not connected."""
        proto = self._proto
        if proto is None or not self.connected:
            return None
        try:
            mid = proto.publish(topic, payload, qos, retain)
        except ValueError as exc:
            log.warning("MQTT: cannot publish to %r: %s", topic, exc)
            return None
        if not qos:
            self._qos0.append(mid)
        self._schedule_write()
        return mid

    def publish_many(self, messages: Iterable[tuple[str, bytes, int]]) -> list[int]:
        """Queue a PUBLISH (not retained) for each (topic, payload, qos), in
        order; their mids. Stops at the first one that cannot be queued (not
        connected, or too large: logged), so the list may be shorter.

        One call for what the uplink sends in a pass, instead of one
        :meth:`publish` each (it runs for every reading).
        """
        proto = self._proto
        mids: list[int] = []
        if proto is None or not self.connected:
            return mids
        publish, qos0 = proto.publish, self._qos0
        try:
            for topic, payload, qos in messages:
                mid = publish(topic, payload, qos)
                mids.append(mid)
                if not qos:
                    qos0.append(mid)
        except ValueError as exc:
            log.warning("MQTT: cannot publish: %s", exc)
        if mids:
            self._schedule_write()
        return mids

    def subscribe(self, topic: str, qos: int = 1) -> None:
        """Subscribe now (if connected) and again after every reconnect."""
        self._subscriptions[topic] = qos
        if self._proto is not None and self.connected:
            self._proto.subscribe([(topic, qos)])
            self._schedule_write()

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
        will = None if self.will is None else (self.will.topic, self.will.payload, self.will.qos, self.will.retain)
        proto = MqttProtocol(self.client_id, self.keepalive, clean_session=True, username=self.username,
                             password=self.password, will=will)
        # CONNECT may be queued while the TLS handshake runs: the transport
        # holds writes until it is done.
        wrapped = Wire(self.loop, sock, lambda data: self._on_data(wrapped, data),
                       lambda reason: self._on_transport_closed(wrapped, reason),
                       handshake=self._ssl_context is not None)
        self._proto = proto
        self._sock = wrapped
        self._qos0.clear()
        self._ping_at = None
        self._last_in = self._last_out = self.loop.clock.now()
        try:
            proto.connect()
        except ValueError as exc:
            self._connection_lost(f"connect failed: {exc}")
            return
        self._write_now()
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
        self._proto = None
        self._qos0.clear()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.abort()

    def _cancel_timers(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    # -- the socket on the loop -------------------------------------------
    def _on_data(self, sock: Wire, data: bytes) -> None:
        """Bytes arrived: hand every whole packet's event on."""
        proto = self._proto
        if sock is not self._sock or proto is None:
            return  # a dropped connection's
        self._last_in = self.loop.clock.now()
        self._ping_at = None  # the broker is alive: whatever it sent answers a ping too
        try:
            events = proto.receive_data(data)
        except MqttProtocolError as exc:
            self._connection_lost(f"protocol error: {exc}")
            return
        connection = self.connection
        on_published = self.on_published
        done: list[int] = []
        for event in events:
            if type(event) is Published:
                if on_published is not None:
                    done.append(event.mid)
                else:
                    self._fire(mqtt_published(event.mid))
            elif type(event) is Message:
                self._fire(mqtt_message(event.topic, event.payload))
            elif type(event) is Connack:
                self._connack(event)
            elif type(event) is Suback and 0x80 in event.codes:
                log.warning("MQTT: the broker refused a subscription (SUBACK %s)", event.codes)
            if self._proto is not proto or self.connection != connection:
                break  # the connection went while handling what came
        if done and on_published is not None:
            on_published(connection, done)
        if self._proto is proto and self.connection == connection:
            self._write_now()  # our replies (PUBACK to QoS 1 messages, ...) go out with this pass

    def _connack(self, ack: Connack) -> None:
        if ack.code != 0:
            self._connection_lost(f"broker refused the connection: {ack.reason}")
            return
        if self._connack_timer is not None:
            self._connack_timer.cancel()
            self._connack_timer = None
        self.connected = True
        self.connections += 1
        self._delay = self.reconnect_min
        self.last_error = None
        log.info("MQTT connected to %s:%d as %r", self.host, self.port, self.client_id)
        if self._subscriptions and self._proto is not None:
            self._proto.subscribe(list(self._subscriptions.items()))
        self._fire(mqtt_connected())

    def _on_transport_closed(self, sock: Wire, reason: str) -> None:
        if sock is self._sock:
            self._connection_lost(reason)

    def _schedule_write(self) -> None:
        # Write once this pass is done with its work, so a batch of
        # publishes leaves in one system call.
        if not self._write_scheduled:
            self._write_scheduled = True
            self.loop.call_soon_threadsafe(self._write_now)  # "soon": later in this pass, no thread

    def _write_now(self) -> None:
        self._write_scheduled = False
        proto, sock = self._proto, self._sock
        if proto is None or sock is None:
            return
        data = proto.data_to_send()
        if data:
            sock.write(data)
            self._last_out = self.loop.clock.now()
        if self._qos0:
            # QoS 0 is complete once it is in the transport's hands.
            done, self._qos0 = self._qos0, []
            if self.on_published is not None:
                self.on_published(self.connection, done)
                return
            for mid in done:
                self._fire(mqtt_published(mid))

    def _on_misc(self) -> None:
        """Keep-alive (3.1.2.10): a PINGREQ when we sent nothing for a keep-alive
        period, and the connection is given up when the broker then stays silent
        as long again."""
        self._misc = None
        proto = self._proto
        if proto is None:
            return
        now = self.loop.clock.now()
        if self.keepalive and self.connected:
            if self._ping_at is not None and now - self._ping_at >= self.keepalive:
                self._connection_lost("no PINGRESP from the broker")
                return
            if self._ping_at is None and now - self._last_out >= self.keepalive:
                proto.ping()
                self._ping_at = now
                self._write_now()
        self._misc = self.loop.call_later(MISC_INTERVAL, self._on_misc)

    def _fire(self, event: Event) -> None:
        event.connection = self.connection  # type: ignore[attr-defined]
        self.fire(event)

    # -- introspection -----------------------------------------------------
    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"connected": self.connected, "attempts": self.attempts, "connections": self.connections,
                "last_error": self.last_error, "host": self.host, "port": self.port}


def _str(path: str | Path | None) -> str | None:
    return None if path is None else str(path)

"""MqttUplink: readings to MQTT through a durable spool, writes back to devices.

Flow of a reading: the ``reading`` handler hands it to the spool's
:class:`SpoolQueue`; the disk writer thread commits what was handed over in
one batch (one fsync) while the loop goes on -- from then on the reading is
*accepted* and survives SIGKILL and power loss -- and only then is it
published, at most ``window`` rows in flight at a time. A row is deleted
only when its publish completed (PUBACK for QoS 1, PUBCOMP for 2, written
to the socket for 0). After a reconnect everything unacknowledged is sent
again from the oldest row, so subscribers see each reading at least once,
in order of first arrival (QoS 1 duplicates are possible; use ``seq``).

State messages (gateway and device status, Home Assistant discovery) are
not spooled: they are retained and re-published on every connect, so only
the latest value matters.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from circuits.core import BaseComponent, Event, handler
from circuits.core.loop import TimerHandle
from devices import reading_bytes
from gateway.config import MqttConfig
from gateway.diskwriter import DiskWriter
from gateway.events import device_write, modbus_write
from gateway.spool import DEFAULT_NAME, Spool, Synchronous
from gateway.spoolqueue import DEFAULT_HANDOVER_BYTES, SpoolQueue
from gateway.status import DeviceStatuses

from .client import MqttClient, Will
from .discovery import Discovery, Hints
from .topics import OFFLINE, ONLINE, Topics

__all__ = ["DEFAULT_WINDOW", "MqttUplink"]

log = logging.getLogger(__name__)

#: Spooled messages in flight at once: enough to cover the round trip to a
#: LAN broker at thousands of readings/s, small enough that a reconnect
#: resends little.
DEFAULT_WINDOW = 100
STATE_QOS = 1


class MqttUplink(BaseComponent):
    """The gateway's MQTT side: handles ``reading`` and ``device_status``, fires ``device_write``."""

    channel: Any = "gateway"

    def init(self, config: MqttConfig, gateway_name: str, state_dir: Path, channel: Any = "gateway", *,
             window: int = DEFAULT_WINDOW, synchronous: Synchronous = "FULL",
             client: MqttClient | None = None, writer: DiskWriter | None = None,
             max_handover_bytes: int = DEFAULT_HANDOVER_BYTES, statuses: DeviceStatuses | None = None,
             hints: Hints | None = None) -> None:
        self.config = config
        self.gateway_name = gateway_name
        self.topics = Topics(config.topic_prefix)
        self.qos = config.qos
        self.window = max(1, window)
        # The disk is the writer thread's (shared with the other stores when
        # the gateway passes one); without one the uplink has its own.
        self._own_writer = writer is None
        self.writer = writer if writer is not None else DiskWriter("mqtt-spool")
        store = Spool(Path(state_dir) / DEFAULT_NAME, max(1, config.spool_max_mb) << 20, synchronous=synchronous)
        self.spool = SpoolQueue(store, self.writer, lambda: self.loop, self._pump,
                                max_handover_bytes=max_handover_bytes)
        self.discovery = Discovery(self.topics, gateway_name, hints) if config.homeassistant else None
        will = Will(self.topics.status, OFFLINE, qos=STATE_QOS, retain=True)
        # The client fires its mqtt_* events on our channel, where we listen.
        self.client = client or MqttClient.from_config(config, will=will, channel=self.channel)
        self.client.register(self)
        # Acks by a call with each chunk's mids, not an event per PUBACK.
        self.client.on_published = self._published
        self.client.subscribe(self.topics.write_filter, STATE_QOS)
        self.client.subscribe(self.topics.modbus_write_filter, STATE_QOS)
        self._inflight: dict[int, int] = {}  # mid -> spool row id, on connection _generation
        self._generation = 0
        #: The connection our state (statuses, discovery) was published on by
        #: _on_connected; until then state messages wait for it.
        self._announced = 0
        #: The gateway's one record of device states (republished on every
        #: connect), or, used on its own, a record fed by device_status.
        self._own_statuses = statuses is None
        self.statuses = statuses if statuses is not None else DeviceStatuses()
        self._flush_handle: TimerHandle | None = None
        self._closed = False
        self.readings = 0
        self.published = 0
        self.acked = 0
        self.writes = 0
        self.rejected = 0

    @property
    def connected(self) -> bool:
        return self.client.connected

    # -- gateway events ----------------------------------------------------
    @handler("reading")
    def _on_reading(self, reading: Mapping[str, Any]) -> None:
        if self._closed:
            return
        try:
            device = str(reading["device"])
            fields = reading.get("fields") or {}
            payload = reading_bytes(reading)  # the bytes the reading carries: made once for every sink
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.rejected += 1
            log.warning("MQTT uplink: reading not publishable (%s): %r", exc, reading)
            return
        self.spool.append(self.topics.reading(device), payload, self.qos)
        self.readings += 1
        if self.discovery is not None and isinstance(fields, Mapping):
            for topic, config in self.discovery.new_fields(device, dict(fields)):
                self._publish_state(topic, config)
        self._schedule_flush()

    def rediscover(self, devices: Mapping[str, Collection[str] | None]) -> int:
        """After a reload: publish again the Home Assistant configs the new
        configuration changed, for each device (name -> the fields it can
        still report, or None when its readings decide; see
        :meth:`Discovery.refresh`).  Returns how many configs that was."""
        if self.discovery is None:
            return 0
        count = 0
        for device, fields in devices.items():
            for topic, config in self.discovery.refresh(device, fields):
                self._publish_state(topic, config)
                count += 1
        return count

    @handler("device_status")
    def _on_device_status(self, device: str, status: str, detail: str = "") -> None:
        online = status == "online"  # "starting" and "offline" are both not online
        if self._own_statuses:
            self.statuses.set(device, status, detail)
        self._publish_state(self.topics.device_status(device), ONLINE if online else OFFLINE)

    # -- client events -----------------------------------------------------
    @handler("mqtt_connected")
    def _on_connected(self) -> None:
        self._announced = self.client.connection
        self._publish_state(self.topics.status, ONLINE)
        for device, status, _ in self.statuses:
            self._publish_state(self.topics.device_status(device), ONLINE if status == "online" else OFFLINE)
        if self.discovery is not None:
            for topic, config in self.discovery.all():
                self._publish_state(topic, config)
        self._schedule_flush()

    @handler("mqtt_disconnected")
    def _on_disconnected(self, event: Event, reason: str) -> None:
        # Whatever was in flight is unacknowledged: it stays in the spool and
        # goes out again on the next connection (see _pump).
        if getattr(event, "connection", None) == self._generation:
            self._inflight.clear()

    def _published(self, connection: int, mids: list[int]) -> None:
        """The client's call with the publishes one chunk completed."""
        if connection != self._generation:
            return  # acks from an earlier connection: their mids mean other rows now
        inflight, spool = self._inflight, self.spool
        acked = 0
        for mid in mids:
            row_id = inflight.pop(mid, None)
            if row_id is not None:  # else a state message
                spool.ack(row_id)
                acked += 1
        if acked:
            self.acked += acked
            self._schedule_flush()

    @handler("mqtt_message")
    def _on_message(self, topic: str, payload: bytes) -> None:
        device = self.topics.parse_write(topic)
        if device is None:
            modbus = self.topics.parse_modbus_write(topic)
            if modbus is not None:
                self.writes += 1
                self.fire(modbus_write(modbus, bytes(payload)))
            return
        self.writes += 1
        self.fire(device_write(device, bytes(payload)))

    @handler("modbus_result")
    def _on_modbus_result(self, device: str, payload: bytes) -> None:
        # An answer to a write asked for now: not spooled, not retained (a
        # result nobody is connected to hear has no one waiting for it).
        if self.connected and not self._closed:
            self.client.publish(self.topics.modbus_result(device), payload, STATE_QOS)

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is not self.root:
            return
        self.close()

    def close(self) -> None:
        """Commit the spool, say "offline" (retained) and close the spool file
        (waits for the writer thread: shutdown is the one time that is fine)."""
        if self._closed:
            return
        self._closed = True
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._publish_state(self.topics.status, OFFLINE)
        self.spool.close()
        if self._own_writer:
            self.writer.close()

    # -- sending -----------------------------------------------------------
    def _schedule_flush(self) -> None:
        # One hand-over per loop pass, however many readings and acks came
        # in: a zero-delay timer runs at the start of the next pass.
        if self._flush_handle is None and not self._closed:
            self._flush_handle = self.loop.call_later(0, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        self.spool.flush()
        self._pump()

    def _pump(self) -> None:
        """Publish accepted rows while the window has room (also run by the
        spool queue whenever a commit made rows available)."""
        client = self.client
        if not client.connected or self._closed:
            return
        if client.connection != self._generation:
            # A new connection: everything unacknowledged goes again, oldest first.
            self._generation = client.connection
            self._inflight.clear()
            self.spool.rewind()
        room = self.window - len(self._inflight)
        if room <= 0:
            return
        rows = self.spool.take(room)
        if not rows:
            return
        mids = client.publish_many([(topic, payload, qos) for _, topic, payload, qos in rows])
        # Fewer mids than rows: the connection went (mqtt_disconnected
        # follows, then a rewind sends the rest again).
        self._inflight.update(zip(mids, [row[0] for row in rows[:len(mids)]], strict=True))
        self.published += len(mids)

    def _publish_state(self, topic: str, payload: bytes) -> None:
        # Not connected, or connected but mqtt_connected not handled yet:
        # nothing is lost, _on_connected publishes the whole current state.
        # (Publishing in between too would send it twice.)
        if self._announced == self.client.connection:
            self.client.publish(topic, payload, STATE_QOS, retain=True)

    # -- introspection -----------------------------------------------------
    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        spool = self.spool.statistics()
        return {"connected": self.connected, "spool_depth": spool["depth"], "dropped": spool["dropped"],
                "accepted": spool["committed"], "unaccepted": spool["unaccepted"], "readings": self.readings, "published": self.published,
                "acked": self.acked, "inflight": len(self._inflight), "writes": self.writes,
                "rejected": self.rejected, "spool": spool, "client": self.client.statistics()}

"""MQTT 3.1.1 client side, sans-I/O: bytes in, events out, bytes out.

Only what the gateway's uplink uses: CONNECT (with will, username and
password), PUBLISH at QoS 0/1/2 both ways, SUBSCRIBE, PINGREQ and
DISCONNECT. Section numbers are those of the OASIS MQTT 3.1.1 standard.

:meth:`MqttProtocol.receive_data` takes what the socket delivered and
returns the events it completed; every method that makes a packet appends
it to one outgoing buffer, which :meth:`MqttProtocol.data_to_send` hands
over (so a pass's publishes leave in one write). Acknowledgements the
protocol owes the broker (PUBACK, PUBREC, PUBCOMP) are queued the same way.

The per-message work is a struct pack going out and a four-byte parse for
its PUBACK coming back: no objects per message beyond the mid bookkeeping.
A packet that breaks the standard raises :class:`MqttProtocolError`; the
caller drops the connection.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["Connack", "Message", "MqttProtocol", "MqttProtocolError", "Pingresp", "Published", "Suback"]

#: 2.2.1 control packet types (the high nibble of the first byte).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 12, 13, 14
#: 2.2.2: the largest "remaining length" four varint bytes can carry.
MAX_REMAINING = 268_435_455
#: 3.2.2.3 CONNACK return codes, for the log line of a refusal.
REFUSALS = {1: "unacceptable protocol version", 2: "identifier rejected", 3: "server unavailable",
            4: "bad user name or password", 5: "not authorized"}

_MID = struct.Struct("!H")
_PUBACK = struct.Struct("!BBH")


class MqttProtocolError(ValueError):
    """The broker sent something MQTT 3.1.1 does not allow."""


@dataclass(frozen=True, slots=True)
class Connack:
    """3.2: the broker's answer to CONNECT; ``code`` 0 is accepted."""

    code: int
    session_present: bool

    @property
    def reason(self) -> str:
        return "accepted" if self.code == 0 else REFUSALS.get(self.code, f"refused (code {self.code})")


@dataclass(frozen=True, slots=True)
class Published:
    """An outgoing message completed: PUBACK (QoS 1), PUBCOMP (QoS 2), queued (QoS 0)."""

    mid: int


@dataclass(frozen=True, slots=True)
class Message:
    """3.3: a message for one of our subscriptions."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class Suback:
    """3.9: return codes per topic filter (0x80 is a failure)."""

    mid: int
    codes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Pingresp:
    """3.13: the answer to PINGREQ."""


Event = Connack | Published | Message | Suback | Pingresp


def _string(text: str) -> bytes:
    """1.5.3: a UTF-8 string with its two-byte length."""
    data = text.encode("utf-8")
    if len(data) > 0xFFFF:
        raise ValueError(f"MQTT string too long ({len(data)} bytes)")
    return _MID.pack(len(data)) + data


def _binary(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError(f"MQTT field too long ({len(data)} bytes)")
    return _MID.pack(len(data)) + data


def _remaining(length: int) -> bytes:
    """2.2.3: the remaining length as a variable-length integer."""
    if length > MAX_REMAINING:
        raise ValueError(f"MQTT packet too large ({length} bytes)")
    if length < 128:
        return bytes((length,))
    out = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        if length:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class MqttProtocol:
    """One MQTT 3.1.1 connection's state (see module doc). Not thread-safe."""

    def __init__(self, client_id: str = "", keepalive: int = 60, *, clean_session: bool = True,
                 username: str | None = None, password: str | None = None,
                 will: tuple[str, bytes, int, bool] | None = None, max_packet: int = 1 << 20) -> None:
        self.client_id = client_id
        self.keepalive = keepalive
        self.clean_session = clean_session
        self.username, self.password = username, password
        self.will = will
        self.max_packet = max_packet
        self.connected = False
        self._in = bytearray()
        self._out = bytearray()
        self._next_mid = 0
        #: Outgoing QoS 1/2 messages not completed yet: mid -> qos.
        self.inflight: dict[int, int] = {}
        #: Incoming QoS 2 messages delivered and waiting for their PUBREL (4.3.3 method B).
        self._incoming_qos2: set[int] = set()

    # -- packets out --------------------------------------------------------
    def data_to_send(self) -> bytes:
        """Everything queued since the last call (b"" when nothing)."""
        if not self._out:
            return b""
        out, self._out = bytes(self._out), bytearray()
        return out

    def connect(self) -> None:
        """3.1: CONNECT, the first packet of a connection."""
        flags = 0x02 if self.clean_session else 0
        payload = _string(self.client_id)
        if self.will is not None:
            topic, message, qos, retain = self.will
            flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
            payload += _string(topic) + _binary(message)
        if self.username is not None:
            flags |= 0x80
            payload += _string(self.username)
            if self.password is not None:
                flags |= 0x40
                payload += _binary(self.password.encode("utf-8"))
        body = b"\x00\x04MQTT\x04" + bytes((flags,)) + _MID.pack(self.keepalive) + payload
        self._out += b"\x10" + _remaining(len(body)) + body

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> int:
        """3.3: queue a PUBLISH; its mid. A QoS 0 message gets one too (not
        sent: it has no packet id) so the caller can track its completion."""
        if qos not in (0, 1, 2):
            raise ValueError(f"QoS must be 0, 1 or 2, not {qos!r}")
        name = topic.encode("utf-8")
        if qos:
            mid = self._mid()
            head = _MID.pack(len(name)) + name + _MID.pack(mid)
            self.inflight[mid] = qos
        else:
            mid = self._mid()
            head = _MID.pack(len(name)) + name
        length = len(head) + len(payload)
        out = self._out
        out.append(0x30 | (qos << 1) | (1 if retain else 0))
        out += _remaining(length) if length >= 128 else bytes((length,))
        out += head
        out += payload
        return mid

    def subscribe(self, filters: list[tuple[str, int]]) -> int:
        """3.8: SUBSCRIBE to (topic filter, max QoS) pairs; its mid."""
        mid = self._mid()
        body = _MID.pack(mid) + b"".join(_string(topic) + bytes((qos,)) for topic, qos in filters)
        self._out += b"\x82" + _remaining(len(body)) + body
        return mid

    def ping(self) -> None:
        self._out += b"\xc0\x00"

    def disconnect(self) -> None:
        self._out += b"\xe0\x00"
        self.connected = False

    def _mid(self) -> int:
        # 2.3.1: non-zero, and not one still in use.
        for _ in range(0xFFFF):
            self._next_mid = self._next_mid % 0xFFFF + 1
            if self._next_mid not in self.inflight:
                return self._next_mid
        raise RuntimeError("all 65535 MQTT packet ids are in flight")

    # -- packets in -----------------------------------------------------------
    def receive_data(self, data: bytes) -> list[Event]:
        """Take received bytes; the events of every packet they completed."""
        buf = self._in
        buf += data
        events: list[Event] = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            first = buf[pos]
            # The common case first: a PUBACK is always 40 02 <mid>.
            if first == 0x40 and buf[pos + 1] == 2:
                if end - pos < 4:
                    break
                mid = (buf[pos + 2] << 8) | buf[pos + 3]
                pos += 4
                if self.inflight.pop(mid, None) is not None:
                    events.append(Published(mid))
                continue
            length, size = 0, 0
            while True:
                if pos + 1 + size >= end:
                    length = -1  # the length itself is not complete yet
                    break
                byte = buf[pos + 1 + size]
                length |= (byte & 0x7F) << (7 * size)
                size += 1
                if not byte & 0x80:
                    break
                if size == 4:
                    raise MqttProtocolError("malformed remaining length")
            if length < 0:
                break
            if length > self.max_packet:
                raise MqttProtocolError(f"packet of {length} bytes is over the limit ({self.max_packet})")
            start = pos + 1 + size
            if end - start < length:
                break
            self._packet(first, bytes(buf[start:start + length]), events)
            pos = start + length
        del buf[:pos]
        return events

    def _packet(self, first: int, body: bytes, events: list[Event]) -> None:
        kind, flags = first >> 4, first & 0x0F
        if kind == PUBLISH:
            self._incoming(flags, body, events)
        elif kind in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            if len(body) != 2:
                raise MqttProtocolError(f"packet type {kind} with {len(body)} bytes, not 2")
            (mid,) = _MID.unpack(body)
            if kind == PUBACK or kind == PUBCOMP:
                if self.inflight.get(mid) == (1 if kind == PUBACK else 2):
                    del self.inflight[mid]
                    events.append(Published(mid))
            elif kind == PUBREC:
                self._out += _PUBACK.pack(0x62, 2, mid)  # 4.3.3: answer with PUBREL
            else:
                self._incoming_qos2.discard(mid)
                self._out += _PUBACK.pack(0x70, 2, mid)  # PUBCOMP
        elif kind == CONNACK:
            if len(body) != 2:
                raise MqttProtocolError("CONNACK must have 2 bytes")
            ack = Connack(body[1], bool(body[0] & 1))
            self.connected = ack.code == 0
            events.append(ack)
        elif kind == SUBACK:
            if len(body) < 3:
                raise MqttProtocolError("SUBACK too short")
            events.append(Suback(_MID.unpack(body[:2])[0], tuple(body[2:])))
        elif kind == PINGRESP:
            events.append(Pingresp())
        elif kind == 11:  # UNSUBACK: we never unsubscribe, so nothing waits for it
            return
        else:
            raise MqttProtocolError(f"unexpected packet type {kind} from the broker")

    def _incoming(self, flags: int, body: bytes, events: list[Event]) -> None:
        qos, retain = (flags >> 1) & 3, bool(flags & 1)
        if qos == 3 or len(body) < 2:
            raise MqttProtocolError("malformed PUBLISH")
        (size,) = _MID.unpack(body[:2])
        pos = 2 + size
        try:
            topic = body[2:pos].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MqttProtocolError("PUBLISH topic is not UTF-8") from exc
        if qos:
            if len(body) < pos + 2:
                raise MqttProtocolError("PUBLISH without its packet id")
            (mid,) = _MID.unpack(body[pos:pos + 2])
            pos += 2
            if qos == 1:
                self._out += _PUBACK.pack(0x40, 2, mid)
            else:
                self._out += _PUBACK.pack(0x50, 2, mid)  # PUBREC
                if mid in self._incoming_qos2:
                    return  # a resend of one delivered already (4.3.3 method B)
                self._incoming_qos2.add(mid)
        events.append(Message(topic, body[pos:], qos, retain))

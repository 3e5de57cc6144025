"""The device page's traffic ring and the write console's encoding: pure functions, no I/O."""

from __future__ import annotations

import itertools

import pytest

from gateway.traffic import Chunk, TrafficRing
from gateway.web.devicepage import MAX_WRITE, encode_write, is_read_only


def ticking() -> itertools.count[float]:
    return itertools.count(1000.0)


def test_chunks_are_kept_in_order_with_direction_and_time() -> None:
    clock = ticking()
    ring = TrafficRing(clock=lambda: next(clock))
    ring.record("rx", b"temp=1\n")
    ring.record("tx", b"\x01\x02")
    ring.record("rx", b"")  # nothing read: nothing kept
    assert list(ring) == [Chunk(1000.0, "rx", b"temp=1\n"), Chunk(1001.0, "tx", b"\x01\x02")]
    assert ring.size == 9 and len(ring) == 2
    assert ring.statistics() == {"chunks": 2, "bytes": 9, "rx": 7, "tx": 2, "evicted": 0}


def test_the_ring_is_bounded_in_bytes_oldest_out_first() -> None:
    ring = TrafficRing(max_bytes=10, max_chunks=100)
    for i in range(10):
        ring.record("rx", bytes([i]) * 3)
    kept = list(ring)
    assert ring.size <= 10 and sum(len(c.data) for c in kept) == ring.size
    assert [c.data[0] for c in kept] == [7, 8, 9]  # the newest
    assert ring.evicted == 7
    assert ring.statistics()["rx"] == 30  # what was recorded, not what is kept


def test_the_ring_is_bounded_in_chunks() -> None:
    ring = TrafficRing(max_bytes=1000, max_chunks=4)
    for i in range(100):
        ring.record("tx" if i % 2 else "rx", bytes([i]))
    assert [c.data for c in ring] == [bytes([96]), bytes([97]), bytes([98]), bytes([99])]


def test_a_chunk_longer_than_max_chunk_keeps_its_tail_and_says_how_much_was_cut() -> None:
    ring = TrafficRing(max_bytes=100, max_chunk=8)
    ring.record("rx", b"x" * 4)
    ring.record("rx", bytes(range(20)))
    last = list(ring)[-1]
    assert last.data == bytes(range(12, 20)) and last.cut == 12
    assert list(ring)[0].data == b"xxxx"  # not pushed out by the big one


def test_a_chunk_larger_than_the_whole_ring_is_cut_to_it() -> None:
    ring = TrafficRing(max_bytes=5, max_chunk=4096)
    ring.record("rx", b"0123456789")
    assert [c.data for c in ring] == [b"56789"] and ring.size == 5


def test_the_listener_sees_each_chunk_only_while_set() -> None:
    ring = TrafficRing()
    seen: list[Chunk] = []
    ring.record("rx", b"before")
    ring.listener = seen.append
    ring.record("rx", b"a")
    ring.record("tx", b"b")
    ring.listener = None
    ring.record("rx", b"after")
    assert [(c.direction, c.data) for c in seen] == [("rx", b"a"), ("tx", b"b")]


def test_clear_and_iteration_is_a_snapshot() -> None:
    ring = TrafficRing()
    ring.record("rx", b"a")
    snapshot = iter(ring)
    ring.record("rx", b"b")  # no "deque mutated during iteration"
    assert [c.data for c in snapshot] == [b"a"]
    ring.clear()
    assert list(ring) == [] and ring.size == 0


@pytest.mark.parametrize("bounds", [(0, 1, 1), (1, 0, 1), (1, 1, 0)])
def test_bounds_below_one_are_refused(bounds: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError):
        TrafficRing(*bounds[:2], max_chunk=bounds[2])


@pytest.mark.parametrize(("body", "expected"), [
    ({"data": "hello", "mode": "text", "eol": "lf"}, b"hello\n"),
    ({"data": "hello", "mode": "text", "eol": "crlf"}, b"hello\r\n"),
    ({"data": "hello", "mode": "text", "eol": "cr"}, b"hello\r"),
    ({"data": "hello", "eol": "none"}, b"hello"),
    ({"data": "°C"}, "°C".encode()),
    ({"data": "01 03 00 0a", "mode": "hex"}, b"\x01\x03\x00\x0a"),
    ({"data": "0103000A", "mode": "hex", "eol": "lf"}, b"\x01\x03\x00\x0a"),  # no line ending in hex
])
def test_console_writes_are_encoded(body: dict[str, str], expected: bytes) -> None:
    assert encode_write(body) == expected


@pytest.mark.parametrize(("body", "message"), [
    ({"data": "0g", "mode": "hex"}, "hex"),
    ({"data": "012", "mode": "hex"}, "hex"),
    ({"data": "", "mode": "text"}, "nothing"),
    ({"data": 5}, "string"),
    ({"data": "x", "mode": "base64"}, "mode"),
    ({"data": "x", "eol": "\n"}, "eol"),
    ({"data": "x" * (MAX_WRITE + 1)}, "at most"),
])
def test_malformed_console_writes_say_why(body: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_write(body)


class _Config:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


def test_read_only_from_either_key() -> None:
    assert not is_read_only(_Config())
    assert is_read_only(_Config(read_only=True))
    assert is_read_only(_Config(tcp_mode="read-only"))
    assert not is_read_only(_Config(tcp_mode="read-write", read_only=False))


def test_a_reused_buffer_is_copied_and_an_unknown_direction_refused() -> None:
    ring = TrafficRing()
    buf = bytearray(b"abc")
    ring.sent(buf)
    buf[0] = ord("z")  # the caller reuses its buffer: the ring kept a copy
    ring.received(b"def")
    assert [(c.direction, c.data) for c in ring] == [("tx", b"abc"), ("rx", b"def")]
    assert ring.recorded == {"rx": 3, "tx": 3}
    with pytest.raises(ValueError):
        ring.record("up", b"x")

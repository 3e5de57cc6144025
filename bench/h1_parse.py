"""Micro-benchmark for circuits.protocols.h1: parse a typical keep-alive GET, serialize a small response.

Run: .venv/bin/python bench/h1_parse.py
"""

from __future__ import annotations

import time

from circuits.protocols.h1 import NEED_DATA, PAUSED, RequestParser, serialize_head

REQUEST = (
    b"GET /api/v1/sensors/temperature?room=kitchen HTTP/1.1\r\n"
    b"Host: gateway.local:8080\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0\r\n"
    b"Accept: application/json, text/plain, */*\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate\r\n"
    b"Connection: keep-alive\r\n"
    b"Cache-Control: no-cache\r\n"
    b"\r\n"
)


def bench_parse(n: int) -> float:
    parser = RequestParser()
    receive, next_event, next_cycle = parser.receive_data, parser.next_event, parser.start_next_cycle
    start = time.perf_counter()
    for _ in range(n):
        receive(REQUEST)
        next_event()  # Request
        next_event()  # EndOfMessage
        next_cycle()
    elapsed = time.perf_counter() - start
    assert next_event() is NEED_DATA
    return n / elapsed


def bench_parse_pipelined(n: int, depth: int = 10) -> float:
    parser = RequestParser()
    data = REQUEST * depth
    start = time.perf_counter()
    for _ in range(n // depth):
        parser.receive_data(data)
        for _ in range(depth):
            parser.next_event()
            parser.next_event()
            assert parser.next_event() is PAUSED
            parser.start_next_cycle()
    return (n // depth) * depth / (time.perf_counter() - start)


def bench_serialize(n: int) -> float:
    body = b'{"temperature": 21.5}'
    start = time.perf_counter()
    for _ in range(n):
        serialize_head(
            200,
            None,
            [
                (b"Content-Type", b"application/json"),
                (b"Content-Length", b"%d" % len(body)),
                (b"Date", b"Sat, 21 Nov 2025 05:05:00 GMT"),
                (b"Server", b"circuits.web/4.0"),
            ],
        )
    return n / (time.perf_counter() - start)


def main() -> None:
    n = 200_000
    print(f"request size: {len(REQUEST)} bytes")
    print(f"parse GET (one per receive_data):  {bench_parse(n):>10,.0f} req/s")
    print(f"parse GET (10 pipelined per feed): {bench_parse_pipelined(n):>10,.0f} req/s")
    print(f"serialize small response head:     {bench_serialize(n):>10,.0f} resp/s")


if __name__ == "__main__":
    main()

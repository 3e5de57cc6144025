#!/usr/bin/env python3
"""WebSocket broadcast throughput: one circuits.web server, --clients connected clients.

The server (this process) runs Server + WebSocketsDispatcher. The clients
run in a child process (so they do not share the GIL with the server): they
connect, do the opening handshake, then one of them sends "go". The server
sends --messages messages of --size bytes to every client, either

  broadcast   with WebSocketsDispatcher.broadcast (the frame is built once), or
  write       with one ``write(sock, data)`` event per client and message,

in batches of --batch messages per loop pass. Each client counts bytes
until it has all frames (every frame has the same known length, so no
parsing is needed on the client side). Reported: messages delivered per
second = clients * messages / (time from "go" until the last client has
everything), and the server CPU per delivered message.

Usage: .venv/bin/python bench/ws_broadcast.py [--clients 100] [--messages 2000] [--size 64]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import selectors
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from circuits import Component, Event, Manager  # noqa: E402
from circuits.net.events import write  # noqa: E402
from circuits.protocols.websocket import (  # noqa: E402
    Opcode,
    build_frame,
    client_handshake_request,
    validate_server_response,
)
from circuits.web import Server  # noqa: E402
from circuits.web.websockets import WebSocketsDispatcher  # noqa: E402


class Broadcaster(Component):
    channel = "wsserver"

    def init(self, dispatcher: WebSocketsDispatcher, mode: str, messages: int, size: int, batch: int) -> None:
        self.dispatcher = dispatcher
        self.mode = mode
        self.messages = messages
        self.payload = b"m" * size
        self.batch = batch
        self.socks: list[Any] = []
        self.cpu = 0.0

    def connect(self, sock: Any, host: str, port: int) -> None:
        self.socks.append(sock)

    def read(self, sock: Any, data: Any) -> Any:
        if data != "go":
            return None
        return self._flood()

    def _flood(self) -> Any:
        start = _cpu()
        wall = time.perf_counter()
        sent = 0
        while sent < self.messages:
            for _ in range(min(self.batch, self.messages - sent)):
                if self.mode == "broadcast":
                    self.dispatcher.broadcast(self.payload)
                else:
                    for sock in self.socks:
                        self.fire(write(sock, self.payload))
                sent += 1
            yield None  # one loop pass: writes queued as events go out, sockets drain
        self.cpu = _cpu() - start
        self.wall = time.perf_counter() - wall
        self.fire(Event.create("flood_done"))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def clients(port: int, count: int, expect_bytes: int, result: Any) -> None:
    """Child process: connect ``count`` clients, trigger, count bytes."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        head, key = client_handshake_request(f"127.0.0.1:{port}", "/ws")
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(1)
        lines = data.decode("latin-1").split("\r\n")
        fields = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
        validate_server_response(int(lines[0].split()[1]), fields, key)
        s.setblocking(False)
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, [0])
    time.sleep(0.5)  # let the server see every connect before "go"
    start = time.perf_counter()
    socks[0].sendall(build_frame(Opcode.TEXT, b"go", masking_key=b"\x01\x02\x03\x04"))
    done = 0
    while done < count:
        for key, _ in sel.select(10):
            counter = key.data
            try:
                chunk = key.fileobj.recv(1 << 20)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            if not chunk:
                raise SystemExit("server closed a client")
            before = counter[0]
            counter[0] += len(chunk)
            if before < expect_bytes <= counter[0]:
                done += 1
    result.put((time.perf_counter() - start, _cpu()))
    for s in socks:
        s.close()


def run(mode: str, n_clients: int, messages: int, size: int, batch: int) -> dict[str, Any]:
    app = Manager()
    server = Server(("127.0.0.1", 0)).register(app)
    dispatcher = WebSocketsDispatcher("/ws", ping_interval=None, max_send_buffer=64 << 20).register(app)
    broadcaster = Broadcaster(dispatcher, mode, messages, size, batch).register(app)
    app.start()
    time.sleep(0.2)
    frame_len = len(build_frame(Opcode.BINARY, b"m" * size))
    queue: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=clients, args=(server.port, n_clients, messages * frame_len, queue))
    child.start()
    elapsed, client_cpu = queue.get(timeout=300)
    child.join(30)
    app.stop()
    app.join(5)
    delivered = n_clients * messages
    return {"mode": mode, "clients": n_clients, "messages": messages, "size": size,
            "seconds": round(elapsed, 3), "messages_per_s": round(delivered / elapsed),
            "server_cpu_us_per_message": round(broadcaster.cpu / delivered * 1e6, 2),
            "client_process_cpu_s": round(client_cpu, 2), "server_flood_wall_s": round(broadcaster.wall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--mode", choices=("broadcast", "write", "both"), default="both")
    args = parser.parse_args()
    modes = ("broadcast", "write") if args.mode == "both" else (args.mode,)
    for mode in modes:
        print(json.dumps(run(mode, args.clients, args.messages, args.size, args.batch)), flush=True)


if __name__ == "__main__":
    main()

"""RFC 2217: the gateway vs ser2net 4.x, each on its own socat pty pair, in one run.

    python bench/rfc2217_compare.py [--mb N] [--raw-mb N] [--echo N] [--bauds N]

Both are measured with the same clients:

* pyserial's ``rfc2217://`` client (ser2net needs ``?ign_set_control``: on a
  pty it never confirms SET-CONTROL and strict mode times out at open; the
  gateway is run in strict mode): open time, throughput device -> client
  (MiB/s, checked intact), 64-byte echo round trip p50/p99 (an echo thread
  on the device side), and the time ``s.baudrate = ...`` takes to be
  confirmed.  pyserial polls for answers every 50 ms, so the last is
  quantised; and its reader thread handles one byte at a time, so its
  throughput is the client's own: ``pyserial_client_ceiling_mib_per_s`` is
  that per-byte path alone, with no server;
* a raw Telnet client, to see the servers rather than pyserial:
  throughput (decoded, checked intact), the 64-byte echo, and the time
  from sending SET-BAUDRATE to its answer.

ser2net runs ``accepter: telnet(rfc2217),tcp,127.0.0.1,PORT``.  Prints one
JSON document with both sides and the ratios against the bars of issue 13
(throughput >= 2x ser2net, echo p50 <= ser2net's, baud change <= ser2net's).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import serial  # noqa: E402
from benchutil import drain  # noqa: E402
from serial.serialutil import iterbytes  # noqa: E402

from circuits.protocols.telnet import Data, TelnetDecoder  # noqa: E402
from gateway.demo import free_port  # noqa: E402
from gateway.socat import SocatPair  # noqa: E402

IAC, SB, SE, WILL, DO = 255, 250, 240, 251, 253
COM_PORT, SET_BAUDRATE = 44, 1


# -- the servers -------------------------------------------------------------------


def start_gateway(dev: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    config = work / "gateway.toml"
    config.write_text(f'[gateway]\nname = "bench"\nstate_dir = "{work}"\nlog_level = "info"\n\n'
                      f'[[device]]\nname = "dev"\nport = "{dev}"\nprofile = "raw"\n'
                      f'rfc2217 = "127.0.0.1:{port}"\n')
    # The journal goes to a file, not a pipe this process drains: a thread
    # here reading each log line would take the GIL from the client being
    # timed (ser2net writes none), which cost the gateway's baud changes.
    journal = work / "gateway.log"
    with journal.open("wb") as log_file:
        process = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "gateway", "run", "-c", str(config)],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file)
    deadline = time.monotonic() + 15
    while b"ready: 1/1" not in journal.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the gateway did not get ready: {journal.read_bytes()[-800:]!r}")
        time.sleep(0.01)
    return process


def start_ser2net(dev: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    config = work / "ser2net.yaml"
    config.write_text(f"connection: &con1\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
                      f"  connector: serialdev,{dev},115200n81,local\n  options:\n    kickolduser: false\n")
    process = subprocess.Popen(["ser2net", "-n", "-d", "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    drain(process)
    deadline = time.monotonic() + 10
    while True:  # ser2net says nothing when it listens: try to connect
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("ser2net did not listen") from None
            select.select([], [], [], 0.02)
    return process


# -- the device side ---------------------------------------------------------------


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        select.select([], [fd], [], 10)
        try:
            view = view[os.write(fd, view[:65536]):]
        except BlockingIOError:
            pass


class Echo(threading.Thread):
    """Writes back whatever the device side receives."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.running = True

    def run(self) -> None:
        while self.running:
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    write_all(self.fd, os.read(self.fd, 65536))
                except BlockingIOError:
                    pass


def discard(fd: int) -> None:
    while select.select([fd], [], [], 0)[0]:
        try:
            if not os.read(fd, 65536):
                return
        except BlockingIOError:
            return


# -- pyserial ---------------------------------------------------------------------


def with_pyserial(url: str, peer: int, mib: float, echoes: int, bauds: int) -> dict[str, Any]:
    started = time.perf_counter()
    port = serial.serial_for_url(url, baudrate=115200, timeout=10)
    result: dict[str, Any] = {"open_ms": round((time.perf_counter() - started) * 1000, 1)}
    try:
        payload = os.urandom(int(mib * (1 << 20)))
        writer = threading.Thread(target=write_all, args=(peer, payload))
        started = time.perf_counter()
        writer.start()
        digest, got = hashlib.sha256(), 0
        while got < len(payload):
            chunk = port.read(min(65536, len(payload) - got))
            if not chunk:
                break
            digest.update(chunk)
            got += len(chunk)
        elapsed = time.perf_counter() - started
        writer.join()
        result["mib_per_s"] = round(got / elapsed / (1 << 20), 2)
        result["intact"] = got == len(payload) and digest.digest() == hashlib.sha256(payload).digest()
        echo = Echo(peer)
        echo.start()
        message = bytes(range(64))
        times = []
        for _ in range(echoes):
            started = time.perf_counter()
            port.write(message)
            answer = port.read(64)
            times.append(time.perf_counter() - started)
            if answer != message:
                result["echo_intact"] = False
                break
        echo.running = False
        echo.join()
        times.sort()
        result["echo_p50_us"] = round(times[len(times) // 2] * 1e6)
        result["echo_p99_us"] = round(times[int(len(times) * 0.99)] * 1e6)
        changes = []
        for i in range(bauds):
            started = time.perf_counter()
            port.baudrate = 9600 if i % 2 == 0 else 115200
            changes.append(time.perf_counter() - started)
        result["baud_change_ms"] = round(statistics.median(changes) * 1000, 1)
    finally:
        port.close()
    return result


def pyserial_ceiling(size: int = 1 << 18) -> float:
    """MiB/s of pyserial's rfc2217 client with no server at all: its reader
    loop's per-byte path (``iterbytes`` + ``Queue.put``, no IAC in the
    data) feeding ``read()`` (``Queue.get`` per byte) in another thread.
    Both servers' pyserial throughput at this figure means the client is
    the bottleneck, not the server."""
    data = os.urandom(size).replace(b"\xff", b"\x00")
    buffer: queue.Queue[bytes] = queue.Queue()

    def reader() -> None:
        for i in range(0, size, 1024):  # pyserial receives 1024 bytes at a time
            for byte in iterbytes(data[i:i + 1024]):
                buffer.put(byte)

    thread = threading.Thread(target=reader)
    started = time.perf_counter()
    thread.start()
    got = bytearray()
    while len(got) < size:
        got += buffer.get(True, 10)
    thread.join()
    return round(size / (time.perf_counter() - started) / (1 << 20), 2)


# -- a raw Telnet client ------------------------------------------------------------


def raw_client(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(bytes([IAC, WILL, COM_PORT, IAC, DO, COM_PORT, IAC, WILL, 0, IAC, DO, 0]))
    sock.settimeout(0.3)
    try:  # let the negotiation settle
        while sock.recv(65536):
            pass
    except TimeoutError:
        pass
    sock.settimeout(10)
    return sock


def with_raw_client(port: int, peer: int, mib: float, echoes: int, bauds: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    sock = raw_client(port)
    try:
        baud_answer = bytes([IAC, SB, COM_PORT, SET_BAUDRATE + 100])
        changes = []
        for i in range(bauds):
            value = struct.pack("!I", 9600 if i % 2 == 0 else 115200)
            started = time.perf_counter()
            sock.sendall(bytes([IAC, SB, COM_PORT, SET_BAUDRATE]) + value + bytes([IAC, SE]))
            seen = b""
            while baud_answer not in seen:
                chunk = sock.recv(4096)
                if not chunk:
                    raise RuntimeError("closed while changing the baud rate")
                seen += chunk
            changes.append(time.perf_counter() - started)
        result["baud_change_us"] = round(statistics.median(changes) * 1e6)
        echo = Echo(peer)
        echo.start()
        message = bytes(range(64))
        times = []
        for _ in range(echoes):
            started = time.perf_counter()
            sock.sendall(message)
            seen = b""
            while len(seen) < len(message):
                seen += sock.recv(4096)
            times.append(time.perf_counter() - started)
        echo.running = False
        echo.join()
        times.sort()
        result["echo_p50_us"] = round(times[len(times) // 2] * 1e6)
        result["echo_p99_us"] = round(times[int(len(times) * 0.99)] * 1e6)
        # Back to 115200 for the stream (the pty does not care, ser2net's
        # timing might), then device -> client.
        discard(peer)
        payload = os.urandom(int(mib * (1 << 20)))
        decoder = TelnetDecoder()
        digest, got = hashlib.sha256(), 0
        writer = threading.Thread(target=write_all, args=(peer, payload))
        started = time.perf_counter()
        writer.start()
        while got < len(payload):
            chunk = sock.recv(1 << 18)
            if not chunk:
                break
            for event in decoder.receive_data(chunk):
                if isinstance(event, Data):
                    digest.update(event.data)
                    got += len(event.data)
        elapsed = time.perf_counter() - started
        writer.join()
        result["mib_per_s"] = round(got / elapsed / (1 << 20), 2)
        result["intact"] = got == len(payload) and digest.digest() == hashlib.sha256(payload).digest()
    finally:
        sock.close()
    return result


# -- the run -----------------------------------------------------------------------------


def measure(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    pair = SocatPair(work, name).start()
    port = free_port(0)
    server = (start_gateway if name == "gateway" else start_ser2net)(pair.dev, port, work)
    peer = pair.open_peer()
    try:
        url = f"rfc2217://127.0.0.1:{port}" + ("?ign_set_control" if name == "ser2net" else "")
        result = {"pyserial": with_pyserial(url, peer, args.mb, args.echo, args.bauds)}
        discard(peer)
        time.sleep(0.5)  # pyserial's close sleeps 0.3 s "to give the server time"; so do we
        result["raw"] = with_raw_client(port, peer, args.raw_mb, args.echo, args.bauds)
        return result
    finally:
        os.close(peer)
        server.terminate()
        server.wait(10)
        pair.unplug()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=2, help="MiB device -> pyserial client")
    parser.add_argument("--raw-mb", type=float, default=16, help="MiB device -> raw Telnet client")
    parser.add_argument("--echo", type=int, default=300, help="64-byte echoes")
    parser.add_argument("--bauds", type=int, default=10, help="baud rate changes")
    args = parser.parse_args()
    if shutil.which("ser2net") is None:
        print("ser2net is not installed", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="rfc2217bench-"))
    try:
        results = {name: measure(name, args, work) for name in ("gateway", "ser2net")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours, theirs = results["gateway"], results["ser2net"]
    results["pyserial_client_ceiling_mib_per_s"] = pyserial_ceiling()

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a and b else None

    results["ratios"] = {
        "pyserial_throughput_vs_ser2net": ratio(ours["pyserial"]["mib_per_s"], theirs["pyserial"]["mib_per_s"]),
        "raw_throughput_vs_ser2net": ratio(ours["raw"]["mib_per_s"], theirs["raw"]["mib_per_s"]),
        "raw_echo_p50_vs_ser2net": ratio(ours["raw"]["echo_p50_us"], theirs["raw"]["echo_p50_us"]),
        "echo_p50_vs_ser2net": ratio(ours["pyserial"]["echo_p50_us"], theirs["pyserial"]["echo_p50_us"]),
        "pyserial_baud_change_vs_ser2net": ratio(ours["pyserial"]["baud_change_ms"],
                                                 theirs["pyserial"]["baud_change_ms"]),
        "raw_baud_change_vs_ser2net": ratio(ours["raw"]["baud_change_us"], theirs["raw"]["baud_change_us"]),
    }
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

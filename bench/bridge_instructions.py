#!/usr/bin/env python3
"""Instructions the gateway's raw bridge executes per 64-byte echo (callgrind).

Wall-clock round trips on 2 shared cores move by tens of percent from run
to run; an instruction count does not, so this is the figure a change to
the echo's path (loop pass, transports, bridge) is judged by. The gateway
(``bench/gateway_bridge.py serve``: one raw device on a socat pair, bridged
to TCP) runs under ``valgrind --tool=callgrind``; a TCP client sends N
64-byte messages one at a time, an echo on the device side sends each
back, and the run is repeated with 2N. The difference of the two totals,
divided by N, is the gateway's user-space instructions per echo, with
start-up and shutdown cancelled out.

Usage: PY bench/bridge_instructions.py [-n 3000]   (needs valgrind; under flock /work/wt/.bench.lock)
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.demo import free_port  # noqa: E402
from gateway.socat import SocatPair  # noqa: E402

MESSAGE = bytes(range(64))
WARM_UP = 50


def echo_forever(fd: int, stop: threading.Event) -> None:
    while not stop.is_set():
        if select.select([fd], [], [], 0.1)[0]:
            try:
                os.write(fd, os.read(fd, 4096))
            except (BlockingIOError, OSError):
                pass  # OSError: the pty went away at the end of the run


def round_trips(port: int, n: int) -> None:
    deadline = time.monotonic() + 120  # start-up under valgrind takes a while
    while True:
        try:
            client = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with client:
        for _ in range(n):
            client.sendall(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(client.recv(4096))


def instructions(n: int) -> int:
    """Total instructions of one gateway run that echoes WARM_UP + n messages."""
    work = Path(tempfile.mkdtemp(prefix="bridge-ir-"))
    pair = SocatPair(work, "dev").start()
    port = free_port(0)
    gateway = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={work / 'callgrind.out'}", sys.executable,
         str(ROOT / "bench" / "gateway_bridge.py"), "serve", str(pair.dev), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=str(ROOT))
    peer = pair.open_peer()
    stop = threading.Event()
    threading.Thread(target=echo_forever, args=(peer, stop), daemon=True).start()
    try:
        round_trips(port, WARM_UP + n)
        gateway.send_signal(signal.SIGTERM)
        _, err = gateway.communicate(timeout=120)
    finally:
        stop.set()
        if gateway.poll() is None:
            gateway.kill()
        pair.unplug()
        os.close(peer)
    found = re.search(r"refs:\s*([\d,]+)", err.decode(errors="replace"))
    if found is None:
        raise SystemExit(f"no callgrind total in the gateway's output:\n{err.decode(errors='replace')[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=3000, help="echoes of the shorter run (the longer does 2n)")
    args = parser.parse_args()
    once, twice = instructions(args.n), instructions(2 * args.n)
    print(f'{{"benchmark": "bridge_instructions", "echoes": {args.n}, '
          f'"instructions_per_echo": {round((twice - once) / args.n)}}}')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

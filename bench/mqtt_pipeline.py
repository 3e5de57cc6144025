#!/usr/bin/env python3
"""MQTT uplink benchmark: readings/s through spool -> QoS 1 -> PUBACK, zero loss.

Starts its own mosquitto on a free port and a ``mosquitto_sub`` (a separate
process, so counting costs the gateway no CPU), then runs an MqttUplink in
this process fed as fast as the loop takes readings (the backlog is kept
under ``--backlog`` so the spool stays realistic). Time runs from the first
reading to the last PUBACK. Afterwards every ``seq`` 1..N must have reached
the subscriber, or the run fails. Prints one JSON line.

Usage: PY bench/mqtt_pipeline.py [-n 50000] [--qos 1] [--window 100] [--synchronous FULL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchutil import start_broker, start_subscriber  # noqa: E402

from circuits.core import Component, Event, handler  # noqa: E402
from gateway.config import MqttConfig  # noqa: E402
from gateway.demo import free_port as _free_port  # noqa: E402
from gateway.mqtt import MqttUplink, reading  # noqa: E402

BATCH = 200  # readings fired per loop pass (a busy gateway's serial ports in one pass)


class produce(Event):
    pass


class Producer(Component):
    channel = "gateway"

    def init(self, uplink: MqttUplink, n: int, backlog: int) -> None:
        self.uplink = uplink
        self.n = n
        self.backlog = backlog
        self.seq = 0
        self.t0 = 0.0
        self.t1 = 0.0

    @handler("mqtt_connected")
    def _go(self) -> None:
        if self.seq == 0:
            self.t0 = time.perf_counter()
            self.fire(produce())
            # The uplink hears its acks by a call (no mqtt_published events):
            # look at its count every millisecond.
            self.loop.call_later(0.001, self._check_done)

    def produce(self) -> None:
        # Keep at most `backlog` readings unacknowledged, like a gateway whose
        # broker keeps up; a slow broker would just grow the spool.
        room = self.backlog - (self.seq - self.uplink.acked)
        for _ in range(min(BATCH, room, self.n - self.seq)):
            self.seq += 1
            self.fire(reading({"device": f"dev{self.seq % 4}", "seq": self.seq, "ts": 1.7e9 + self.seq,
                               "fields": {"temperature": 21.5, "humidity": 40 + self.seq % 7}}))
        if self.seq < self.n:
            self.fire(produce())

    def _check_done(self) -> None:
        if self.uplink.acked >= self.n and not self.t1:
            self.t1 = time.perf_counter()
            self.root.stop()
            return
        self.loop.call_later(0.001, self._check_done)


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=50000)
    parser.add_argument("--qos", type=int, default=1)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--synchronous", default="FULL", choices=["OFF", "NORMAL", "FULL"])
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mqtt-bench-"))
    port = _free_port(0)
    received = work / "received.jsonl"
    broker = sub = None
    try:
        broker = start_broker(work, port)
        sub = start_subscriber(port, "bench/gw/+/reading", args.n, received)
        config = MqttConfig(host="127.0.0.1", port=port, topic_prefix="bench/gw", qos=args.qos,
                            client_id="bench-gw", reconnect_min=0.1, reconnect_max=1.0)
        app = Component(channel="gateway")
        uplink = MqttUplink(config, "bench", work / "state", window=args.window,
                            synchronous=args.synchronous).register(app)
        producer = Producer(uplink, args.n, args.backlog).register(app)
        cpu0 = time.process_time()
        app.run()
        cpu = time.process_time() - cpu0
        sub.wait(30)
        seqs = [json.loads(line)["seq"] for line in received.read_bytes().splitlines()
                if line.startswith(b"{")]
        missing = set(range(1, args.n + 1)) - set(seqs)
        elapsed = producer.t1 - producer.t0
        stats = uplink.statistics()
        result = {
            "benchmark": "mqtt_pipeline", "readings": args.n, "qos": args.qos, "window": args.window,
            "synchronous": args.synchronous, "seconds": round(elapsed, 3),
            "readings_per_s": round(args.n / elapsed), "cpu_s_in_gateway": round(cpu, 3),
            "spool_commits": stats["spool"]["commits"], "received": len(seqs), "missing": len(missing),
            "duplicates": len(seqs) - len(set(seqs)), "dropped": stats["dropped"],
        }
        print(json.dumps(result))
        if missing or stats["dropped"]:
            raise SystemExit(f"LOSS: {len(missing)} readings never arrived")
        return result
    finally:
        for process in (sub, broker):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

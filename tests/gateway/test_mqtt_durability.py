"""Store-and-forward under failure: the will, a broker restart, SIGKILL while the broker is down.

Readings carry ``seq`` 1, 2, 3...: "nothing lost" means the received
sequence numbers have no gap; QoS 1 allows duplicates (a resend whose
PUBACK was lost), so order is checked on first arrivals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

PREFIX = "test/gw"
READINGS = f"{PREFIX}/dev/reading"


@pytest.fixture
def cleanup() -> Any:
    """Things to stop at the end whatever happens (brokers, subscribers, processes)."""
    stack: list[Any] = []
    yield stack.append
    for thing in reversed(stack):
        if isinstance(thing, fx.GatewayProcess):
            if thing.process.poll() is None:
                thing.kill()
        else:
            (thing.close if isinstance(thing, fx.Subscriber) else thing.stop)()


def seqs_of(sub: Any) -> list[int]:
    return [json.loads(m.payload)["seq"] for m in sub.on(READINGS)]


def first_arrivals(seqs: list[int]) -> list[int]:
    seen: set[int] = set()
    return [s for s in seqs if not (s in seen or seen.add(s))]


def test_the_will_says_offline_when_the_gateway_is_killed(tmp_path: Path, cleanup: Any) -> None:
    broker = fx.Broker(tmp_path / "broker").start()
    cleanup(broker)
    sub = fx.Subscriber(broker.port, [f"{PREFIX}/status"])
    cleanup(sub)
    gateway = fx.start_gateway(broker.port, tmp_path / "state")
    cleanup(gateway)
    assert sub.wait_for(lambda ms: any(m.payload == b"online" for m in ms))
    gateway.kill()  # SIGKILL: no DISCONNECT, so the broker publishes the will
    assert sub.wait_for(lambda ms: ms[-1].payload == b"offline")
    late = fx.Subscriber(broker.port, [f"{PREFIX}/status"])
    cleanup(late)
    assert late.wait_for(lambda ms: len(ms) >= 1)
    assert (late.messages[0].payload, late.messages[0].retain) == (b"offline", True)


def test_a_broker_restart_mid_stream_loses_nothing(tmp_path: Path, cleanup: Any) -> None:
    # Persistence only keeps the *test subscriber's* session (and the
    # messages queued for it) across the restart; the gateway's session is
    # clean and its spool is what resends.
    broker = fx.Broker(tmp_path / "broker", persistence=True).start()
    cleanup(broker)
    sub = fx.Subscriber(broker.port, [READINGS], client_id="durable-sub", persistent=True)
    cleanup(sub)
    total = 4000
    generators: list[Any] = []

    def generator(uplink: Any) -> Any:
        generators.append(fx.Generator(uplink, total, 0.002, report=False))
        return generators[-1]

    with fx.running_uplink(fx.config(broker.port), tmp_path / "state", generator) as (app, uplink, probe):
        gen = generators[0]
        assert sub.wait_for(lambda ms: len(ms) >= 500)
        broker.stop()
        stopped_at = gen.seq
        # "A while": the gateway keeps accepting readings while the broker is away.
        assert probe.wait_until(lambda: gen.seq >= stopped_at + 1000 and not uplink.connected)
        assert uplink.spool.depth > 0
        broker.start()
        assert probe.wait_until(lambda: gen.seq == total and uplink.spool.depth == 0, timeout=30)
        arrived = sub.wait_for(lambda ms: len(set(seqs_of(sub))) >= total, timeout=30)
        stats = uplink.statistics()
        missing = sorted(set(range(1, total + 1)) - set(seqs_of(sub)))
        # Which readings are missing, and where they were, says whether the
        # spool or the broker's session lost them.
        assert arrived, f"missing {len(missing)}: {missing[:20]}... stopped at {stopped_at}; {stats}"
    seqs = seqs_of(sub)
    assert sorted(set(seqs)) == list(range(1, total + 1))  # no gap
    assert first_arrivals(seqs) == list(range(1, total + 1))  # in order
    assert stats["dropped"] == 0
    assert stats["client"]["connections"] >= 2


def test_sigkill_while_the_broker_is_down_delivers_every_accepted_reading(tmp_path: Path, cleanup: Any) -> None:
    port = fx.free_port()  # no broker yet
    state = tmp_path / "state"
    gateway = fx.start_gateway(port, state, generate=10**9, interval=0.002)
    cleanup(gateway)
    gateway.wait_stats(lambda s: s["accepted"] >= 1500)
    gateway.kill()
    assert gateway.process.stdout is not None
    for line in gateway.process.stdout:  # reports written before the kill
        gateway.stats.append(json.loads(line))
    accepted = gateway.stats[-1]["accepted"]
    assert gateway.stats[-1]["acked"] == 0

    broker = fx.Broker(tmp_path / "broker", port).start()
    cleanup(broker)
    sub = fx.Subscriber(port, [READINGS])
    cleanup(sub)
    restarted = fx.start_gateway(port, state)  # generates nothing: only the spool
    cleanup(restarted)
    assert sub.wait_for(lambda ms: len(set(seqs_of(sub))) >= accepted, timeout=30)
    drained = restarted.wait_stats(lambda s: s["spool_depth"] == 0 and s["connected"])
    seqs = seqs_of(sub)
    # Everything reported accepted arrived; anything committed after the last
    # report did too (still no gap), and nothing uncommitted can be there.
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))
    assert max(seqs) >= accepted
    assert first_arrivals(seqs) == sorted(set(seqs))
    assert drained["dropped"] == 0

"""Counters survive restarts: they are written with the sequence numbers
(gateway.seqstore), exactly at a clean stop and at most a block behind after
a crash; a restarted gateway continues them in /metrics.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from pathlib import Path

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest

from gateway.config import parse_config
from gateway.demo import free_port
from gateway.readings import check_profile
from gateway.seqstore import SeqStore
from gateway.socat import SocatPair

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(90)


def scrape(port: int, sample: str) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT).read().decode()
    values = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(sample + " ")]
    assert len(values) == 1, f"{sample} not in /metrics"
    return int(values[0])


def test_readings_and_parse_errors_continue_after_a_restart(tmp_path: Path, pair: SocatPair) -> None:
    web_port = free_port(0)
    text = "\n".join([
        "[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(tmp_path / 'state'))}",
        "[web]", f'listen = "127.0.0.1:{web_port}"',
        "[[device]]", 'name = "dev"', f"port = {json.dumps(str(pair.dev))}", 'profile = "json"', ""])
    config = parse_config(text, "<test>", check_profile=check_profile)
    readings = 'gateway_readings_total{device="dev"}'
    errors = 'gateway_parse_errors_total{device="dev"}'
    for run, lines in enumerate([b'{"t": 1}\n{"t": 2}\nnot json\n{"t": 3}\n', b'{"t": 4}\n']):
        with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
            bus.wait("device_status", lambda d, status, detail: status == "online")
            if run == 1:  # before anything new arrived: what the first run counted
                assert scrape(web_port, readings) == 3 and scrape(web_port, errors) == 1
            peer = pair.open_peer()
            try:
                os.write(peer, lines)
                bus.wait("reading", count=lines.count(b"{"))
            finally:
                os.close(peer)
            stats = gateway.links["dev"].readings.stats
            assert (stats.successes, stats.failures) == ((3, 1) if run == 0 else (4, 1))
            assert scrape(web_port, readings) == stats.successes


def test_a_crash_loses_at_most_a_block_of_counts(tmp_path: Path) -> None:
    counted = {"readings": 0}
    store = SeqStore(tmp_path, block=10)
    store.count_with(lambda: {"dev": dict(counted)})
    for _ in range(25):
        counted["readings"] += 1
        store.next("dev")
    # No close(): as after SIGKILL, only committed reservations count.
    reopened = SeqStore(tmp_path, block=10)
    saved = reopened.saved_counters("dev")["readings"]
    assert 25 - 10 <= saved <= 25
    assert reopened.next("dev") > 25  # and numbers never repeat
    reopened.close()


def test_a_clean_close_saves_the_exact_counts(tmp_path: Path) -> None:
    store = SeqStore(tmp_path, block=1000)
    store.count_with(lambda: {"dev": {"readings": 7, "reopens_idle": 2}, "other": {"readings": 0}})
    store.next("dev")
    store.close()
    reopened = SeqStore(tmp_path)
    assert reopened.saved_counters("dev") == {"readings": 7, "reopens_idle": 2}
    assert reopened.saved_counters("other") == {"readings": 0}
    assert reopened.saved_counters("new") == {}
    reopened.close()


def test_a_failing_counter_source_does_not_cost_the_sequence_numbers(tmp_path: Path) -> None:
    def broken() -> dict[str, dict[str, int]]:
        raise AttributeError("links")

    store = SeqStore(tmp_path, block=1000)
    store.count_with(broken)
    assert [store.next("dev") for _ in range(3)] == [1, 2, 3]
    store.close()
    reopened = SeqStore(tmp_path)
    assert reopened.next("dev") == 4  # the exact last number was saved at close
    reopened.close()


def test_sequence_blocks_are_not_reserved_behind_the_shared_disk_writer(tmp_path: Path, pair: SocatPair) -> None:
    # The spool and history commit on gateway.writer (an fsync per batch); the
    # sequence store has a thread of its own, so a device that uses up its
    # half block never waits behind them. Here the shared writer is stuck for
    # the whole test: every reading still gets its number.
    text = "\n".join([
        "[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(tmp_path / 'state'))}",
        "[[device]]", 'name = "dev"', f"port = {json.dumps(str(pair.dev))}", 'profile = "json"', ""])
    config = parse_config(text, "<test>", check_profile=check_profile)
    (tmp_path / "state").mkdir()
    gate = threading.Event()
    with fx.running_gateway(config, TIMEOUT, seqstore=SeqStore(tmp_path / "state", block=4)) as (gateway, bus):
        try:
            gateway.writer.submit(gateway.loop, lambda: gate.wait(60), lambda future: None)
            bus.wait("device_status", lambda d, status, detail: status == "online")
            peer = pair.open_peer()
            try:
                os.write(peer, b"".join(b'{"t": %d}\n' % i for i in range(20)))
                bus.wait("reading", count=20)
            finally:
                os.close(peer)
            assert [r["seq"] for r in bus.readings("dev")] == list(range(1, 21))
            assert gateway.seqs.statistics()["reservations"] >= 5
        finally:
            gate.set()

"""``idle_reopen`` against a running gateway on a socat pty that goes silent:
the port is closed and reopened (status events, the counter, /metrics), the
warning is logged once per silent spell, each fruitless reopen doubles the
silence needed for the next one (a quiet port is not hammered), data
restores the configured value, and a TCP client stays connected throughout.
Durations are short here; nothing asserts how fast anything happened.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import urllib.request
from pathlib import Path

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
from mqtt_fixtures import free_port

from gateway.config import ConfigError, parse_config
from gateway.config.fields import parse_duration
from gateway.readings import check_profile
from gateway.socat import SocatPair

TIMEOUT = 10.0
pytestmark = pytest.mark.timeout(90)


def test_a_silent_port_is_reopened_with_growing_patience_and_data_resets_it(
        tmp_path: Path, pair: SocatPair, caplog: pytest.LogCaptureFixture) -> None:
    port, web_port = free_port(0), free_port(0)
    text = "\n".join([
        "[gateway]", 'name = "test"', f"state_dir = {json.dumps(str(tmp_path))}",
        "[web]", f'listen = "127.0.0.1:{web_port}"',
        "[[device]]", 'name = "dev"', f"port = {json.dumps(str(pair.dev))}", 'profile = "keyvalue"',
        f'tcp = "127.0.0.1:{port}"', 'idle_reopen = "300ms"', ""])
    config = parse_config(text, "<test>", check_profile=check_profile)
    caplog.set_level(logging.DEBUG, logger="gateway.device")
    with fx.running_gateway(config, TIMEOUT) as (gateway, bus):
        link = gateway.links["dev"]
        bus.wait("device_status", lambda d, status, detail: status == "online")
        client = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        local = client.getsockname()[1]
        bus.wait("client_connected", lambda d, peer, n: peer[1] == local)
        # Silence: two reopens, each an offline/online pair of status events.
        bus.wait("device_status", lambda d, status, detail: status == "offline" and "no data" in detail,
                 count=2)
        bus.wait("device_status", lambda d, status, detail: status == "online", count=3)
        # Patience doubles per fruitless reopen: 0.3 -> 0.6 -> 1.2 ... (read the
        # pair again should a reopen come between the two reads).
        while True:
            count, limit = link.reopens["idle"], link.idle_limit
            if link.reopens["idle"] == count:
                break
        assert count >= 2
        assert limit == pytest.approx(0.3 * 2 ** count)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "idle_reopen" in r.getMessage()]
        assert len(warnings) == 1  # logged once for the whole silent spell
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=TIMEOUT).read().decode()
        sample = 'gateway_device_reopens_total{device="dev",reason="idle"} '
        scraped = [line for line in metrics.splitlines() if line.startswith(sample)]
        assert len(scraped) == 1 and int(scraped[0][len(sample):]) >= count
        # The device talks again (on the reopened port): a reading, and the patience is back to 0.3 s.
        bus.wait_until(lambda: link.online, "the port open again")
        peer = pair.open_peer()
        try:
            # A line written while a reopen has the port closed may be lost
            # with it: write again until one arrives.
            for _ in range(5):
                os.write(peer, b"t=21.5\n")
                try:
                    bus.wait("reading", lambda item: item["device"] == "dev", timeout=3.0)
                    break
                except AssertionError:
                    continue
            else:
                raise AssertionError("no reading after the reopens")
        finally:
            os.close(peer)
        assert link.idle_limit == pytest.approx(0.3)
        # The TCP client never noticed the reopens.
        assert client.recv(7) == b"t=21.5\n"
        assert any("data again" in r.getMessage() for r in caplog.records)
        client.close()


@pytest.mark.parametrize(("value", "seconds"), [("30s", 30.0), ("250ms", 0.25), ("5m", 300.0), ("1h", 3600.0),
                                                (12, 12.0), (0.5, 0.5), ("1.5s", 1.5)])
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ['"30"', '"soon"', "0", '"-1s"', '"2d"', "true"])
def test_bad_idle_reopen_is_reported_with_its_line(value: str) -> None:
    text = f'[gateway]\nname = "t"\n[[device]]\nname = "d"\nport = "/dev/ttyX"\nprofile = "raw"\nidle_reopen = {value}\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, "<t>", check_profile=check_profile)
    assert '<t>:7: [device "d"] idle_reopen: must be' in str(info.value)

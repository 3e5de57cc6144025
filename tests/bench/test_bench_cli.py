"""``python -m circuits.bench`` run as a program: options and output format."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from circuits.bench import main, run_latency, run_speed

ROOT = Path(__file__).resolve().parents[2]
SPEED = re.compile(r"Total Events: (\d+) \((\d+)/s after (\d+\.\d\d)s\)")
LATENCY = re.compile(r"Latency: (\d+\.\d\d) us \(min (\d+\.\d\d) us, max (\d+\.\d\d) us\) "
                     r"over (\d+) events in (\d+\.\d\d)s")


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "circuits.bench", *args], env=env, capture_output=True,
                          text=True, timeout=30)


def test_speed_by_events():
    done = bench("-m", "speed", "-e", "100000")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["Setting up Speed Test...", "Running for 100000 events..."]
    match = SPEED.fullmatch(lines[2])
    assert match and int(match.group(1)) == 100000 and int(match.group(2)) > 0
    assert len(lines) == 3


def test_latency_quiet_by_time():
    done = bench("-m", "latency", "-t", "0.2", "-q")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    match = LATENCY.fullmatch(lines[0])
    assert match, lines
    mean, low, high = (float(match.group(i)) for i in (1, 2, 3))
    assert low <= mean <= high and int(match.group(4)) > 0
    assert 0.15 <= float(match.group(5)) < 5


def test_profile_prints_stats():
    done = bench("-q", "-p", "-e", "2000")
    assert done.returncode == 0, done.stderr
    assert "Ordered by: cumulative time" in done.stdout
    assert SPEED.fullmatch(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("args", [["-m", "fastest"], ["-e", "0"], ["-t", "-1"]])
def test_bad_options_are_usage_errors(args):
    done = bench(*args)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_in_process_api():
    assert run_speed(events=500, concurrency=4).events == 500
    result = run_latency(events=300)
    assert result.events == 300 and result.latency_min <= result.latency_mean <= result.latency_max
    out = io.StringIO()
    assert main(["-q", "-e", "10"], out=out) == 0
    assert SPEED.fullmatch(out.getvalue().strip())

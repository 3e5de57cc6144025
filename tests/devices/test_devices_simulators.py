"""Simulators: deterministic, framed, and parsed by their own profile."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import PROFILES, ParseError, garbage, get_profile, make_framer, make_simulator

NAMES = sorted(PROFILES)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_output_parses_with_own_profile(name: str, seed: int) -> None:
    profile = get_profile(name)
    sim = make_simulator(profile, seed=seed)
    framer = make_framer(sim.framing, 4096)
    parse = profile.parser()
    messages = framer.feed(sim.take(50)).messages
    if not profile.bridge_only:
        assert len(messages) == 50
    for message in messages:
        fields = parse(message)
        json.dumps(fields, allow_nan=False)  # strictly JSON-safe
    assert framer.statistics()["buffered"] == 0


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_per_seed(name: str) -> None:
    profile = get_profile(name)
    assert make_simulator(profile, seed=3).take(20) == make_simulator(profile, seed=3).take(20)
    assert make_simulator(profile, seed=3).take(20) != make_simulator(profile, seed=4).take(20)


@pytest.mark.parametrize("framing", ["line", "slip"])
def test_other_framing(framing: str) -> None:
    sim = make_simulator(get_profile("json"), seed=1, framing=framing)  # type: ignore[arg-type]
    framer = make_framer(sim.framing, 4096)
    assert [json.loads(m) for m in framer.feed(sim.take(5)).messages]


def test_csv_simulator_follows_options() -> None:
    options = {"columns": ["a", "b", "c", "d"], "delimiter": ";"}
    sim = make_simulator(get_profile("csv"), options, seed=2)
    fields = get_profile("csv").parser(options)(sim.next_payload())
    assert list(fields) == ["a", "b", "c", "d"]
    assert all(isinstance(v, float) for v in fields.values())


def test_keyvalue_simulator_drifts_plausibly() -> None:
    sim = make_simulator(get_profile("keyvalue"), seed=5)
    parse = get_profile("keyvalue").parser()
    temps = [parse(sim.next_payload())["temp"] for _ in range(500)]
    assert all(isinstance(t, float) and 10 < t < 32 for t in temps)
    assert len(set(temps)) > 10


def test_nmea_simulator_moves_and_loses_fix_sometimes() -> None:
    sim = make_simulator(get_profile("nmea"), seed=11)
    parse = get_profile("nmea").parser()
    readings = [parse(sim.next_payload()) for _ in range(2000)]
    assert {r["sentence"] for r in readings} == {"GGA", "RMC"}
    fixes = [r for r in readings if r["fix"]]
    assert 0 < len(fixes) < len(readings)
    assert len({(r["lat"], r["lon"]) for r in fixes}) > 100
    assert all(r["lat"] is None for r in readings if not r["fix"])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_garbage_is_counted_never_fatal(seed: int) -> None:
    rng = random.Random(seed)
    profile = get_profile("nmea")
    sim = make_simulator(profile, seed=seed)
    framer = make_framer("line", 200)
    parse = profile.parser()
    stream = b"".join(
        [
            sim.take(3),
            garbage.noise(rng, 300),
            b"\n",
            garbage.overlong_line(1000),
            garbage.noise_line(rng, 20),
            garbage.corrupt(rng, sim.next_message()),
            garbage.truncate(rng, sim.next_message()),
            sim.take(3),
        ]
    )
    good = bad = 0
    messages, dropped = framer.feed(stream)
    for message in messages:
        try:
            parse(message)
            good += 1
        except ParseError:
            bad += 1
    assert good >= 6  # the clean sentences before and after the noise
    assert bad >= 2  # the noise line and the corrupted sentence at least
    assert "oversize" in {drop.reason for drop in dropped} and framer.statistics()["oversize"] >= 1


def test_garbage_helpers() -> None:
    rng = random.Random(0)
    assert garbage.overlong_line(5) == b"xxxxx\r\n"
    assert b"\n" not in garbage.noise_line(rng, 100)[:-1]
    message = b"$GPGGA,1*00\r\n"
    corrupted = garbage.corrupt(rng, message)
    assert corrupted != message and corrupted.endswith(b"\r\n") and len(corrupted) == len(message)
    assert len(garbage.truncate(rng, message)) < len(message)
    assert garbage.corrupt(rng, b"\r\n") == b"\r\n"

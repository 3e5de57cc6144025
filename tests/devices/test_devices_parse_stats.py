"""ParseStats: failures counted always, logged once per burst; time injected."""

from __future__ import annotations

import pytest

from devices import ParseStats


def test_first_failure_of_each_burst_is_logged() -> None:
    stats = ParseStats(quiet_period=10.0)
    # a burst: failures closer together than 10 s, even if it lasts longer
    assert [stats.record_failure(t) for t in (100.0, 101.0, 109.0, 118.5)] == [True, False, False, False]
    assert stats.in_burst(128.0)
    assert not stats.in_burst(128.5)
    # 10 s of quiet ends the burst: the next failure is logged again
    assert stats.record_failure(128.5) is True
    assert stats.previous_burst_failures == 4
    assert stats.burst_failures == 1
    assert stats.failures == 5
    assert stats.bursts == 2


def test_successes_do_not_end_a_burst() -> None:
    stats = ParseStats(quiet_period=5.0)
    assert stats.record_failure(0.0)
    stats.record_success()
    assert not stats.record_failure(1.0)
    assert stats.statistics() == {"successes": 1, "failures": 2, "bursts": 1, "burst_failures": 2}


def test_zero_quiet_period_logs_everything() -> None:
    stats = ParseStats(quiet_period=0.0)
    assert all(stats.record_failure(1.0) for _ in range(3))


def test_negative_quiet_period_rejected() -> None:
    with pytest.raises(ValueError):
        ParseStats(quiet_period=-1)

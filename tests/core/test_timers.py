"""Timer: one-shot and persistent, datetime, reset, no drift (driven by a FakeClock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from circuits import Component, Event, FakeClock, Manager, Timer

from .helpers import TIMEOUT, Recorder, running


class tick_event(Event):
    name = "beat"


class App(Component):
    def __init__(self) -> None:
        super().__init__()
        self.beats: list[float] = []

    def beat(self, *args: Any) -> None:
        self.beats.append(self.loop.clock.now())


def timer_on(app: Manager, *args: Any, **kwargs: Any) -> Timer:
    """A Timer registered with ``app`` and restarted on its FakeClock.

    A Timer is scheduled on its own (real-clock) loop until it is registered;
    registering keeps the remaining time, which is off by the microseconds (or,
    under load, milliseconds) that passed in between. ``reset()`` makes the
    deadlines exact so the tests can compare them with ``==``.
    """
    timer = Timer(*args, **kwargs).register(app)
    timer.reset()
    return timer


def fake_app() -> tuple[App, FakeClock]:
    app = App()
    clock = FakeClock(start=100.0)
    app.loop.clock = clock
    return app, clock


def step(app: Manager, clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    app.tick(0)
    app.flush()


def test_one_shot_timer_fires_once_after_its_interval_then_unregisters() -> None:
    app, clock = fake_app()
    timer = timer_on(app, 5, tick_event())
    app.flush()
    assert timer.expiry == 105.0
    step(app, clock, 4.99)
    assert app.beats == []
    step(app, clock, 0.01)
    assert app.beats == [105.0]
    assert timer not in app.components and timer.parent is timer
    step(app, clock, 100)
    assert app.beats == [105.0]
    assert app.loop.timer_count == 0


def test_persistent_timer_fires_every_interval() -> None:
    app, clock = fake_app()
    timer = timer_on(app, 2, tick_event(), persist=True)
    for _ in range(5):
        step(app, clock, 2)
    assert app.beats == [102, 104, 106, 108, 110]
    assert timer.parent is app


def test_persistent_timer_does_not_drift_when_ticks_are_late() -> None:
    app, clock = fake_app()
    timer = timer_on(app, 1.0, tick_event(), persist=True)
    step(app, clock, 1.25)  # a quarter second late (binary-exact steps keep == honest)
    assert timer.expiry == 102.0  # next deadline from the previous one, not from now
    step(app, clock, 0.5)  # now 101.75
    assert len(app.beats) == 1
    step(app, clock, 0.25)  # 102.0
    assert len(app.beats) == 2
    for _ in range(1000):
        step(app, clock, 1.0)
    assert timer.expiry == 1103.0
    assert len(app.beats) == 1002


def test_persistent_timer_skips_missed_intervals_but_keeps_its_phase() -> None:
    app, clock = fake_app()
    timer = timer_on(app, 1.0, tick_event(), persist=True)
    step(app, clock, 3.5)  # three intervals passed while blocked
    assert len(app.beats) == 1  # no burst of stale events
    assert timer.expiry == 104.0
    step(app, clock, 0.5)
    assert len(app.beats) == 2


def test_reset_restarts_the_wait_and_can_change_the_interval() -> None:
    app, clock = fake_app()
    timer = timer_on(app, 5, tick_event())
    step(app, clock, 4)
    timer.reset()
    step(app, clock, 4)
    assert app.beats == []
    step(app, clock, 1)
    assert app.beats == [109.0]
    timer2 = timer_on(app, 5, tick_event(), persist=True)
    timer2.reset(1)
    assert timer2.interval == 1.0
    step(app, clock, 1)
    assert app.beats == [109.0, 110.0]


def test_timer_at_a_datetime() -> None:
    app, clock = fake_app()
    when = datetime.now() + timedelta(seconds=30)
    timer = Timer(when, tick_event()).register(app)
    assert 29 < timer.interval <= 30
    step(app, clock, 29)
    assert app.beats == []
    step(app, clock, 1)
    assert len(app.beats) == 1
    past = Timer(datetime.now() - timedelta(seconds=10), tick_event()).register(app)
    assert past.interval == 0
    step(app, clock, 0)
    assert len(app.beats) == 2


def test_timer_fires_on_the_given_channels() -> None:
    got: list[str] = []

    class Listener(Component):
        def beat(self) -> None:
            got.append(self.channel)

    app = Manager()
    clock = app.loop.clock = FakeClock()
    Listener(channel="a").register(app)
    Listener(channel="b").register(app)
    Timer(1, tick_event(), "b").register(app)
    step(app, clock, 1)
    assert got == ["b"]


def test_timer_with_a_channel_keyword_fires_on_that_channel() -> None:
    got: list[str] = []

    class Listener(Component):
        def beat(self) -> None:
            got.append(self.channel)

    app = Manager()
    clock = app.loop.clock = FakeClock()
    Listener(channel="a").register(app)
    Listener(channel="t").register(app)
    Timer(1, tick_event(), channel="t").register(app)
    step(app, clock, 1)
    assert got == ["t"]


def test_cancel_and_unregister_stop_a_timer() -> None:
    app, clock = fake_app()
    cancelled = timer_on(app, 1, tick_event(), persist=True)
    removed = timer_on(app, 1, tick_event(), persist=True)
    cancelled.cancel()
    assert cancelled.expiry is None
    removed.unregister()
    step(app, clock, 10)
    assert app.beats == []
    assert app.loop.timer_count == 0
    cancelled.reset()  # a cancelled timer can be restarted
    step(app, clock, 1)
    assert app.beats == [111.0]


def test_timer_made_before_registration_keeps_its_remaining_time() -> None:
    timer = Timer(10, tick_event())  # scheduled on its own (real-clock) loop
    app, clock = fake_app()
    timer.register(app)
    assert app.loop.timer_count == 1
    assert timer.loop is app.loop
    step(app, clock, 9)
    assert app.beats == []
    step(app, clock, 1.1)
    assert len(app.beats) == 1


def test_timer_event_is_complete_each_time() -> None:
    app, clock = fake_app()
    rec = Recorder().register(app)

    class job(Event):
        complete = True

    class Jobs(Component):
        def job(self) -> None:
            pass

    Jobs().register(app)
    timer_on(app, 1, job(), persist=True)
    for _ in range(3):
        step(app, clock, 1)
    assert rec.count("job") == 3
    assert rec.count("job_complete") == 3


def test_a_real_timer_in_a_running_app() -> None:
    app = App()
    with running(app) as rec:
        Timer(0.05, tick_event()).register(app)
        assert rec.wait_for("beat", timeout=TIMEOUT)
    assert len(app.beats) == 1


def test_many_cancelled_timers_are_dropped_from_the_heap() -> None:
    app, clock = fake_app()
    timers = [timer_on(app, 10 + i, tick_event()) for i in range(600)]
    for t in timers[:500]:
        t.cancel()
    assert app.loop.timer_count == 100
    step(app, clock, 0)  # a pass that looks at the heap compacts it
    assert len(app.loop._timers) == 100  # the cancelled handles are gone, not only skipped
    step(app, clock, 510)  # the first timer left (the 511th made) is due
    assert len(app.beats) == 1
    step(app, clock, 1000)
    assert len(app.beats) == 100
    assert app.loop.timer_count == 0

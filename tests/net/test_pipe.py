"""Pipe(): two connected UNIXClients in one application."""

from __future__ import annotations

import pytest

from circuits.net.sockets import Pipe, UNIXClient, close, write

from .helpers import open_fds, payload, running


def joined(events):
    return b"".join(e.args[0] for e in events)


def test_pipe_ends_are_connected_unix_clients_on_channels_a_and_b():
    a, b = Pipe()
    assert isinstance(a, UNIXClient) and isinstance(b, UNIXClient)
    assert (a.channel, b.channel) == ("a", "b")
    c, d = Pipe("left", "right")
    assert (c.channel, d.channel) == ("left", "right")
    e, f = Pipe("only")
    assert (e.channel, f.channel) == ("only", "b")
    with pytest.raises(ValueError):
        Pipe("same", "same")
    for end in (a, b, c, d, e, f):
        end._sock.close()


def test_pipe_is_full_duplex_and_byte_exact():
    up, down = payload(1 << 20, seed=5), payload(1 << 20, seed=6)
    a, b = Pipe()
    with running(a, b) as (app, rec):
        assert a.connected and b.connected
        for i in range(0, len(up), 100_000):
            app.fire(write(up[i:i + 100_000]), "a")
            app.fire(write(down[i:i + 100_000]), "b")
        rec.wait(lambda: sum(len(e.args[0]) for e in rec.of("read", "b")) >= len(up)
                 and sum(len(e.args[0]) for e in rec.of("read", "a")) >= len(down))
        assert joined(rec.of("read", "b")) == up
        assert joined(rec.of("read", "a")) == down


def test_closing_one_end_disconnects_the_other_once():
    a, b = Pipe()
    with running(a, b) as (app, rec):
        app.fire(write(b"last words"), "a")
        app.fire(close(), "a")
        rec.wait_for("disconnected", "a")
        rec.wait_for("disconnected", "b")
        assert joined(rec.of("read", "b")) == b"last words"
        rec.sync(app)
        assert len(rec.of("disconnected")) == 2
        assert not a.connected and not b.connected


def test_a_pipe_costs_two_descriptors():
    before = open_fds()
    a, b = Pipe()
    assert open_fds() == before + 2  # the socketpair; no loop of their own
    with running(a, b) as (app, rec):
        app.fire(close(), "a")
        rec.wait_for("disconnected", count=2)
    assert open_fds() == before

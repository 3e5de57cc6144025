"""gateway.seqstore: numbers continue across restarts and never repeat after SIGKILL."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from circuits import Component
from gateway.diskwriter import DiskWriter
from gateway.seqstore import SeqStore


def test_numbers_count_per_device_and_continue_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "seq.sqlite3"
    with SeqStore(path, block=10) as store:
        assert [store.next("a") for _ in range(3)] == [1, 2, 3]
        assert [store.next("b") for _ in range(25)] == list(range(1, 26))
    # A clean close records the exact last number: no gap on restart.
    with SeqStore(path, block=10) as store:
        assert store.next("a") == 4
        assert store.next("b") == 26
        assert store.next("new") == 1


def test_state_dir_holds_the_default_file(tmp_path: Path) -> None:
    with SeqStore(tmp_path) as store:
        store.next("x")
    assert (tmp_path / "seq.sqlite3").exists()
    db = sqlite3.connect(tmp_path / "seq.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_reserves_in_blocks_rather_than_committing_each_number(tmp_path: Path) -> None:
    with SeqStore(tmp_path / "s.db") as store:
        for _ in range(10_000):
            store.next("fast")
        assert store.next("fast") == 10_001
        assert store.statistics()["reservations"] == 11
        # Another connection sees the reservation, persisted ahead of use.
        db = sqlite3.connect(tmp_path / "s.db")
        assert db.execute("SELECT ceiling FROM seq WHERE device = 'fast'").fetchone() == (11_000,)
        db.close()


def test_closed_store_refuses_new_blocks(tmp_path: Path) -> None:
    store = SeqStore(tmp_path / "s.db")
    store.close()
    store.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        store.next("a")


CHILD = textwrap.dedent("""
    import sys
    from gateway.seqstore import SeqStore
    store = SeqStore(sys.argv[1], block=100)
    while True:
        print(store.next("dev"), flush=True)
""")


def test_numbers_never_repeat_after_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "seq.sqlite3"
    seen: list[int] = []
    for _ in range(2):  # two crashes in a row, each mid-block
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        # Read 250 numbers: the child is then somewhere inside its third block
        # (it runs ahead of what we read), so the kill lands mid-stream.
        numbers = [int(child.stdout.readline()) for _ in range(250)]
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        assert numbers == list(range(numbers[0], numbers[0] + 250))
        assert not seen or numbers[0] > max(seen)
        seen += numbers
    with SeqStore(path, block=100) as store:
        assert store.next("dev") > max(seen)


def test_corrupt_database_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "seq.sqlite3"
    with SeqStore(path) as store:
        for _ in range(5):
            store.next("a")
    path.write_bytes(b"this is not an SQLite database" * 200)
    with caplog.at_level(logging.WARNING, logger="gateway.seqstore"):
        store = SeqStore(path)
    aside = list(tmp_path.glob("seq.sqlite3.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    assert "is corrupt" in caplog.text and str(aside[0]) in caplog.text
    # The old numbers are lost, so the fresh file numbers from the clock:
    # still above anything handed out before, for old and new devices alike.
    first = store.next("a")
    assert first > 5 and store.next("other") > 5 and store.next("a") == first + 1
    store.close()
    with SeqStore(path) as store:
        assert store.next("a") == first + 2
        assert store.next("later") > 5


def test_locked_database_is_not_mistaken_for_corruption(tmp_path: Path) -> None:
    path = tmp_path / "seq.sqlite3"
    SeqStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            SeqStore(path, timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_blocks_are_reserved_ahead_on_the_writer_thread_and_never_repeat(tmp_path: Path) -> None:
    app = Component()
    app.start()
    writer = DiskWriter()
    entered, gate = threading.Event(), threading.Event()

    def stuck_disk() -> None:
        entered.set()
        assert gate.wait(10)

    def ceiling() -> int:
        db = sqlite3.connect(tmp_path / "seq.sqlite3")
        try:
            return int(db.execute("SELECT ceiling FROM seq WHERE device = 'a'").fetchone()[0])
        finally:
            db.close()

    try:
        store = SeqStore(tmp_path, block=10)
        store.use_writer(writer, lambda: app.loop)
        writer.submit(app.loop, stuck_disk, lambda future: None)
        assert entered.wait(10)
        # The first block is reserved at once; the next one is asked for at
        # half way and waits behind the stuck disk -- the numbers do not.
        assert [store.next("a") for _ in range(10)] == list(range(1, 11))
        assert ceiling() == 10 and store.stalls == 0
        gate.set()
        writer.run(lambda: None, 10)  # FIFO: the reservation is committed
        back = threading.Event()
        app.loop.call_soon_threadsafe(back.set)  # and its result handled on the loop (queued before this)
        assert back.wait(10)
        assert [store.next("a") for _ in range(10)] == list(range(11, 21))
        assert store.stalls == 0 and ceiling() >= 20
        writer.run(lambda: None, 10)
        used = 20
        # As after a SIGKILL: the store is never closed, another one opens the file.
        reopened = SeqStore(tmp_path, block=10)
        assert reopened.next("a") > used
        reopened.close()
    finally:
        gate.set()
        app.stop()
        app.join(10)
        writer.close()

"""gateway.seqstore: numbers continue across restarts and never repeat after SIGKILL;
an old SQLite store is migrated once."""

from __future__ import annotations

import json
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
from gateway.seqstore import LEGACY_NAME, SeqStore, SeqStoreError


def saved_state(path: Path) -> dict[str, object]:
    """The state file as another reader (a restart) sees it."""
    return json.loads(path.read_bytes())


def test_numbers_count_per_device_and_continue_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "seq.json"
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
    assert saved_state(tmp_path / "seq.json") == {"format": 1, "floor": 0, "ceilings": {"x": 1}, "counters": {}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seq.json"]  # no temporary file left


def test_a_new_store_does_not_load_sqlite(tmp_path: Path) -> None:
    script = ("import sys\nfrom gateway.seqstore import SeqStore\n"
              "with SeqStore(sys.argv[1]) as store:\n    store.next('x')\n"
              "print('sqlite3' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout == "False\n", done.stderr


def test_reserves_in_blocks_rather_than_committing_each_number(tmp_path: Path) -> None:
    with SeqStore(tmp_path / "s.db") as store:
        for _ in range(10_000):
            store.next("fast")
        assert store.next("fast") == 10_001
        assert store.statistics()["reservations"] == 11
        assert store.statistics()["writes"] == 11  # one write (two fsyncs) per block
        # Another reader sees the reservation, persisted ahead of use.
        assert saved_state(tmp_path / "s.db")["ceilings"] == {"fast": 11_000}


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
    if sys.argv[2] == "ahead":  # blocks reserved on a writer thread, as in the gateway
        from circuits import Component
        from gateway.diskwriter import DiskWriter
        app = Component()
        app.start()
        store.use_writer(DiskWriter(), lambda: app.loop)
    while True:
        print(store.next("dev"), flush=True)
""")


@pytest.mark.parametrize("mode", ["inline", "ahead"])
def test_numbers_never_repeat_after_sigkill(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "seq.json"
    seen: list[int] = []
    for _ in range(2):  # two crashes in a row, each mid-block
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), mode], stdout=subprocess.PIPE, text=True)
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


@pytest.mark.parametrize("garbage", [b"this is not a state file" * 200, b'{"format": 1, "floor": 0}',
                                     b'{"format": 99}', b"", b'{"format": 1, "floor": 0, "ceilings": {"a": '])
def test_corrupt_state_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture, garbage: bytes) -> None:
    path = tmp_path / "seq.json"
    with SeqStore(path) as store:
        for _ in range(5):
            store.next("a")
    path.write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="gateway.seqstore"):
        store = SeqStore(path)
    aside = list(tmp_path.glob("seq.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == garbage
    assert "is corrupt" in caplog.text and str(aside[0]) in caplog.text
    # The old numbers are lost, so the fresh file numbers from the clock:
    # still above anything handed out before, for old and new devices alike.
    first = store.next("a")
    assert first > 5 and store.next("other") > 5 and store.next("a") == first + 1
    store.close()
    with SeqStore(path) as store:
        assert store.next("a") == first + 2
        assert store.next("later") > 5


def make_legacy(path: Path, ceilings: dict[str, int], counters: dict[str, dict[str, int]],
                floor: int | None = None) -> None:
    """An SQLite sequence store as earlier versions wrote it (schema version 1, WAL)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE seq (device TEXT PRIMARY KEY, ceiling INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("CREATE TABLE counters (device TEXT NOT NULL, name TEXT NOT NULL, "
               "value INTEGER NOT NULL, PRIMARY KEY (device, name)) WITHOUT ROWID")
    db.executemany("INSERT INTO seq VALUES (?, ?)", ceilings.items())
    db.executemany("INSERT INTO counters VALUES (?, ?, ?)",
                   [(d, n, v) for d, values in counters.items() for n, v in values.items()])
    if floor is not None:
        db.execute("INSERT INTO meta VALUES ('floor', ?)", (floor,))
    db.execute("PRAGMA user_version = 1")
    db.close()


def test_an_old_sqlite_store_is_migrated_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    make_legacy(tmp_path / LEGACY_NAME, {"a": 41, "b": 7}, {"a": {"readings": 40, "reopens_idle": 1}})
    with caplog.at_level(logging.INFO, logger="gateway.seqstore"):
        store = SeqStore(tmp_path)
    assert "migrated" in caplog.text
    # Continued exactly where the old store's clean close left them.
    assert store.next("a") == 42 and store.next("b") == 8 and store.next("new") == 1
    assert store.saved_counters("a") == {"readings": 40, "reopens_idle": 1}
    store.close()
    assert not (tmp_path / LEGACY_NAME).exists()
    assert (tmp_path / (LEGACY_NAME + ".migrated")).exists()  # kept for whoever wants to look
    # The state file is the store now: a second open neither migrates nor goes back.
    make_legacy(tmp_path / LEGACY_NAME, {"a": 1}, {})
    with SeqStore(tmp_path) as store:
        assert store.next("a") == 43 and store.saved_counters("a") == {"readings": 40, "reopens_idle": 1}


def test_an_old_store_that_was_itself_renumbered_keeps_its_floor(tmp_path: Path) -> None:
    make_legacy(tmp_path / LEGACY_NAME, {"a": 5_000_000_000_000_005}, {}, floor=5_000_000_000_000_000)
    with SeqStore(tmp_path) as store:
        assert store.next("a") == 5_000_000_000_000_006
        assert store.next("never-seen") == 5_000_000_000_000_001


def test_a_corrupt_old_store_is_moved_aside_and_numbering_starts_from_the_clock(tmp_path: Path) -> None:
    (tmp_path / LEGACY_NAME).write_bytes(b"this is not an SQLite database" * 200)
    with SeqStore(tmp_path) as store:
        assert store.next("a") > 1_600_000_000_000_000  # microseconds since 1970
    assert len(list(tmp_path.glob(LEGACY_NAME + ".corrupt-*"))) == 1


def test_a_locked_old_store_is_not_mistaken_for_corruption(tmp_path: Path) -> None:
    path = tmp_path / LEGACY_NAME
    make_legacy(path, {"a": 3}, {})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")  # so that an exclusive lock keeps readers out
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SeqStoreError, match="locked"):
            SeqStore(tmp_path, timeout=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert list(tmp_path.glob("*.corrupt-*")) == [] and not (tmp_path / "seq.json").exists()
    with SeqStore(tmp_path) as store:  # and once it is free, it is migrated
        assert store.next("a") == 4


def test_a_write_cut_short_by_a_crash_leaves_the_last_whole_file(tmp_path: Path) -> None:
    with SeqStore(tmp_path, block=10) as store:
        assert store.next("a") == 1
    # As if killed between writing the temporary file and the rename.
    (tmp_path / "seq.json.tmp").write_bytes(b'{"format": 1, "ceil')
    with SeqStore(tmp_path, block=10) as store:
        assert store.next("a") == 2
    assert not (tmp_path / "seq.json.tmp").exists()


def test_blocks_are_reserved_ahead_on_the_writer_thread_and_never_repeat(tmp_path: Path) -> None:
    app = Component()
    app.start()
    writer = DiskWriter()
    entered, gate = threading.Event(), threading.Event()

    def stuck_disk() -> None:
        entered.set()
        assert gate.wait(10)

    def ceiling() -> int:
        return int(saved_state(tmp_path / "seq.json")["ceilings"]["a"])  # type: ignore[index]

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

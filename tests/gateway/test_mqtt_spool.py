"""gateway.spool: ordered, batched, bounded, durable; corrupt files are moved aside."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.spool import ROW_OVERHEAD, SLOW_COMMIT_ENV, Spool

ROOT = Path(__file__).resolve().parents[2]


def rows_of(spool: Spool, limit: int = 1000) -> list[bytes]:
    return [payload for _, _, payload, _ in spool.pending(limit)]


def test_rows_come_back_in_order_only_after_commit(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        ids = [spool.append("t/a", f"{i}".encode(), 1) for i in range(5)]
        assert ids == sorted(ids)
        assert spool.depth == 5
        assert spool.pending(10) == []  # not accepted yet: nothing to send
        assert spool.commit() == 5
        assert rows_of(spool) == [b"0", b"1", b"2", b"3", b"4"]
        assert spool.pending(2)[1][:2] == (ids[1], "t/a")
        assert [r[2] for r in spool.pending(10, after=ids[2])] == [b"3", b"4"]
    assert (tmp_path / "spool.sqlite3").exists()


def test_append_many_and_ack_many_are_append_and_ack_in_a_batch(tmp_path: Path) -> None:
    rows = [("t/a", b"0", 1), ("t/b", b"11", 0), ("t/a", b"222", 1)]
    with Spool(tmp_path / "one") as one, Spool(tmp_path / "many") as many:
        ids = [one.append(*row) for row in rows]
        many.append_many(rows)
        many.append_many([])
        assert one.depth == many.depth == 3 and one.uncommitted == many.uncommitted == 3
        assert one.commit() == many.commit() == 3
        assert one.pending(10) == many.pending(10)
        for row_id in (ids[0], ids[2], ids[0]):
            one.ack(row_id)
        many.ack_many([ids[0], ids[2], ids[0]])
        many.ack_many([ids[2]])  # already acknowledged: nothing more
        assert one.depth == many.depth == 1
        one.commit()
        many.commit()
        assert one.pending(10) == many.pending(10) == [(ids[1], "t/b", b"11", 0)]
        assert one.size == many.size == 2 + 3 + ROW_OVERHEAD
        assert one.appended == many.appended == 3


def test_one_transaction_per_commit(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        for _ in range(1000):
            spool.append("t", b"x", 1)
        spool.commit()
        assert spool.commits == 1
        assert spool.statistics()["committed"] == 1000


def test_ack_deletes_at_the_next_commit_and_survives_reopen(tmp_path: Path) -> None:
    with Spool(tmp_path) as spool:
        ids = [spool.append("t", bytes([i]), 1) for i in range(4)]
        spool.commit()
        spool.pending(10)
        spool.ack(ids[0])
        spool.ack(ids[2])
        assert spool.depth == 2
        # Acked but not yet deleted rows are not handed out again.
        assert rows_of(spool) == [b"\x01", b"\x03"]
        spool.commit()
        assert spool.size == 2 * (1 + 1 + ROW_OVERHEAD)
    with Spool(tmp_path) as spool:
        assert rows_of(spool) == [b"\x01", b"\x03"]
        assert spool.depth == 2
        assert spool.append("t", b"new", 1) > ids[-1]  # ids keep growing


def test_ids_never_repeat_after_the_spool_drained(tmp_path: Path) -> None:
    # The uplink's cursor is "highest id sent": an id reused after a drain
    # would be skipped.
    with Spool(tmp_path) as spool:
        first = spool.append("t", b"a", 1)
        spool.commit()
        spool.pending(1)
        spool.ack(first)
        spool.commit()
        assert spool.depth == 0
        assert spool.append("t", b"b", 1) > first


def test_uncommitted_rows_are_not_accepted(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append("t", b"committed", 1)
    spool.commit()
    spool.append("t", b"lost", 1)
    # Another connection (a restarted process) sees only the committed row.
    db = sqlite3.connect(tmp_path / "spool.sqlite3")
    assert db.execute("SELECT payload FROM spool").fetchall() == [(b"committed",)]
    db.close()
    spool.close()


def test_past_the_bound_the_oldest_are_dropped_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    row = 100 + 1 + ROW_OVERHEAD
    with Spool(tmp_path, max_bytes=10 * row) as spool:
        for i in range(25):
            spool.append("t", b"%03d" % i + b"x" * 97, 1)
            if i % 5 == 4:
                spool.commit()
        assert spool.size <= 10 * row
        assert spool.depth == 10
        assert spool.dropped == 15
        assert [p[:3] for p in rows_of(spool)] == [b"%03d" % i for i in range(15, 25)]
    assert "dropped the" in caplog.text
    with Spool(tmp_path, max_bytes=10 * row) as spool:
        assert spool.dropped == 15  # the count is persisted


def test_dropping_rows_that_are_in_flight_keeps_the_size_right(tmp_path: Path) -> None:
    row = 10 + 1 + ROW_OVERHEAD
    with Spool(tmp_path, max_bytes=5 * row) as spool:
        for _ in range(5):
            spool.append("t", b"x" * 10, 1)
        spool.commit()
        sent = spool.pending(5)
        for _ in range(3):
            spool.append("t", b"y" * 10, 1)
        spool.commit()  # drops the 3 oldest, which are in flight
        for row_id, *_ in sent:
            spool.ack(row_id)  # their acks arrive anyway
        spool.commit()
        assert spool.depth == 3
        assert spool.size == 3 * row


@pytest.mark.parametrize("damage", ["header", "page"])
def test_a_corrupt_file_is_moved_aside_and_a_new_spool_started(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str) -> None:
    path = tmp_path / "spool.sqlite3"
    with Spool(path) as spool:
        for i in range(2000):
            spool.append("t", b"%d" % i * 20, 1)
        spool.commit()
    data = bytearray(path.read_bytes())
    if damage == "header":
        data[:100] = b"\xff" * 100
    else:  # a b-tree page in the middle: only an integrity check notices
        middle = len(data) // 4096 // 2 * 4096
        data[middle:middle + 4096] = os.urandom(4096)
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.ERROR, logger="gateway.spool"):
        spool = Spool(path)
    assert "moved it to" in caplog.text
    aside = list(tmp_path.glob("spool.sqlite3.corrupt-*"))
    assert aside and spool.moved_aside == aside
    assert not spool.in_memory and spool.depth == 0
    spool.append("t", b"after", 1)
    spool.commit()
    assert rows_of(spool) == [b"after"]
    spool.close()


def test_an_unusable_directory_falls_back_to_memory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    spool = Spool(blocker / "sub" / "spool.sqlite3")
    assert spool.in_memory
    assert "IN MEMORY" in caplog.text
    spool.append("t", b"x", 0)
    spool.commit()
    assert rows_of(spool) == [b"x"]
    spool.close()


def test_committed_rows_survive_sigkill(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import os, sys
        from gateway.spool import Spool
        spool = Spool(sys.argv[1])
        for i in range(500):
            spool.append("t", str(i).encode(), 1)
        spool.commit()
        spool.append("t", b"never committed", 1)
        print("committed", flush=True)
        sys.stdin.read()  # wait to be killed
    """)
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE,
                               stdin=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert process.stdout is not None
    assert process.stdout.readline() == "committed\n"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    with Spool(tmp_path) as spool:
        assert rows_of(spool) == [str(i).encode() for i in range(500)]


def test_a_spool_locked_by_another_process_is_left_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "spool.sqlite3"
    Spool(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        spool = Spool(path, busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert spool.in_memory
    assert "locked" in caplog.text
    assert not list(tmp_path.glob("*.corrupt-*"))
    spool.close()


def test_the_slow_commit_benchmark_hook_is_off_unless_its_variable_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(SLOW_COMMIT_ENV, raising=False)
    with Spool(tmp_path / "a") as spool:
        assert spool.before_commit is None
    monkeypatch.setenv(SLOW_COMMIT_ENV, "fast")
    with caplog.at_level(logging.ERROR, logger="gateway.spool"), Spool(tmp_path / "b") as spool:
        assert spool.before_commit is None
    assert "not a number" in caplog.text
    monkeypatch.setenv(SLOW_COMMIT_ENV, "0")
    with Spool(tmp_path / "c") as spool:
        assert spool.before_commit is not None
        spool.append("t", b"x", 1)
        assert spool.commit() == 1  # the hook runs inside the commit, which still succeeds

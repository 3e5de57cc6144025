"""circuits.io.notify.Notify with real file-system changes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from circuits import BaseComponent, Manager, handler
from circuits.io import Notify, inotify
from circuits.io.notify import DEFAULT_MASK, add_path, remove_path

from .helpers import Recorder, run_until


def events(recorder: Recorder) -> list[tuple[str, tuple[object, ...]]]:
    kinds = ("created", "deleted", "modified", "moved", "opened", "closed", "accessed", "unmounted")
    return [(e.name, tuple(e.args)) for e in recorder.events if e.name in kinds and "notify" in e.channels]


def test_file_life_cycle_events_and_their_arguments(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    threads = threading.active_count()
    n = Notify().register(app)
    run_until(app, lambda: recorder.count("ready", "notify"))
    assert recorder.args("ready", "notify") == [(n,)]  # watching now (3.x code waits for it)
    assert n._fd is not None and app.loop.is_reading(n._fd)  # on the loop's poller
    assert n.add_path(str(tmp_path)) is True
    assert threading.active_count() == threads  # no thread of its own
    f = tmp_path / "a.txt"
    f.write_bytes(b"x")  # created, opened, modified, closed
    f.read_bytes()  # opened, accessed, closed
    f.rename(tmp_path / "b.txt")  # moved (from), moved (to)
    (tmp_path / "b.txt").unlink()  # deleted
    run_until(app, lambda: recorder.count("deleted"))
    path = str(tmp_path)
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    assert events(recorder) == [
        ("created", ("a.txt", path, a, False)),
        ("opened", ("a.txt", path, a, False)),
        ("modified", ("a.txt", path, a, False)),
        ("closed", ("a.txt", path, a, False)),
        ("opened", ("a.txt", path, a, False)),
        ("accessed", ("a.txt", path, a, False)),
        ("closed", ("a.txt", path, a, False)),
        ("moved", ("a.txt", path, a, False)),
        ("moved", ("b.txt", path, b, False)),
        ("deleted", ("b.txt", path, b, False)),
    ]


def test_directories_are_flagged(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    n = Notify().register(app)
    n.add_path(str(tmp_path), mask=inotify.IN_CREATE | inotify.IN_DELETE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub").rmdir()
    run_until(app, lambda: recorder.count("deleted"))
    sub = str(tmp_path / "sub")
    assert events(recorder) == [("created", ("sub", str(tmp_path), sub, True)),
                                ("deleted", ("sub", str(tmp_path), sub, True))]


def test_a_mask_limits_the_events(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    n = Notify().register(app)
    n.add_path(str(tmp_path), mask=inotify.IN_DELETE)
    (tmp_path / "f").write_bytes(b"data")
    (tmp_path / "f").unlink()
    run_until(app, lambda: recorder.count("deleted"))
    assert [name for name, _ in events(recorder)] == ["deleted"]


def test_recursive_watches_follow_new_directories(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    n = Notify().register(app)
    n.add_path(str(tmp_path), mask=inotify.IN_CREATE, recursive=True)
    assert set(n.watched) == {str(tmp_path), str(tmp_path / "old")}
    (tmp_path / "old" / "in_old").write_bytes(b"")
    (tmp_path / "new").mkdir()
    run_until(app, lambda: str(tmp_path / "new") in n.watched)
    (tmp_path / "new" / "in_new").write_bytes(b"")
    run_until(app, lambda: any(a[2].endswith("in_new") for a in recorder.args("created")))
    created = [a[2] for a in recorder.args("created")]
    assert created == [str(tmp_path / "old" / "in_old"), str(tmp_path / "new"), str(tmp_path / "new" / "in_new")]


def test_add_and_remove_as_events(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    watched, sentinel = tmp_path / "watched", tmp_path / "sentinel"
    watched.mkdir()
    sentinel.mkdir()
    n = Notify().register(app)
    n.fire(add_path(str(watched), DEFAULT_MASK))
    n.fire(add_path(str(sentinel)))
    run_until(app, lambda: len(n.watched) == 2)
    (watched / "one").write_bytes(b"")
    run_until(app, lambda: recorder.count("created"))
    n.fire(remove_path(str(watched)))
    run_until(app, lambda: n.watched == [str(sentinel)])
    (watched / "two").write_bytes(b"")  # not reported any more
    (sentinel / "mark").write_bytes(b"")  # reported: everything before it was read
    run_until(app, lambda: recorder.count("created") == 2)
    assert [a[0] for a in recorder.args("created")] == ["one", "mark"]
    assert n.remove_path(str(watched)) is False  # not watched (any more)


def test_a_missing_path_is_an_error_event(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    n = Notify().register(app)
    assert n.add_path(str(tmp_path / "nope")) is False
    run_until(app, lambda: recorder.count("error"))
    [(err,)] = recorder.args("error")
    assert isinstance(err, FileNotFoundError) and err.filename == str(tmp_path / "nope")
    assert n.watched == []


def test_deleting_a_watched_directory(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    n = Notify().register(app)
    n.add_path(str(d))
    d.rmdir()
    run_until(app, lambda: recorder.count("deleted") and n.watched == [])
    assert recorder.args("deleted") == [("", str(d), str(d), True)]


def test_overflow_is_reported_so_users_can_rescan(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    f = tmp_path / "f"
    f.write_bytes(b"")
    n = Notify().register(app)
    n.add_path(str(tmp_path), mask=inotify.IN_OPEN | inotify.IN_CLOSE_NOWRITE | inotify.IN_CREATE)
    # Nobody reads while more events than the kernel queues happen (an
    # open and a close each time: alternating events are not coalesced).
    for _ in range(limit // 2 + 10):
        os.close(os.open(f, os.O_RDONLY))
    run_until(app, lambda: recorder.count("overflow"))
    assert n.overflows == 1
    assert recorder.count("opened") + recorder.count("closed") == limit  # what fitted; the rest was lost
    (tmp_path / "after").write_bytes(b"")  # and it keeps working
    run_until(app, lambda: recorder.count("created"))
    assert recorder.args("created") == [("after", str(tmp_path), str(tmp_path / "after"), False)]


def test_unmounted(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "none", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        n = Notify().register(app)
        n.add_path(str(mnt))
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    run_until(app, lambda: recorder.count("unmounted"))
    assert recorder.args("unmounted") == [("", str(mnt), str(mnt), True)]


def test_close_forgets_everything(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    n = Notify().register(app)
    n.add_path(str(tmp_path))
    fd = n._fd
    n.close()
    assert n.watched == [] and not app.loop.is_reading(fd)
    with pytest.raises(OSError):
        os.fstat(fd)  # type: ignore[arg-type]
    assert n.add_path(str(tmp_path)) is True  # a new descriptor on demand


def test_importing_and_watching_loads_no_process_machinery(tmp_path: Path) -> None:
    # The binding reaches libc through ctypes.CDLL(None): no ctypes.util
    # library search (subprocess, shutil, tempfile), no pyinotify/asyncore,
    # and nothing printed for a path that cannot be watched (issue 15).
    script = (
        "import sys\n"
        "from circuits.io.inotify import Inotify, IN_CREATE\n"
        "i = Inotify()\n"
        "try:\n"
        "    i.add_watch('/nonexistent-path', IN_CREATE)\n"
        "except FileNotFoundError as e:\n"
        "    assert e.filename == '/nonexistent-path', e\n"
        "assert i.rm_watch(12345) is False\n"
        "i.close()\n"
        "print(sorted(m for m in ('subprocess', 'shutil', 'tempfile', 'ctypes.util', 'pyinotify', 'asyncore')"
        " if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == "[]\n"


def test_records_of_a_removed_watch_are_dropped(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    # Queued records of a watch removed before they were read name a watch
    # descriptor that is gone: nothing is fired for them, and the kernel's
    # IN_IGNORED for the removal is not an event either.
    watched, sentinel = tmp_path / "watched", tmp_path / "sentinel"
    watched.mkdir()
    sentinel.mkdir()
    n = Notify().register(app)
    n.add_path(str(watched), mask=inotify.IN_CREATE)
    (watched / "queued").write_bytes(b"")  # queued, not read yet: the loop has not run
    assert n.remove_path(str(watched)) is True
    n.add_path(str(sentinel), mask=inotify.IN_CREATE)
    (sentinel / "mark").write_bytes(b"")
    run_until(app, lambda: recorder.count("created"))
    assert events(recorder) == [("created", ("mark", str(sentinel), str(sentinel / "mark"), False))]


def test_recursive_without_auto_add_ignores_new_directories(
        app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    n = Notify().register(app)
    n.add_path(str(tmp_path), mask=inotify.IN_CREATE, recursive=True, auto_add=False)
    (tmp_path / "new").mkdir()
    run_until(app, lambda: recorder.count("created"))
    (tmp_path / "new" / "unseen").write_bytes(b"")
    (tmp_path / "old" / "seen").write_bytes(b"")  # existing subdirectories are watched
    run_until(app, lambda: recorder.count("created") == 2)
    assert [args[0] for name, args in events(recorder)] == ["new", "seen"]
    assert str(tmp_path / "new") not in n.watched


class CreatedFlag(BaseComponent):
    channel = "notify"

    def init(self) -> None:
        self.flag = threading.Event()

    @handler("created")
    def _created(self, *args: object) -> None:
        self.flag.set()


def test_add_path_from_another_thread_while_the_loop_runs(tmp_path: Path) -> None:
    app = Manager()
    seen = CreatedFlag().register(app)
    n = Notify().register(app)
    app.start()
    try:
        assert n.add_path(str(tmp_path)) is True  # this thread is not the loop's
        (tmp_path / "file").write_bytes(b"")
        assert seen.flag.wait(20)
    finally:
        app.stop()
        app.join(10)

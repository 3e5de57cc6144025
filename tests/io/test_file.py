"""circuits.io.file.File against real files, FIFOs and devices."""

from __future__ import annotations

import errno
import io
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from circuits import Manager, Timer, handler
from circuits.core.events import Event, stopped
from circuits.io import File
from circuits.io.events import close, open, seek, write
from circuits.io.file import parse_mode

from .helpers import Recorder, run_until


class tick(Event):
    """A heartbeat."""


def read_all(recorder: Recorder, channel: str = "file") -> bytes | str:
    chunks = [e.args[0] for e in recorder.named("read", channel)]
    if chunks and isinstance(chunks[0], str):
        return "".join(chunks)
    return b"".join(chunks)


def test_reads_a_regular_file_in_chunks_one_per_pass(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    data = os.urandom(256 * 1024 + 17)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    passes: list[int] = []
    File(str(path), "rb", bufsize=4096).register(app)
    beats = Recorder(channel="beat").register(app)
    Timer(0, tick(), "beat", persist=True).register(app)
    recorder.addHandler(_pass_counter(app, passes), "read")
    run_until(app, lambda: recorder.count("closed"))
    assert read_all(recorder) == data
    names = [n for n in recorder.names("file") if n not in ("registered", "open")]
    assert names[0] == "opened" and names[-2:] == ["eof", "closed"]
    assert recorder.args("opened") == [(str(path), "rb")]
    # One chunk per loop pass: other components kept getting their turn.
    assert len(passes) == len(set(passes)) == len(recorder.named("read"))
    assert beats.count("tick") >= len(passes) // 2


def _pass_counter(app: Manager, passes: list[int]) -> Any:
    @handler("read", channel="file")
    def on_read_pass(self, data: bytes) -> None:  # noqa: ARG001
        passes.append(app.loop.passes)

    return on_read_pass


def test_text_mode_decodes_multibyte_characters_split_across_chunks(
        app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    text = "größe € 😀 ok\n" * 3
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("utf-8"))
    File(str(path), "r", bufsize=1, encoding="utf-8").register(app)
    run_until(app, lambda: recorder.count("closed"))
    assert all(isinstance(e.args[0], str) for e in recorder.named("read"))
    assert read_all(recorder) == text


def test_text_mode_with_another_encoding_and_invalid_bytes(
        app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "l1.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "bad.txt").write_bytes(b"ok \xff\xfe end")
    File(str(tmp_path / "l1.txt"), encoding="latin-1", channel="l1").register(app)
    File(str(tmp_path / "bad.txt"), channel="bad", encoding="utf-8").register(app)
    run_until(app, lambda: recorder.count("closed") == 2)
    assert read_all(recorder, "l1") == "café"
    assert read_all(recorder, "bad") == "ok \ufffd\ufffd end"
    assert recorder.count("error") == 0


def test_without_an_encoding_every_mode_reads_bytes(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    # circuits 3.x: "r" reads bytes like "rb"; only an encoding asks for str.
    path = tmp_path / "t.txt"
    path.write_bytes("größe\n".encode())
    File(str(path), "r", channel="text").register(app)
    File(str(path), "rt", channel="t").register(app)
    run_until(app, lambda: recorder.count("closed") == 2)
    assert read_all(recorder, "text") == read_all(recorder, "t") == "größe\n".encode()


def test_a_text_file_object_is_read_as_bytes_and_left_open(
        app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    path = tmp_path / "obj.txt"
    path.write_text("Hello World!")
    with path.open() as fileobj:  # text mode, as 3.x code passes it
        File(fileobj).register(app)
        run_until(app, lambda: recorder.count("closed"))
        assert read_all(recorder) == b"Hello World!"
        assert recorder.args("opened") == [(str(path), "r")]
        assert not fileobj.closed


def test_strict_errors_give_an_error_event(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\xff")
    File(str(tmp_path / "bad.txt"), encoding="utf-8", errors="strict").register(app)
    run_until(app, lambda: recorder.count("closed"))
    [err] = recorder.args("error")
    assert isinstance(err[0], UnicodeDecodeError)


@pytest.mark.parametrize("mode, before, writes, seek_to, expect_read, expect_file", [
    ("w", b"old", [b"new"], None, None, b"new"),
    ("wb", b"old", [b"a", b"b"], None, None, b"ab"),
    ("a", b"old", [b"+1"], None, None, b"old+1"),
    ("ab", b"old", [b"+1", b"+2"], None, None, b"old+1+2"),
    ("r+b", b"0123456789", [b"AB"], None, b"0123456789", b"0123456789AB"),
    ("w+b", b"old", [b"fresh"], 0, b"fresh", b"fresh"),
    ("a+b", b"old", [b"+1"], 0, b"old+1", b"old+1"),
    ("x", None, [b"created"], None, None, b"created"),
    ("r+", b"text", ["+more"], None, b"text", b"text+more"),
])
def test_modes(app: Manager, recorder: Recorder, tmp_path: Path, mode: str, before: bytes | None,
               writes: list[bytes | str], seek_to: int | None, expect_read: bytes | str | None,
               expect_file: bytes) -> None:
    path = tmp_path / "f"
    if before is not None:
        path.write_bytes(before)
    f = File(str(path), mode).register(app)
    run_until(app, lambda: recorder.count("opened"))
    if f._mode.readable:
        run_until(app, lambda: recorder.count("eof"))  # r+/a+: read what is there first
    for data in writes:
        f.fire(write(data))
    if seek_to is not None:
        f.fire(seek(seek_to))
        run_until(app, lambda: recorder.count("eof") == 2)
    f.fire(close())
    run_until(app, lambda: recorder.count("closed"))
    assert recorder.count("error") == 0, recorder.args("error")
    assert path.read_bytes() == expect_file
    if expect_read is not None:
        assert read_all(recorder) == expect_read
    else:
        assert recorder.count("read") == 0


def test_x_mode_fails_if_the_file_exists(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"keep")
    File(str(tmp_path / "f"), "x").register(app)
    run_until(app, lambda: recorder.count("error"))
    assert isinstance(recorder.args("error")[0][0], FileExistsError)
    assert (tmp_path / "f").read_bytes() == b"keep"


def test_a_missing_file_is_an_error_event_not_a_crash(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    f = File(str(tmp_path / "missing.txt")).register(app)
    run_until(app, lambda: recorder.count("error"))
    [(err,)] = recorder.args("error")
    assert isinstance(err, FileNotFoundError) and err.filename == str(tmp_path / "missing.txt")
    assert recorder.count("opened") == 0 and recorder.count("exception") == 0
    assert f.closed
    # It can be told to open something else.
    (tmp_path / "there.txt").write_bytes(b"hi")
    f.fire(open(str(tmp_path / "there.txt"), "rb"))
    run_until(app, lambda: recorder.count("closed"))
    assert read_all(recorder) == b"hi"


def test_a_directory_is_an_error(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    File(str(tmp_path)).register(app)
    run_until(app, lambda: recorder.count("error"))
    assert isinstance(recorder.args("error")[0][0], IsADirectoryError)
    assert recorder.count("opened") == 0


def test_bad_modes() -> None:
    for mode in ("", "q", "rw", "rr", "r++", "rbt", "b"):
        with pytest.raises(ValueError):
            parse_mode(mode)
    with pytest.raises(ValueError):
        File("x", "z")
    with pytest.raises(ValueError):
        File("x", "rb", encoding="utf-8")


def test_a_bad_mode_in_an_open_event_is_an_error(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    f = File(str(tmp_path / "x"), "w").register(app)
    run_until(app, lambda: recorder.count("opened"))
    f.fire(open(str(tmp_path / "y"), "nope"))
    run_until(app, lambda: recorder.count("error"))
    assert isinstance(recorder.args("error")[0][0], ValueError)


def test_writing_to_a_read_only_or_closed_file_is_an_error(
        app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "ro").write_bytes(b"x" * 10)
    f = File(str(tmp_path / "ro"), "rb", autoclose=False).register(app)
    run_until(app, lambda: recorder.count("eof"))
    f.fire(write(b"nope"))
    run_until(app, lambda: recorder.count("error"))
    assert isinstance(recorder.args("error")[0][0], io.UnsupportedOperation)
    f.fire(close())
    run_until(app, lambda: recorder.count("closed"))
    f.fire(write(b"nope"))
    run_until(app, lambda: recorder.count("error") == 2)
    assert (tmp_path / "ro").read_bytes() == b"x" * 10


def test_seek_rereads_from_the_new_position(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    f = File(str(tmp_path / "f"), "rb", autoclose=False).register(app)
    run_until(app, lambda: recorder.count("eof"))
    f.fire(seek(-3, os.SEEK_END))
    run_until(app, lambda: recorder.count("eof") == 2)
    assert [e.args[0] for e in recorder.named("read")] == [b"0123456789", b"789"]


def test_reopening_with_an_open_event(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    (tmp_path / "one").write_bytes(b"1")
    (tmp_path / "two").write_bytes(b"2")
    f = File(str(tmp_path / "one"), "rb", autoclose=False).register(app)
    run_until(app, lambda: recorder.count("eof"))
    f.fire(open(str(tmp_path / "two"), "rb"))
    run_until(app, lambda: recorder.count("eof") == 2)
    assert recorder.names("file").count("closed") == 1  # the first one
    assert recorder.args("opened") == [(str(tmp_path / "one"), "rb"), (str(tmp_path / "two"), "rb")]
    assert read_all(recorder) == b"12"


# -- FIFOs, devices and borrowed descriptors ---------------------------------

def test_a_fifo_is_read_through_the_poller(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    f = File(fifo, "rb").register(app)
    run_until(app, lambda: recorder.count("opened"))
    assert f._transport is not None and app.loop.is_reading(f._transport.fd)
    data = os.urandom(200_000)
    writer = threading.Thread(target=_write_file, args=(fifo, data))
    writer.start()
    run_until(app, lambda: recorder.count("closed"))
    writer.join()
    assert read_all(recorder) == data
    assert recorder.names("file")[-2:] == ["eof", "closed"]


def _write_file(path: str, data: bytes) -> None:
    with io.open(path, "wb") as w:  # noqa: UP020 (our `open` is the event)
        w.write(data)


def test_writing_a_fifo_closes_after_pending_writes(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    received = bytearray()
    reader_open = threading.Event()

    def reader() -> None:
        fd = os.open(fifo, os.O_RDONLY)  # blocks until our writer opens
        reader_open.set()
        while chunk := os.read(fd, 65536):
            received.extend(chunk)
        os.close(fd)

    thread = threading.Thread(target=reader)
    # Opening a FIFO's write end fails (ENXIO) while nobody reads it: open
    # a read end here first so the component's open succeeds.
    keep = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    thread.start()
    f = File(fifo, "wb").register(app)
    run_until(app, lambda: recorder.count("opened"))
    assert reader_open.wait(10)
    os.close(keep)
    data = os.urandom(1 << 20)
    f.fire(write(data))
    f.fire(close())
    run_until(app, lambda: recorder.count("closed"))
    thread.join(10)
    assert bytes(received) == data
    assert recorder.count("error") == 0


def test_a_fifo_nobody_reads_cannot_be_opened_for_writing(
        app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    File(fifo, "wb").register(app)
    run_until(app, lambda: recorder.count("error"))
    assert recorder.args("error")[0][0].errno == errno.ENXIO


def test_seek_on_a_fifo_is_an_error(app: Manager, recorder: Recorder, tmp_path: Path) -> None:
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    f = File(fifo, "rb").register(app)
    run_until(app, lambda: recorder.count("opened"))
    f.fire(seek(0))
    run_until(app, lambda: recorder.count("error"))
    assert recorder.args("error")[0][0].errno == errno.ESPIPE
    f.fire(close())
    run_until(app, lambda: recorder.count("closed"))


def test_dev_null_which_epoll_refuses(app: Manager, recorder: Recorder) -> None:
    f = File("/dev/null", "r+b").register(app)
    run_until(app, lambda: recorder.count("eof"))
    assert f._transport is None  # epoll said EPERM: read like a regular file
    f.fire(write(b"x" * 100_000))
    f.fire(close())
    run_until(app, lambda: recorder.count("closed"))
    assert recorder.count("error") == 0 and recorder.count("read") == 0


def test_a_borrowed_descriptor_stays_open_and_blocking(app: Manager, recorder: Recorder) -> None:
    r, w = os.pipe()
    try:
        assert os.get_blocking(r)
        f = File(r, "rb").register(app)
        run_until(app, lambda: recorder.count("opened"))
        assert not os.get_blocking(r)  # shared with our duplicate while open
        os.write(w, b"through a pipe")
        run_until(app, lambda: recorder.count("read"))
        f.fire(close())
        run_until(app, lambda: recorder.count("closed"))
        assert os.get_blocking(r)
        os.write(w, b"still open")
        assert os.read(r, 100) == b"still open"
        assert read_all(recorder) == b"through a pipe"
    finally:
        os.close(r)
        os.close(w)


def test_stopping_the_app_closes_the_file(tmp_path: Path) -> None:
    app = Manager()
    recorder = Recorder().register(app)
    f = File(str(tmp_path / "f"), "w").register(app)
    run_until(app, lambda: recorder.count("opened"))
    f.fire(write("bye"))
    app.fire(stopped(app))
    run_until(app, lambda: recorder.count("closed"))
    assert (tmp_path / "f").read_text() == "bye"
    app.loop.close()

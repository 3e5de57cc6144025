"""Large responses respect backpressure; large uploads go to disk."""

from __future__ import annotations

import io
import socket
import threading
import time

import pytest

from circuits.web import Controller
from circuits.web.forms import UploadedFile

from .helpers import parse_responses, recv_all, serve

CHUNK = 64 * 1024
TOTAL_CHUNKS = 1024  # 64 MiB


class Big(Controller):
    produced = 0
    uploads: list = []

    def gen(self):
        def chunks():
            for _ in range(TOTAL_CHUNKS):
                Big.produced += 1
                yield b"x" * CHUNK
        self.response.body = chunks()

    def file(self):
        return self.serve_file(Big.path)

    def ping(self):
        return "pong"

    def upload(self, name="", upload=None):
        Big.uploads.append(upload)
        return f"{name}:{upload.filename}:{upload.size}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as f:
        for _ in range(TOTAL_CHUNKS):
            f.write(b"y" * CHUNK)
    Big.path = str(path)
    with serve(Big(), max_body=64 * 1024 * 1024) as s:
        yield s


def wait_stable(read, timeout=3.0):
    """Wait until ``read()`` stops changing (the writer has filled every buffer)."""
    last = read()
    stable_since = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = read()
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 0.3:
            break
    return last


def test_generator_body_waits_for_a_slow_reader(server):
    Big.produced = 0
    sock = server.raw(timeout=10)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"GET /gen HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        produced = wait_stable(lambda: Big.produced)
        # The server stopped producing: only buffers' worth (well under the 64 MiB) was made.
        assert produced * CHUNK < 24 * 1024 * 1024, produced
        transport = server.app.server.transport_for(server.app.server.clients[0])
        assert transport.buffered <= server.app.http.high_water + 4 * CHUNK
        # Meanwhile the server answers others.
        res, data = server.get("/ping")
        assert data == b"pong"
        data = recv_all(sock, timeout=20)
    finally:
        sock.close()
    reply = parse_responses(data)[0]
    assert len(reply.body) == TOTAL_CHUNKS * CHUNK
    assert Big.produced == TOTAL_CHUNKS


def test_file_body_streams_without_loading_the_file(server):
    import tracemalloc

    tracemalloc.start()
    try:
        res, data = server.get("/file")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(data) == TOTAL_CHUNKS * CHUNK
    assert res.getheader("Content-Length") == str(TOTAL_CHUNKS * CHUNK)
    # The client's copy is 64 MiB; the server thread's peak must not add another one.
    assert peak < 2 * TOTAL_CHUNKS * CHUNK


def test_concurrent_large_downloads_and_small_requests(server):
    done = []

    def download():
        res, data = server.get("/file")
        done.append(len(data))

    threads = [threading.Thread(target=download) for _ in range(3)]
    for t in threads:
        t.start()
    started = time.monotonic()
    res, data = server.get("/ping")
    small_latency = time.monotonic() - started
    for t in threads:
        t.join(30)
    assert done == [TOTAL_CHUNKS * CHUNK] * 3
    assert small_latency < 2.0


def test_multipart_upload_is_spooled_to_disk(server):
    payload = bytes(range(256)) * 8192  # 2 MiB
    boundary = "----circuitsboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nalice\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    Big.uploads.clear()
    res, data = server.request("POST", "/upload", body=body,
                               headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert (res.status, data) == (200, b"alice:a.bin:2097152")
    upload = Big.uploads[0]
    assert isinstance(upload, UploadedFile)
    assert not isinstance(upload.file, io.BytesIO)  # a real file on disk
    assert upload.value == payload


def test_malformed_multipart_is_400(server):
    res, _ = server.request("POST", "/upload", body=b"garbage",
                            headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert res.status == 400

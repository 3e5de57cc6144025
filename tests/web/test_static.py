"""Static files: defaults, listings, the docroot boundary, caching and ranges."""

from __future__ import annotations

import os

import pytest

from circuits.web import Controller, Static

from .helpers import parse_responses, recv_all, serve


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    docroot = root / "public"
    docroot.mkdir()
    (docroot / "index.html").write_text("<h1>home</h1>")
    (docroot / "hello.txt").write_text("hello static world")
    (docroot / "data.bin").write_bytes(bytes(range(256)) * 4)
    (docroot / "docs").mkdir()
    (docroot / "docs" / "a b&c.txt").write_text("spaced")
    (docroot / "docs" / "<script>.txt").write_text("x")
    (docroot / "empty").mkdir()
    (root / "secret.txt").write_text("TOP SECRET")
    os.symlink(root / "secret.txt", docroot / "link-out.txt")
    os.symlink(root, docroot / "dir-out")
    os.symlink(docroot / "hello.txt", docroot / "link-in.txt")
    return docroot


class Root(Controller):
    docroot = ""

    def dynamic(self):
        return "controller"

    def download(self, name=None):
        return self.serve_download(os.path.join(Root.docroot, "hello.txt"), name)

    def picture(self):
        return self.serve_file(os.path.join(Root.docroot, "hello.txt"), type="image/x-test", disposition="inline")

    def nofile(self):
        return self.serve_file(os.path.join(Root.docroot, "nope.txt"))


@pytest.fixture(scope="module")
def server(tree):
    Root.docroot = str(tree)
    with serve(Static(docroot=str(tree), dirlisting=True), Static("/assets", docroot=str(tree)), Root()) as s:
        yield s


def raw_get(server, target: bytes) -> int:
    sock = server.raw()
    try:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        replies = parse_responses(recv_all(sock))
    finally:
        sock.close()
    return replies[0]


def test_file_and_type(server):
    res, data = server.get("/hello.txt")
    assert data == b"hello static world"
    assert res.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert res.getheader("Content-Length") == str(len(data))


def test_index_default(server):
    res, data = server.get("/")
    assert data == b"<h1>home</h1>"


def test_prefix(server):
    res, data = server.get("/assets/hello.txt")
    assert data == b"hello static world"


def test_directory_without_slash_redirects(server):
    res, _ = server.get("/docs")
    assert res.status == 301
    assert res.getheader("Location").endswith("/docs/")


def test_directory_listing_quotes_urls_and_escapes_names(server):
    res, data = server.get("/docs/")
    assert res.status == 200
    assert b'href="a%20b%26c.txt"' in data
    assert b"&lt;script&gt;.txt" in data
    assert b"<script>.txt" not in data


def test_quoted_path_is_unquoted(server):
    res, data = server.get("/docs/a%20b%26c.txt")
    assert data == b"spaced"


def test_missing_file_falls_through_to_controllers(server):
    res, data = server.get("/dynamic")
    assert data == b"controller"
    res, _ = server.get("/nothing.txt")
    assert res.status == 404


def test_symlink_inside_root_is_served(server):
    res, data = server.get("/link-in.txt")
    assert data == b"hello static world"


ESCAPES = [b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt", b"/docs/../../secret.txt",
           b"/docs/%2e%2e/%2e%2e/secret.txt", b"/link-out.txt", b"/dir-out/secret.txt",
           b"/..%2fsecret.txt", b"/assets/../secret.txt", b"/assets/%2e%2e/secret.txt", b"/%5c..%5csecret.txt"]


@pytest.mark.parametrize("target", ESCAPES, ids=[t.decode() for t in ESCAPES])
def test_never_serves_outside_the_docroot(server, target):
    reply = raw_get(server, target)
    assert reply.status in (400, 403, 404)
    assert b"TOP SECRET" not in reply.body


def test_etag_and_last_modified_give_304(server):
    res, data = server.get("/hello.txt")
    etag = res.getheader("ETag")
    modified = res.getheader("Last-Modified")
    res, data = server.get("/hello.txt", headers={"If-None-Match": etag})
    assert (res.status, data) == (304, b"")
    res, data = server.get("/hello.txt", headers={"If-Modified-Since": modified})
    assert (res.status, data) == (304, b"")
    res, data = server.get("/hello.txt", headers={"If-None-Match": '"other"'})
    assert res.status == 200


RANGES = [
    ("bytes=0-9", 206, bytes(range(10)), "bytes 0-9/1024"),
    ("bytes=1020-", 206, bytes(range(252, 256)), "bytes 1020-1023/1024"),
    ("bytes=-3", 206, bytes(range(253, 256)), "bytes 1021-1023/1024"),
    ("bytes=1000-5000", 206, bytes(range(1000 - 768, 256)), "bytes 1000-1023/1024"),
    ("bytes=5000-6000", 416, None, "bytes */1024"),
    ("lines=1-2", 200, None, None),
    ("bytes=9-3", 200, None, None),
]


@pytest.mark.parametrize(("header", "status", "body", "content_range"), RANGES, ids=[r[0] for r in RANGES])
def test_ranges(server, header, status, body, content_range):
    res, data = server.get("/data.bin", headers={"Range": header})
    assert res.status == status
    if body is not None:
        assert data == body
    if status == 200:
        assert len(data) == 1024
    assert res.getheader("Content-Range") == content_range


def test_multiple_ranges_are_multipart(server):
    res, data = server.get("/data.bin", headers={"Range": "bytes=0-1,10-11"})
    assert res.status == 206
    assert res.getheader("Content-Type").startswith("multipart/byteranges; boundary=")
    assert int(res.getheader("Content-Length")) == len(data)
    assert b"Content-Range: bytes 0-1/1024" in data and b"Content-Range: bytes 10-11/1024" in data


def test_head_of_a_file(server):
    conn = server.conn()
    conn.request("HEAD", "/data.bin")
    res = conn.getresponse()
    assert res.read() == b""
    assert res.getheader("Content-Length") == "1024"
    conn.request("GET", "/hello.txt")  # the connection is still usable
    assert conn.getresponse().read() == b"hello static world"
    conn.close()


def test_post_is_not_served_by_static(server):
    res, _ = server.request("POST", "/hello.txt", body=b"")
    assert res.status == 404


@pytest.mark.parametrize(("path", "ctype", "disposition"), [
    ("/download", "application/x-download", 'attachment; filename="hello.txt"'),
    ("/download?name=r%C3%A9sum%C3%A9.txt", "application/x-download",
     "attachment; filename=\"r?sum?.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"),
    ("/picture", "image/x-test", 'inline; filename="hello.txt"'),
])
def test_serve_file_helpers(server, path, ctype, disposition):
    res, data = server.get(path)
    assert data == b"hello static world"
    assert res.getheader("Content-Type") == ctype
    assert res.getheader("Content-Disposition") == disposition


def test_serve_file_missing_is_404(server):
    res, _ = server.get("/nofile")
    assert res.status == 404

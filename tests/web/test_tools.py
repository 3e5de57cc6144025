"""Tools over real HTTP: authentication, sessions, gzip, caching, logging."""

from __future__ import annotations

import base64
import gzip as gzip_module
import hashlib
import io
import os
import re
import time
import urllib.request
from hashlib import md5

import pytest

from circuits import Component, handler
from circuits.web import Controller, Logger, Sessions
from circuits.web.tools import basic_auth, check_auth, digest_auth, expires, gzip, validate_etags

from .helpers import serve

USERS = {"admin": md5(b"admin").hexdigest()}
PLAIN = {"admin": "s3cret"}


class Root(Controller):
    def basic(self):
        answer = basic_auth(self.request, self.response, "Test", USERS)
        return answer or f"hello {self.request.login}"

    def digest(self):
        answer = digest_auth(self.request, self.response, "Digest Realm", PLAIN)
        return answer or f"digest {self.request.login}"

    def counter(self):
        self.session["n"] = self.session.get("n", 0) + 1
        return str(self.session["n"])

    def streamed(self):
        self.response.headers["Content-Length"] = "6"
        return iter([b"abc", b"def"])

    def big(self):
        self.response.headers["Content-Type"] = "text/plain"
        return gzip(self.response) and "hello " * 1000

    def zipped(self):
        self.response.headers["Content-Type"] = "text/plain"
        self.response.body = "hello " * 1000
        return gzip(self.response)

    def zipstream(self):
        self.response.headers["Content-Type"] = "text/plain"
        self.response.body = iter(["a" * 1000, "b" * 1000])
        return gzip(self.response)

    def cached(self):
        expires(self.request, self.response, 0)
        return "x"

    def tagged(self):
        self.response.body = "tagged body"
        return validate_etags(self.request, self.response, autotags=True) or self.response


class Guard(Component):
    channel = "web"

    @handler("request", priority=1.0)
    def on_request(self, event, request, response):
        if request.path != "/guarded":
            return
        if not check_auth(request, response, "Guarded", USERS):
            return basic_auth(request, response, "Guarded", USERS)


class Guarded(Controller):
    channel = "/guarded"
    hits = 0

    def index(self):
        Guarded.hits += 1
        return "inside"


@pytest.fixture(scope="module")
def log():
    return io.StringIO()


class LogOrder(Component):
    """Notes, just before a response is sent, whether it was logged already."""

    channel = "web"
    seen: list[bool] = []

    @handler("response", priority=0.5)
    def _before_send(self, response):
        if "order=1" in response.request.target:
            LogOrder.seen.append("order=1" in LogOrder.log.getvalue())


@pytest.fixture(scope="module")
def server(log):
    LogOrder.log = log
    with serve(Root(), Guard(), Guarded(), Sessions(), Logger(file=log), LogOrder()) as s:
        yield s


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    (basic("admin", "wrong"), 401),
    (basic("nobody", "admin"), 401),
    ({"Authorization": "Basic !!!notbase64"}, 401),
    ({"Authorization": "Bearer abc"}, 401),
    (basic("admin", "admin"), 200),
])
def test_basic_auth(server, headers, status):
    res, data = server.get("/basic", headers=headers)
    assert res.status == status
    if status == 401:
        assert res.getheader("WWW-Authenticate").startswith('Basic realm="Test"')
    else:
        assert data == b"hello admin"


def test_request_handler_guard_keeps_the_controller_from_running(server):
    Guarded.hits = 0
    res, _ = server.get("/guarded")
    assert res.status == 401
    res, _ = server.get("/guarded", headers=basic("admin", "nope"))
    assert res.status == 401
    assert Guarded.hits == 0
    res, data = server.get("/guarded", headers=basic("admin", "admin"))
    assert (res.status, data) == (200, b"inside")
    assert Guarded.hits == 1


def test_digest_auth_with_a_real_client(server):
    url = f"http://127.0.0.1:{server.port}/digest"
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, "admin", "s3cret")
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    with opener.open(url, timeout=5) as res:
        assert res.read() == b"digest admin"
    bad = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    bad.add_password(None, url, "admin", "wrong")
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(bad))
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(url, timeout=5)
    assert info.value.code == 401


class DigestRoot(Controller):
    def index(self):
        users = {"admin": "s3cret"}
        if check_auth(self.request, self.response, "Root", users):
            return f"root {self.request.login}"
        return digest_auth(self.request, self.response, "Root", users)


def test_digest_auth_of_the_root_with_urllib_which_sends_an_empty_uri():
    with serve(DigestRoot()) as running:
        base = f"http://127.0.0.1:{running.port}"  # no path: urllib digests uri=""
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, base, "admin", "s3cret")
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
        with opener.open(base, timeout=5) as res:
            assert res.read() == b"root admin"


def test_sessions_keep_state_per_client(server):
    res, data = server.get("/counter")
    cookie = res.getheader("Set-Cookie")
    assert data == b"1"
    assert "HttpOnly" in cookie and "Path=/" in cookie
    sid = re.match(r"circuits.session=([^;]+)", cookie).group(1)
    assert len(sid) >= 40
    res, data = server.get("/counter", headers={"Cookie": f"circuits.session={sid}"})
    assert data == b"2"
    # A made-up id is not adopted (no session fixation).
    res, data = server.get("/counter", headers={"Cookie": "circuits.session=" + "A" * 43})
    assert data == b"1"
    assert "A" * 43 not in res.getheader("Set-Cookie")


@pytest.mark.parametrize(("accept", "compressed"), [
    ("gzip", True), ("gzip;q=0", False), ("identity", False), ("x-gzip", True), (None, False),
    ("identity;q=0.5, gzip", True), ("deflate", False),
])
def test_gzip(server, accept, compressed):
    headers = {"Accept-Encoding": accept} if accept else {}
    res, data = server.get("/zipped", headers=headers)
    assert (res.getheader("Content-Encoding") == "gzip") is compressed
    body = gzip_module.decompress(data) if compressed else data
    assert body == b"hello " * 1000


def test_gzip_of_a_stream(server):
    res, data = server.get("/zipstream", headers={"Accept-Encoding": "gzip"})
    assert res.getheader("Content-Encoding") == "gzip"
    assert gzip_module.decompress(data) == b"a" * 1000 + b"b" * 1000


def test_expires_zero_prevents_caching(server):
    res, _ = server.get("/cached")
    assert res.getheader("Cache-Control") == "no-cache, must-revalidate"
    assert res.getheader("Pragma") == "no-cache"
    assert res.getheader("Expires")


def test_autotags(server):
    res, _ = server.get("/tagged")
    etag = res.getheader("ETag")
    assert etag
    res, data = server.get("/tagged", headers={"If-None-Match": etag})
    assert (res.status, data) == (304, b"")
    res, _ = server.request("POST", "/tagged", body=b"", headers={"If-Match": '"nope"'})
    assert res.status == 412


def test_logger_writes_combined_log_format(server, log):
    server.get("/basic?x=1", headers={"User-Agent": 'evil"agent', "Referer": "http://r/"})
    # The line is written just after the response went out: wait for it.
    deadline = time.monotonic() + 5
    while "/basic?x=1" not in log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    line = [x for x in log.getvalue().splitlines() if "/basic?x=1" in x][-1]
    pattern = (r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
               r'"GET /basic\?x=1 HTTP/1\.1" 401 \d+ "http://r/" "evil\\"agent"$')
    assert re.match(pattern, line), line


def test_the_log_line_is_written_before_the_response_is_sent(server, log):
    # A body in one piece is logged just before the HTTP component (priority
    # 0) sends it, so whoever has the answer finds the line. Checked from a
    # handler that runs between the two.
    res, data = server.get("/basic?order=1")
    assert res.status == 401
    assert LogOrder.seen == [True]
    line = [x for x in log.getvalue().splitlines() if "/basic?order=1 " in x]
    assert len(line) == 1 and f" 401 {len(data)} " in line[0]


def test_a_streamed_body_is_logged_once_with_its_declared_size(server, log):
    res, data = server.get("/streamed")
    assert data == b"abcdef"
    deadline = time.monotonic() + 5
    while "/streamed" not in log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = [x for x in log.getvalue().splitlines() if "GET /streamed " in x]
    assert len(lines) == 1 and '" 200 6 ' in lines[0]


def test_logger_names_a_peer_that_hung_up_at_once(server, log):
    # Connection: close, and the client closes as soon as it has the answer:
    # the line must still name the peer (3.x tests read it back).
    with server.raw() as sock:
        sock.sendall(b"GET /basic?gone=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while sock.recv(4096):
            pass
    deadline = time.monotonic() + 5
    while "/basic?gone=1" not in log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    line = [x for x in log.getvalue().splitlines() if "/basic?gone=1" in x][-1]
    assert line.startswith("127.0.0.1 - - ["), line


class _Req:
    """Just what check_auth reads from a request."""

    def __init__(self, authorization: str) -> None:
        self.headers = {"Authorization": authorization}
        self.login = None


@pytest.mark.parametrize(("password", "ok"), [("s3cret", True), ("wrong", False)])
def test_check_auth_verifies_salted_hashes(password: str, ok: bool) -> None:
    salt = os.urandom(8)
    stored = salt.hex() + "$" + hashlib.pbkdf2_hmac("sha256", b"s3cret", salt, 1000).hex()

    def verify(given: str, stored: str) -> bool:
        salt_hex, digest = stored.split("$")
        return hashlib.pbkdf2_hmac("sha256", given.encode(), bytes.fromhex(salt_hex), 1000).hex() == digest

    request = _Req(basic("alice", password)["Authorization"])
    assert check_auth(request, None, "Test", {"alice": stored}, verify=verify) is ok
    assert request.login == ("alice" if ok else None)

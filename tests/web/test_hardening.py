"""Holes an attack run found in circuits.web, each against a real server on loopback."""

from __future__ import annotations

import pytest

from circuits import BaseComponent, handler
from circuits.web import Controller, Static
from circuits.web.errors import unauthorized
from circuits.web.hosts import HostFilter, same_origin
from circuits.web.websockets.dispatcher import WebSocketsDispatcher

from .helpers import parse_responses, recv_all, recv_until, serve, wait_closed


class Root(Controller):
    def index(self) -> str:
        return "ok"


class Upload(Controller):
    def upload(self) -> str:
        return str(len(self.request.body.read()))


def test_unsplittable_absolute_target_gets_400_at_once_and_the_connection_closes():
    # "http://[::1/" once made urlsplit raise out of the read handler: the
    # client waited for a 408 and a second request on the socket fired
    # request(None, None) and left the connection busy forever.
    with serve(Root()) as s:
        sock = s.raw()
        try:
            sock.sendall(b"GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
            # The whole exchange ends well within the 10 s head timeout: a
            # 400 and then EOF, nothing for the pipelined request.
            replies = parse_responses(recv_all(sock, timeout=5.0))
        finally:
            sock.close()
        assert [r.status for r in replies] == [400]
        res, body = s.get("/")
        assert (res.status, body) == (200, b"ok")


# -- cross-site WebSocket hijacking and DNS rebinding (issue 12, item 8) -----------


def _handshake(s, origin: str | None = None, host: str = "127.0.0.1", version: str = "1.1") -> int:
    lines = [f"GET /ws HTTP/{version}", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    sock = s.raw()
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = recv_until(sock, b"\r\n\r\n")
    finally:
        sock.close()
    return int(head.split(b" ", 2)[1])


def test_websocket_refuses_a_foreign_origin_and_accepts_its_own():
    ws = WebSocketsDispatcher("/ws", same_origin=True, origins=["https://ha.example"])
    with serve(Root(), ws) as s:
        own = f"127.0.0.1:{s.port}"
        assert _handshake(s, "http://evil.example", host=own) == 403
        assert _handshake(s, f"https://{own}", host=own) == 403  # another scheme is another origin
        assert _handshake(s, "null", host=own) == 403
        assert _handshake(s, f"http://{own}", host=own) == 101
        assert _handshake(s, "https://ha.example", host=own) == 101  # configured
        assert _handshake(s, None, host=own) == 101  # not a browser


def test_websocket_over_http_1_0_is_refused():
    with serve(Root(), WebSocketsDispatcher("/ws")) as s:
        assert _handshake(s, version="1.0") == 400


def test_host_filter_answers_421_for_names_it_does_not_serve():
    with serve(Root(), HostFilter(["localhost", "gw.lan"])) as s:
        for host, status in ((f"evil.example:{s.port}", 421), ("EVIL.example", 421), ("gw.lan.", 200),
                             (f"localhost:{s.port}", 200), ("127.0.0.1", 200), ("[::1]:80", 200),
                             ("GW.LAN:8080", 200), ("localhost:x", 421)):
            res, _ = s.get("/", headers={"Host": host})
            assert res.status == status, host


def test_same_origin_compares_scheme_host_and_port():
    assert same_origin("http://a:80", "a", "http")
    assert same_origin("https://[::1]", "[::1]:443", "https")
    assert not same_origin("http://a:81", "a", "http")
    assert not same_origin("http://a/", "a", "http")
    assert not same_origin("http://a", "b", "http")


# -- no body before authentication (issue 12, item 2) ---------------------------------


class KeyGuard(BaseComponent):
    """Lets through requests with the right X-Key, answers 401 otherwise (before the controllers)."""

    channel = "web"

    @handler("request", priority=100)
    def _on_request(self, event, request, response):
        if request.headers.get("X-Key") != "sesame":
            return unauthorized(request, response)
        return None


def _known_limit(request):
    return 100 if request.headers.get("X-Key") == "sesame" else 0


def _head_only(s, head: bytes) -> tuple[bytes, bool]:
    """Send only a head announcing a body; what comes back and whether the server closed."""
    sock = s.raw()
    try:
        sock.sendall(head)
        return wait_closed(sock)
    finally:
        sock.close()


def test_an_unauthenticated_body_is_refused_on_the_head_without_being_read():
    with serve(Upload(), KeyGuard(), body_limit=_known_limit, body_timeout=30.0) as s:
        # 10 MiB announced, not a byte sent: the 401 comes at once, and EOF.
        data, closed = _head_only(s, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n")
        assert closed and [r.status for r in parse_responses(data)] == [401]
        data, closed = _head_only(s, b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert closed and [r.status for r in parse_responses(data)] == [401]
        # Expect: 100-continue gets its final answer instead of 100.
        data, closed = _head_only(s, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n"
                                     b"Expect: 100-continue\r\n\r\n")
        assert closed and [r.status for r in parse_responses(data)] == [401]


def test_a_known_client_gets_413_on_the_head_for_a_body_above_its_limit():
    with serve(Upload(), KeyGuard(), body_limit=_known_limit, body_timeout=30.0) as s:
        data, closed = _head_only(s, b"POST /upload HTTP/1.1\r\nHost: x\r\nX-Key: sesame\r\n"
                                     b"Content-Length: 101\r\n\r\n")
        assert closed and [r.status for r in parse_responses(data)] == [413]
        chunked = b"".join(b"a\r\n" + b"x" * 10 + b"\r\n" for _ in range(11)) + b"0\r\n\r\n"
        data, closed = _head_only(s, b"POST /upload HTTP/1.1\r\nHost: x\r\nX-Key: sesame\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
        assert closed and [r.status for r in parse_responses(data)] == [413]
        res, body = s.request("POST", "/upload", body=b"y" * 100, headers={"X-Key": "sesame"})
        assert (res.status, body) == (200, b"100")


# -- forms: bounded work per request (issue 12, item 3) ------------------------------


class Form(Controller):
    def form(self, **fields) -> str:
        return ",".join(sorted(fields))


def _multipart(disposition: str) -> tuple[bytes, dict[str, str]]:
    body = (b"--XyZ\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\nvalue\r\n--XyZ--\r\n")
    return body, {"Content-Type": "multipart/form-data; boundary=XyZ"}


def test_a_multipart_part_header_above_16_kib_is_refused_however_it_was_read():
    # The cap was checked only once a 64 KiB read had not found the end of
    # the part's headers: a 60 KiB header block inside one read passed.
    with serve(Form()) as s:
        body, headers = _multipart('form-data; name="a"; x="' + "y" * 60000 + '"')
        res, _ = s.request("POST", "/form", body=body, headers=headers)
        assert res.status == 400
        body, headers = _multipart('form-data; name="a"; x="' + "y" * 1000 + '"')
        res, text = s.request("POST", "/form", body=body, headers=headers)
        assert (res.status, text) == (200, b"a")


def test_an_urlencoded_form_above_its_limit_gets_413():
    with serve(Form(), max_body=4 * 1024 * 1024) as s:
        res, _ = s.request("POST", "/form", body=b"a=" + b"x" * (2 * 1024 * 1024),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert res.status == 413
        res, text = s.request("POST", "/form", body=b"a=1&b=2",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (res.status, text) == (200, b"a,b")


# -- Range amplification and malformed ranges (issue 12, item 7) ------------------------


@pytest.fixture
def docroot(tmp_path):
    (tmp_path / "big.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    return tmp_path


def test_overlapping_ranges_are_refused_not_repeated(docroot):
    with serve(Static(docroot=str(docroot))) as s:
        res, body = s.get("/big.bin", headers={"Range": ",".join(["0-"] * 32).join(["bytes=", ""])})
        assert res.status == 416 and len(body) < 1024
        res, _ = s.get("/big.bin", headers={"Range": "bytes=0-100,100-10000,0-1"})
        assert res.status == 416
        # Adjacent ranges, in any order, are sent as one.
        res, body = s.get("/big.bin", headers={"Range": "bytes=10-19,0-4,5-9"})
        assert (res.status, res.getheader("Content-Range"), body) == (206, "bytes 0-19/1048576",
                                                                       (bytes(range(256)))[:20])


@pytest.mark.parametrize("header", ["bytes=" + "9" * 4301 + "-", "bytes=\u00b2-5", "bytes=0-\u00b3",
                                    "bytes=-" + "1" * 5000])
def test_a_malformed_range_is_ignored(docroot, header):
    with serve(Static(docroot=str(docroot))) as s:
        res, body = s.get("/big.bin", headers={"Range": header})
        assert res.status == 200 and len(body) == 1048576


# -- the small ones (issue 12, item 9) ------------------------------------------------


def _head_of(size: int) -> bytes:
    start = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    lines, left = [], size - len(start) - 2
    while left > 0:
        n = min(8000, left - 5) if left > 8005 else left - 5
        lines.append(b"X: " + b"a" * n + b"\r\n")
        left -= n + 5
    head = start + b"".join(lines) + b"\r\n"
    assert len(head) == size
    return head


def test_a_head_at_the_limit_gets_the_same_answer_however_it_is_segmented():
    head = _head_of(64 * 1024 + 2)  # the limit, plus the final empty line
    with serve(Root()) as s:
        for pieces in ([head], [head[:-1], head[-1:]], [head[:-2], head[-2:]]):
            sock = s.raw()
            try:
                early = b""
                for piece in pieces[:-1]:
                    sock.sendall(piece)
                    early += wait_closed(sock, timeout=0.05)[0]  # lets the server read the piece on its own
                sock.sendall(pieces[-1])
                data, closed = wait_closed(sock)
                data = early + data
            finally:
                sock.close()
            assert closed and [r.status for r in parse_responses(data)] == [200], len(pieces[0])


def test_chunked_with_parameters_gets_400():
    with serve(Upload()) as s:
        sock = s.raw()
        try:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;foo=bar\r\n\r\n"
                         b"3\r\nabc\r\n0\r\n\r\n")
            data, closed = wait_closed(sock)
        finally:
            sock.close()
        assert closed and [r.status for r in parse_responses(data)] == [400]

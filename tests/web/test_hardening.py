"""Holes an attack run found in circuits.web, each against a real server on loopback."""

from __future__ import annotations

from circuits.web import Controller

from .helpers import parse_responses, recv_all, serve


class Root(Controller):
    def index(self) -> str:
        return "ok"


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

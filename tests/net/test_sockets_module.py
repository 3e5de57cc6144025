"""circuits.net.sockets: the names 3.x code imports from it, and the default read size."""

from __future__ import annotations

import socket

from circuits.net import sockets
from circuits.net.client import TCPClient
from circuits.net.server import TCPServer


def test_bufsize_is_the_default_read_size_of_clients_and_servers():
    assert sockets.BUFSIZE == 4096
    server = TCPServer(("127.0.0.1", 0))
    try:
        assert server.bufsize == server._bufsize == sockets.BUFSIZE
        assert TCPServer(("127.0.0.1", 0), bufsize=10000)._bufsize == 10000
    finally:
        server._sock.close()
    assert TCPClient().bufsize == sockets.BUFSIZE


def test_an_int_bind_is_a_port_on_all_interfaces():
    # 3.x code patches sockets.gethostname; a bare port never depends on it.
    assert sockets.gethostname is socket.gethostname
    assert TCPClient(1234)._bind == ("0.0.0.0", 1234)


#!/usr/bin/env python

"""The manual's HowTo: a simple chat server.

Connect with telnet (or nc) to localhost port 8000 from two terminals and
type: what one client sends, every other client receives.

usage: chat_server.py [port]    (default 8000)
"""

import sys

from circuits import Component
from circuits.net.sockets import TCPServer, Write


class Server(Component):

    def __init__(self, host, port=8000):
        super(Server, self).__init__()

        self._clients = []

        TCPServer((host, port)).register(self)

    def ready(self, component, bind):
        # Not in the HowTo: says where it listens (port 0 picks a free one).
        print("Listening on {0}:{1}".format(*bind), flush=True)

    def connect(self, sock, host, port):
        self._clients.append(sock)

    def disconnect(self, sock):
        self._clients.remove(sock)

    def read(self, sock, data):
        for client in self._clients:
            if not client == sock:
                self.fire(Write(client, data.strip()))


Server("localhost", int(sys.argv[1]) if len(sys.argv) > 1 else 8000).run()

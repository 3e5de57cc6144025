#!/usr/bin/env python
"""Two processes, one event: circuits.node over TCP on loopback.

Run it: ``python examples/node_pair.py``. It starts a copy of itself as a
node server (``serve``), which prints the port it got; then this process
adds that server as the peer "peer", fires ``hello`` and ``add`` there with
``remote(...)`` and prints the values the peer's handlers returned.
"""

import os
import subprocess
import sys

from circuits import Component, Event, Manager
from circuits.node import Node, remote


class hello(Event):
    """hello(name): answered by the server process."""


class add(Event):
    """add(a, b): answered by the server process."""


class Greeter(Component):
    """Lives in the server process."""

    def hello(self, name):
        return f"Hello {name}! (from pid {os.getpid()})"

    def add(self, a, b):
        return a + b


class App(Component):
    """Lives in the calling process."""

    def started(self, manager):
        greeting = yield self.call(remote(hello("World"), "peer"))
        print(greeting.value)
        total = yield self.call(remote(add(20, 22), "peer"))
        print(f"20 + 22 = {total.value} (computed in another process)")
        self.stop()


def serve():
    app = Manager()
    node = Node(bind=("127.0.0.1", 0)).register(app)
    Greeter().register(app)
    print(node.port, flush=True)  # tells the parent where we listen
    app.run()


def main():
    server = subprocess.Popen([sys.executable, __file__, "serve"], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        app = Manager()
        Node().register(app).add("peer", "127.0.0.1", port)
        App().register(app)
        app.run()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    serve() if sys.argv[1:] == ["serve"] else main()

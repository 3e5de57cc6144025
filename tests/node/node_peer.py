"""A node server process for the tests: serves hello/add/fail, prints its port.

Usage: python node_peer.py [port]   (0 or nothing: any free port)
"""

from __future__ import annotations

import os
import sys

from circuits import Component, Manager
from circuits.node import Node


class Greeter(Component):
    channel = "greeter"

    def hello(self, name: str) -> str:
        return f"Hello {name} from pid {os.getpid()}"

    def add(self, a: int, b: int) -> int:
        return a + b

    def echo(self, *args: object, **kwargs: object) -> object:
        return [list(args), kwargs]

    def fail(self) -> None:
        raise ValueError("remote failure")

    def getpid(self) -> int:
        return os.getpid()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = Manager()
    node = Node(bind=("127.0.0.1", port)).register(app)
    Greeter().register(app)
    print(f"PORT {node.port}", flush=True)
    app.run()


if __name__ == "__main__":
    main()

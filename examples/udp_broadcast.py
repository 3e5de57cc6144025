#!/usr/bin/env python

"""UDP broadcast: send a counter to every host on the network, once a second.

Listen with e.g. ``socat -u UDP-RECV:9999 -``. To stay on this machine,
broadcast on the loopback network: ``udp_broadcast.py 9999 --address 127.255.255.255``.

usage: udp_broadcast.py [port] [--address ADDRESS] [--interval SECONDS]
"""

import argparse

from circuits import Component, Event, Timer
from circuits.net.sockets import UDPServer, broadcast


class next_number(Event):
    """Time to broadcast the next number"""


class Broadcaster(Component):

    def __init__(self, port, address="<broadcast>", interval=1.0):
        super().__init__()
        self.port = port
        self.address = address
        self.counter = 0
        UDPServer(0, broadcast_address=address).register(self)
        Timer(interval, next_number(), persist=True).register(self)

    def ready(self, component, bind):
        print("Broadcasting to {0}:{1} from port {2}".format(self.address, self.port, bind[1]), flush=True)

    def next_number(self):
        self.fire(broadcast("{0}\n".format(self.counter), self.port))
        self.counter += 1


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("port", type=int, nargs="?", default=9999)
parser.add_argument("--address", default="<broadcast>", help="broadcast address (default: <broadcast>)")
parser.add_argument("--interval", type=float, default=1.0, help="seconds between numbers")
args = parser.parse_args()

Broadcaster(args.port, args.address, args.interval).run()

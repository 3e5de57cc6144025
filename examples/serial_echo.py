#!/usr/bin/env python
"""Serial echo: every line that arrives on a serial port is sent back.

Usage: serial_echo.py PORT [BAUDRATE]

Try it without hardware:
    socat -d -d pty,raw,echo=0,link=/tmp/ttyA pty,raw,echo=0,link=/tmp/ttyB &
    python examples/serial_echo.py /tmp/ttyA &
    socat - /tmp/ttyB,raw,echo=0      # type a line: it comes back
"""

import sys

from circuits import Component, handler
from circuits.io.events import write
from circuits.io.serial import Serial
from circuits.protocols.line import Line


class Echo(Component):
    channel = "serial"

    def init(self, port, baudrate=115200):
        Serial(port, baudrate=baudrate, channel=self.channel).register(self)
        Line(channel=self.channel).register(self)

    def opened(self, port, baudrate):
        print(f"echoing on {port} at {baudrate} baud", flush=True)

    def line(self, line):
        self.fire(write(line + b"\r\n"))

    @handler("error")
    def on_error(self, error):
        print(f"serial error: {error}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    Echo(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 115200).run()

#!/usr/bin/env python

"""Simple TCP Echo Server

This example shows how you can create a simple TCP Server (an Echo Service)
utilizing the builtin Socket Components that the circuits library ships with.

usage: echoserver.py [bind]    (a port, or host:port; default 9000)
"""

import sys

from circuits import handler, Debugger
from circuits.net.sockets import TCPServer


class EchoServer(TCPServer):

    @handler("read")
    def on_read(self, sock, data):
        """Read Event Handler

        This is fired by the underlying Socket Component when there has been
        new data read from the connected client.

        ..note :: By simply returning, client/server socket components listen
                  to ValueChanged events (feedback) to determine if a handler
                  returned some data and fires a subsequent Write event with
                  the value returned.
        """

        return data

    @handler("ready")
    def on_ready(self, component, bind):
        # Not in the homepage's copy: says where it listens (port 0 picks one).
        print("Listening on {0}:{1}".format(*bind), flush=True)


# Start and "run" the system.
# Bind to port 9000 (or what the command line says)
app = EchoServer(sys.argv[1] if len(sys.argv) > 1 else 9000)
Debugger().register(app)
app.run()

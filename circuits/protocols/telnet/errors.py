"""The one exception type the Telnet and RFC 2217 state machines raise."""

from __future__ import annotations


class TelnetError(Exception):
    """The peer broke the protocol in a way the session cannot survive
    (a subnegotiation longer than the limit, a command inside one).

    The connection should be closed; ``str(err)`` says why, for the log.
    """

"""Telnet option negotiation by the "Q method" of RFC 1143.

Each option has two independent sides: ours ("us": we WILL / WONT, the peer
DO / DONT) and the peer's ("him": he WILL / WONT, we DO / DONT).  Each side
is one of NO, YES, WANTNO, WANTYES, with a one-deep queue (EMPTY or
OPPOSITE) for a change asked for while one is in flight.  RFC 1143 shows
that with these rules a pair of peers can never loop: a request that does
not change the state is never answered, so the same DO sent 1,000 times
costs at most one reply.

:class:`OptionTable` is pure: :meth:`receive` takes one received verb and
returns the bytes to send back and whether an option's state changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .codec import negotiation
from .constants import DO, DONT, WILL, WONT

__all__ = ["OptionChange", "OptionTable", "Q"]


class Q(Enum):
    NO = "no"
    YES = "yes"
    WANTNO = "wantno"
    WANTYES = "wantyes"


@dataclass(frozen=True, slots=True)
class OptionChange:
    """An option became enabled or disabled on one side."""

    option: int
    local: bool   # True: our side (we WILL), False: the peer's (he WILL)
    enabled: bool


@dataclass(slots=True)
class _Side:
    state: Q = Q.NO
    opposite: bool = False  # RFC 1143's queue bit: OPPOSITE when True


# Verbs by side: (positive request, negative request) we send for a side.
_SEND = {True: (WILL, WONT), False: (DO, DONT)}


class OptionTable:
    """The negotiation state of every option of one connection.

    ``local`` lists the options we agree to perform when asked (DO), and
    ``remote`` those we let the peer perform (WILL); any other request is
    refused (RFC 854: "DONT"/"WONT" answer an unwanted WILL/DO).
    """

    def __init__(self, local: frozenset[int] | set[int] = frozenset(),
                 remote: frozenset[int] | set[int] = frozenset()) -> None:
        self.local_ok = frozenset(local)
        self.remote_ok = frozenset(remote)
        self._sides: dict[tuple[int, bool], _Side] = {}
        #: Replies that contradicted our own request (RFC 1143 "error" cases).
        self.protocol_errors = 0

    def _side(self, option: int, local: bool) -> _Side:
        side = self._sides.get((option, local))
        if side is None:
            side = self._sides[(option, local)] = _Side()
        return side

    def enabled(self, option: int, *, local: bool) -> bool:
        side = self._sides.get((option, local))
        return side is not None and side.state is Q.YES

    def state(self, option: int, *, local: bool) -> Q:
        side = self._sides.get((option, local))
        return Q.NO if side is None else side.state

    # -- our own requests --------------------------------------------------

    def request(self, option: int, *, local: bool, enable: bool) -> bytes:
        """Ask to enable/disable ``option`` on a side; bytes to send (maybe none)."""
        side = self._side(option, local)
        yes, no = _SEND[local]
        want, wanting, unwanting = (Q.YES, Q.WANTYES, Q.WANTNO) if enable else (Q.NO, Q.WANTNO, Q.WANTYES)
        if side.state is (Q.NO if enable else Q.YES):
            side.state = wanting
            return negotiation(yes if enable else no, option)
        if side.state is want or side.state is wanting:
            # Already there, or on the way (a queued opposite is cancelled).
            side.opposite = False
            return b""
        if side.state is unwanting:
            side.opposite = True  # change back once the pending answer arrives
        return b""

    # -- the peer's verbs ------------------------------------------------------

    def receive(self, verb: int, option: int) -> tuple[bytes, OptionChange | None]:
        """Apply a received WILL/WONT/DO/DONT: (reply bytes, change or None)."""
        local = verb in (DO, DONT)
        positive = verb in (WILL, DO)
        side = self._side(option, local)
        yes, no = _SEND[local]
        allowed = option in (self.local_ok if local else self.remote_ok)
        state = side.state
        if positive:
            if state is Q.NO:
                if allowed:
                    side.state = Q.YES
                    return negotiation(yes, option), OptionChange(option, local, True)
                return negotiation(no, option), None
            if state is Q.YES:
                return b"", None  # RFC 1143: already enabled, no answer (this is what stops loops)
            if state is Q.WANTNO:
                # "DONT answered by WILL": the peer contradicts us.
                self.protocol_errors += 1
                if side.opposite:
                    side.state, side.opposite = Q.YES, False
                    return b"", OptionChange(option, local, True)
                side.state = Q.NO
                return b"", None
            # WANTYES: our request was accepted.
            if side.opposite:
                side.state, side.opposite = Q.WANTNO, False
                return negotiation(no, option), None
            side.state = Q.YES
            return b"", OptionChange(option, local, True)
        # Negative verb.
        if state is Q.NO:
            return b"", None
        if state is Q.YES:
            side.state = Q.NO
            return negotiation(no, option), OptionChange(option, local, False)
        if state is Q.WANTNO:
            if side.opposite:
                side.state, side.opposite = Q.WANTYES, False
                return negotiation(yes, option), None
            side.state = Q.NO
            return b"", OptionChange(option, local, False)
        # WANTYES refused.
        side.state, side.opposite = Q.NO, False
        return b"", None

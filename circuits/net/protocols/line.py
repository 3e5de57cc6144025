"""2.x path of :mod:`circuits.protocols.line`."""

from ...protocols.line import LP, Line, line

__all__ = ["LP", "Line", "line"]

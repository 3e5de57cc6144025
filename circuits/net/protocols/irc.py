"""2.x path of :mod:`circuits.protocols.irc`."""

from ...protocols.irc import *  # noqa: F403 - the whole documented namespace
from ...protocols.irc import __all__  # noqa: F401

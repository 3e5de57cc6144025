"""RFC 2217: every serial port also a remote COM port.

* :mod:`.port` -- what the port really has now (termios, modem lines, line errors);
* :mod:`.control` -- requests applied to the port under the device's policy;
* :mod:`.bridge` -- the listener, one Telnet COM-PORT-OPTION session per client.

The protocol itself is sans-I/O, in :mod:`circuits.protocols.telnet`.
"""

from .bridge import POLL_INTERVAL, Rfc2217Bridge, rfc2217_part
from .control import PortControl
from .port import LineSettings, read_settings

__all__ = ["POLL_INTERVAL", "LineSettings", "PortControl", "Rfc2217Bridge", "read_settings", "rfc2217_part"]

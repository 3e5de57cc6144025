"""Telnet (RFC 854/855/1143) and the RFC 2217 COM-PORT-OPTION server, sans-I/O.

* :mod:`.codec` -- framing: IAC escaping, commands, bounded subnegotiation;
* :mod:`.options` -- WILL/WONT/DO/DONT by the RFC 1143 Q method (no loops);
* :mod:`.comport` -- one RFC 2217 client session on an access server.
"""

from .codec import (
           Command,
           Data,
           Negotiation,
           Subnegotiation,
           TelnetDecoder,
           escape,
           negotiation,
           subnegotiation,
)
from .comport import ComPortRequest, ComPortServer, FlowControl, Ignored
from .errors import TelnetError
from .options import OptionChange, OptionTable, Q

__all__ = ["ComPortRequest", "ComPortServer", "Command", "Data", "FlowControl", "Ignored", "Negotiation",
           "OptionChange", "OptionTable", "Q", "Subnegotiation", "TelnetDecoder", "TelnetError", "escape",
           "negotiation", "subnegotiation"]

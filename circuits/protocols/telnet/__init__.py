"""Telnet (RFC 854/855/1143) and the RFC 2217 COM-PORT-OPTION server, sans-I/O.

* :mod:`.codec` -- framing: IAC escaping, commands, bounded subnegotiation;
* :mod:`.options` -- WILL/WONT/DO/DONT by the RFC 1143 Q method (no loops);
* :mod:`.comport` -- one RFC 2217 client session on an access server;
* :mod:`.constants` -- the option, command and COM-PORT-OPTION numbers.

The names below are imported from their modules when first used (PEP 562):
code that needs only the constants (a serial port's modem-line bits) does
not load the codec and the session.
"""

from __future__ import annotations

from circuits.core.lazy import lazy_attributes

_HOMES = {
    "Command": ".codec", "Data": ".codec", "Negotiation": ".codec", "Subnegotiation": ".codec",
    "TelnetDecoder": ".codec", "escape": ".codec", "negotiation": ".codec", "subnegotiation": ".codec",
    "ComPortRequest": ".comport", "ComPortServer": ".comport", "FlowControl": ".comport", "Ignored": ".comport",
    "TelnetError": ".errors", "OptionChange": ".options", "OptionTable": ".options", "Q": ".options",
}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, globals())

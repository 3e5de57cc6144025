"""RFC 2217: every serial port also a remote COM port.

* :mod:`.port` -- what the port really has now (termios, modem lines, line errors);
* :mod:`.control` -- requests applied to the port under the device's policy;
* :mod:`.bridge` -- the listener, one Telnet COM-PORT-OPTION session per client.

The protocol itself is sans-I/O, in :mod:`circuits.protocols.telnet`.

Import the modules themselves (``gateway.rfc2217.bridge``, ...): this
package imports none of them, so the dashboard, which reads a port's real
settings with :mod:`.port`, does not load the bridge and its Telnet session
for a gateway without an RFC 2217 listener.
"""

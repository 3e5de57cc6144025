"""The gateway's events: the hooks other components (dashboard, MQTT) handle.

Everything a consumer may want is fired on the public :data:`BUS` channel:

* ``device_status(device, status, detail)`` whenever a device changes state
  (``"starting"`` -> ``"online"`` / ``"offline"``); ``detail`` says why
  (the path opened, or the error).
* ``reading(reading)`` for every parsed message: a :class:`devices.Reading`
  dict ``{"device", "seq", "ts", "fields"}``.
* ``listening(device, address)`` once a device's TCP listener is bound.
* ``client_connected(device, peer, count)`` / ``client_disconnected(device,
  peer, reason, count)`` as TCP clients come and go (``reason`` is
  ``"closed"``, ``"too slow"`` or ``"max_clients"``).
* ``gateway_ready(summary)`` once every part the gateway waits for is up
  (see :mod:`gateway.readiness`); systemd hears READY=1 then.

* ``device_write(device, data)``: bytes for a device, fired by the MQTT
  uplink for a payload published to ``{prefix}/{device}/write``; the
  :class:`gateway.app.Gateway` writes them to that device's port.
* ``modbus_write(device, payload)`` / ``modbus_result(device, payload)``:
  a JSON Modbus write from ``{prefix}/{device}/modbus/write`` for a
  ``profile = "modbus"`` device (:mod:`gateway.modbus`), and its outcome,
  which the uplink publishes to ``{prefix}/{device}/modbus/result``.

This is the one module of these events: the MQTT uplink, the dashboard and
the tests all fire and handle these classes (``gateway.mqtt`` re-exports
them); only the MQTT client's own ``mqtt_*`` events live with it.

A component that needs start-up time (the web server) calls
``Readiness.expect(name)`` while being wired and fires ``part_ready(name)``
when it is up, so READY=1 waits for it too.
"""

from __future__ import annotations

from circuits import Event

#: The channel every public gateway event is fired on.
BUS = "gateway"
#: The channel of the hot-plug watcher and the ``ports_changed`` event.
HOTPLUG = "hotplug"


def device_channel(name: str) -> str:
    """The channel of one device's serial port (its ``read``/``write``/...)."""
    return f"device.{name}"


def tcp_channel(name: str) -> str:
    """The channel of one device's TCP listener."""
    return f"tcp.{name}"


class device_status(Event):
    """A device changed state: args (device, status, detail)."""


class reading(Event):
    """A message was parsed: args (reading,)."""


class device_write(Event):
    """Bytes to write to a device (from ``{prefix}/{device}/write``): args (device, data)."""


class modbus_write(Event):
    """A JSON Modbus write (from ``{prefix}/{device}/modbus/write``): args (device, payload)."""


class modbus_result(Event):
    """Its outcome, for ``{prefix}/{device}/modbus/result``: args (device, payload)."""


class listening(Event):
    """A device's TCP listener is bound: args (device, (host, port))."""


class client_connected(Event):
    """A TCP client of a device connected: args (device, (host, port), clients now)."""


class client_disconnected(Event):
    """A TCP client left or was dropped: args (device, (host, port), reason, clients left)."""


class part_ready(Event):
    """A part the gateway waits for before READY=1 is up: args (name,)."""


class gateway_ready(Event):
    """Every expected part is up: args (summary,) -- a one-line status."""


class ports_changed(Event):
    """Something appeared or vanished where serial ports live: args (path, action).

    ``path`` may be None (an inotify queue overflow: anything may have
    changed); ``action`` is e.g. ``"created"``, ``"add"``, ``"remove"``.
    """


class watchdog_ping(Event):
    """The watchdog Timer's tick; handled by the systemd service component."""

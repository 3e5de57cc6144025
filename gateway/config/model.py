"""The validated configuration: immutable values the rest of the gateway reads.

Nothing here validates; :mod:`gateway.config.validate` builds these only from
input it has checked, so code holding a :class:`GatewayConfig` can trust it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from ..access import Network
from .presentation import FieldPresentation

Profile = Literal["keyvalue", "csv", "json", "nmea", "raw", "modbus"]
Framing = Literal["line", "raw", "slip"]
Parity = Literal["N", "E", "O", "M", "S"]
#: What RFC 2217 clients may change: anything, nothing, or baud rates from a list.
Rfc2217Policy = Literal["allow", "lock", "limits"]
#: Who may write to the device through its ``tcp`` listener.
TcpMode = Literal["shared", "one-writer", "read-only"]
TCP_MODES: tuple[TcpMode, ...] = ("shared", "one-writer", "read-only")

PROFILES: tuple[Profile, ...] = ("keyvalue", "csv", "json", "nmea", "raw", "modbus")
FRAMINGS: tuple[Framing, ...] = ("line", "raw", "slip")
PARITIES: tuple[Parity, ...] = ("N", "E", "O", "M", "S")
RFC2217_POLICIES: tuple[Rfc2217Policy, ...] = ("allow", "lock", "limits")
LOG_LEVELS: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")

DEFAULT_STATE_DIR = Path("/var/lib/circuits-gateway")


class Address(NamedTuple):
    """A host and port; a tuple so it can be passed to ``socket.bind`` as is.

    An empty host means every interface (the ``socket.bind`` convention).
    """

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """USB identity of a serial adapter: lowercase hex, as udev shows it."""

    vid: str
    pid: str
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class ModbusRead:
    """One ``[[device.modbus.read]]`` entry: a value polled from a unit."""

    unit: int
    name: str
    table: str  # "holding" | "input" | "coil" | "discrete"
    address: int
    type: str = "uint16"  # int16 uint16 int32 uint32 float32 bool
    word_order: str = "big"  # of 32-bit values: "big" = high word first
    scale: float = 1.0
    offset: float = 0.0
    every: float = 10.0  # seconds between polls ([device.modbus] poll unless given)
    #: Home Assistant discovery: the sensor's device_class ("voltage",
    #: "energy", ...) and state_class (None: "measurement").
    device_class: str | None = None
    state_class: str | None = None

    @property
    def width(self) -> int:
        """Registers (or bits) the value occupies."""
        return 2 if self.type in ("int32", "uint32", "float32") else 1


@dataclass(frozen=True, slots=True)
class ModbusConfig:
    """``[device.modbus]`` of a ``profile = "modbus"`` device (an RTU master)."""

    #: Seconds a unit has to answer before the request fails (0x0B to a TCP client).
    timeout: float = 1.0
    #: Requests one TCP client (or the poller) may have waiting; more get 0x06.
    queue: int = 32
    #: Seconds after a broadcast before the next request (the units act on it).
    turnaround: float = 0.1
    #: Default seconds between polls of ``reads``.
    poll: float = 10.0
    reads: tuple[ModbusRead, ...] = ()
    #: Turn on the kernel's RS-485 mode (the driver drives the transmitter enable).
    rs485: bool = False
    #: Seconds a Modbus TCP client may stay connected sending nothing (and
    #: waiting for nothing) before it is closed: it holds a socket and a slot.
    client_idle: float = 300.0
    #: Seconds a client has to finish a request it started (half an MBAP
    #: header, a cut ADU) before it is closed.
    client_partial: float = 5.0
    #: Seconds the bus is kept silent after an answer before the next
    #: request (``frame_gap``); None: the spec's t3.5, from the port's baud
    #: rate and framing (1.75 ms above 19200 baud).
    frame_gap: float | None = None


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """``[tls]``: the certificate of the devices' raw TCP and RFC 2217 listeners (``tls = true``)."""

    certfile: Path
    keyfile: Path | None = None
    #: CA certificates (PEM) clients must present a certificate from: mutual TLS.
    client_ca: Path | None = None
    #: Seconds a client has from accept to finish its handshake.
    handshake_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    name: str
    port: str | None = None
    match: MatchConfig | None = None
    baudrate: int = 115200
    bytesize: int = 8
    parity: Parity = "N"
    stopbits: float = 1
    rtscts: bool = False
    xonxoff: bool = False
    # Two processes reading one tty each see only part of the stream, so a
    # gateway asks for the port exclusively unless told otherwise.
    exclusive: bool = True
    profile: Profile = "raw"
    columns: tuple[str, ...] = ()
    delimiter: str = ","
    # Options for other profiles (key_separator, encoding, ...), passed
    # through to the profile, which knows their meaning.
    options: tuple[tuple[str, str | int | float | bool | tuple[str, ...]], ...] = ()
    framing: Framing = "line"
    max_line: int = 65536
    tcp: Address | None = None
    max_clients: int | None = None
    client_buffer: int = 256 * 1024
    udp: Address | None = None
    #: An RFC 2217 (remote COM port) listener, next to or instead of ``tcp``.
    rfc2217: Address | None = None
    rfc2217_settings: Rfc2217Policy = "allow"
    #: With ``rfc2217_settings = "limits"``: the baud rates clients may set.
    rfc2217_baudrates: tuple[int, ...] = ()
    #: Restore the configured line settings when the last RFC 2217 client leaves.
    rfc2217_revert: bool = True
    enabled: bool = True
    #: Nothing from the dashboard's write console reaches this device.
    read_only: bool = False
    #: ``[device.fields.NAME]``: how the dashboard shows each field.
    fields: tuple[tuple[str, FieldPresentation], ...] = ()
    #: ``profile = "modbus"``: a Modbus TCP server in front of the RTU bus.
    modbus_tcp: Address | None = None
    #: ``profile = "modbus"``: the master's settings and polled values.
    modbus: ModbusConfig | None = None
    #: Networks whose peers may connect to this device's listeners (None: any).
    allow: tuple[Network, ...] | None = None
    #: ``shared``: every TCP client writes; ``one-writer``: the first one only;
    #: ``read-only``: none (what they send is discarded and counted).
    tcp_mode: TcpMode = "shared"
    #: Seconds without a byte from an open port after which it is closed
    #: and reopened (a stuck driver or adapter); None: never.
    idle_reopen: float | None = None
    #: ``tls = true``: the ``tcp`` and ``rfc2217`` listeners speak TLS with ``[tls]``.
    tls: TlsConfig | None = None

    def presentation(self, field: str) -> FieldPresentation | None:
        for name, shown in self.fields:
            if name == field:
                return shown
        return None

    @property
    def is_glob(self) -> bool:
        """True when ``port`` is a pattern to expand rather than a path."""
        return self.port is not None and any(c in self.port for c in "*?[")

    @property
    def profile_options(self) -> dict[str, str | int | float | bool | tuple[str, ...]]:
        """Everything the profile's parser is configured with, by option name."""
        opts = dict(self.options)
        if self.profile == "csv":
            opts["columns"] = self.columns
            opts["delimiter"] = self.delimiter
        return opts


#: Where the dashboard listens when ``[web]`` gives no ``listen``.
DEFAULT_WEB_LISTEN = Address("127.0.0.1", 8080)


@dataclass(frozen=True, slots=True)
class WebConfig:
    listen: Address = DEFAULT_WEB_LISTEN
    # user name -> pbkdf2 hash; a dict is not hashable, so it is left out of
    # the generated __hash__ (it still takes part in ==).
    users: dict[str, str] = field(default_factory=dict, hash=False)
    history: int = 1000
    #: A certificate (PEM; the key in it or in ``keyfile``): serve HTTPS/WSS.
    certfile: Path | None = None
    keyfile: Path | None = None
    #: Seconds a connection has to send its (first) request head, from accept.
    header_timeout: float = 10.0
    #: Seconds a request body may go without a byte (then also a minimum rate).
    body_timeout: float = 10.0
    #: Bytes a second a body must average once body_timeout has passed.
    body_min_rate: int = 1024
    #: Seconds an idle keep-alive connection is kept.
    keepalive_timeout: float = 60.0
    #: Seconds a client may leave a streamed response unread before it is dropped.
    send_timeout: float = 60.0
    #: Connections kept at most (None: half the descriptor limit); past it
    #: the connections idle for longest are shed.
    max_connections: int | None = None
    #: Host names the dashboard answers (None: localhost, the machine's name,
    #: the listen name); IP literals always. Defeats DNS rebinding.
    server_names: tuple[str, ...] | None = None
    #: Origins besides the dashboard's own allowed to open /ws.
    allowed_origins: tuple[str, ...] = ()
    #: Networks whose peers may connect to the dashboard (None: any).
    allow: tuple[Network, ...] | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.certfile is not None else "http"

    @property
    def host(self) -> str:
        return self.listen.host

    @property
    def port(self) -> int:
        return self.listen.port


@dataclass(frozen=True, slots=True)
class MqttConfig:
    host: str
    port: int = 1883
    topic_prefix: str = "gateway"
    qos: int = 1
    client_id: str = "gateway"
    keepalive: int = 60
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca_file: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    homeassistant: bool = False
    spool_max_mb: int = 64
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    name: str
    state_dir: Path = DEFAULT_STATE_DIR
    log_level: str = "INFO"
    devices: tuple[DeviceConfig, ...] = ()
    web: WebConfig | None = None
    mqtt: MqttConfig | None = None
    tls: TlsConfig | None = None

    def device(self, name: str) -> DeviceConfig:
        for device in self.devices:
            if device.name == name:
                return device
        raise KeyError(name)

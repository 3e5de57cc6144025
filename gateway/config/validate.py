"""Turn a parsed TOML dict into a :class:`GatewayConfig`, collecting problems.

One function per section.  Each reads its keys through :class:`Table`, which
records problems rather than raising, then builds its dataclass; the caller
raises :class:`ConfigError` if anything at all was recorded, so a half-built
object never escapes.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from circuits.net.authority import host_name

from ..passwordformat import parse_hash
from .access import read_allow, read_device_access
from .fields import Context, Table, show
from .modbus import read_modbus
from .model import (
    DEFAULT_STATE_DIR,
    DEFAULT_WEB_LISTEN,
    FRAMINGS,
    LOG_LEVELS,
    PARITIES,
    PROFILES,
    Address,
    DeviceConfig,
    GatewayConfig,
    MatchConfig,
    MqttConfig,
    TlsConfig,
    WebConfig,
)
from .presentation import read_fields
from .rfc2217 import read_rfc2217

#: Called with (profile, options) for each device; raises ValueError to reject
#: them.  It lets the gateway check options against ``devices`` profiles
#: while this package stays free of that import.
ProfileCheck = Callable[[str, Mapping[str, object]], None]

# Names end up in MQTT topics, udev symlinks and URLs: keep them to
# characters that are safe in all three.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME_HINT = 'must be 1-64 letters, digits, "_" or "-"'
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
# The serial is written into a udev rule between double quotes, which udev
# cannot escape; printable ASCII without quote or backslash is safe.
_SERIAL = re.compile(r'[ !#-\[\]-~]{1,126}')
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
_TOP_KEYS = ("gateway", "web", "mqtt", "device", "tls")

# Upper bounds, so every accepted value is one the run time can use:
# termios speeds are C ints and real UARTs stop around 12 Mbaud.
MAX_BAUDRATE = 12_000_000
#: Line and client buffers: far beyond any real device line.
MAX_BUFFER = 64 * 1024 * 1024
MAX_CLIENTS = 10_000
MAX_HISTORY = 1_000_000
#: Most dashboard connections one can ask for (each is a descriptor).
MAX_WEB_CONNECTIONS = 100_000
#: A terabyte of spool: more than the board's storage, less than overflow.
MAX_SPOOL_MB = 1024 * 1024
#: A day between reconnect attempts is the longest useful backoff.
MAX_RECONNECT = 86_400.0


def build(data: dict[str, Any], ctx: Context, base_dir: Path,
          check_profile: ProfileCheck | None = None) -> GatewayConfig | None:
    top = Table(ctx, data, (), None)
    gateway = top.table("gateway", section="gateway")
    name = state = None
    log_level = "info"
    if gateway is not None:
        name = gateway.string("name", required=True, pattern=_NAME, pattern_hint=_NAME_HINT)
        state = gateway.string("state_dir")
        log_level = gateway.choice("log_level", LOG_LEVELS, "info", fold=str.lower)
        gateway.finish()
    elif "gateway" not in data:
        ctx.report((), None, "gateway", "required table [gateway] is missing")

    web_table = top.table("web", section="web")
    web = _web(web_table, base_dir) if web_table is not None else None
    mqtt_table = top.table("mqtt", section="mqtt")
    mqtt = _mqtt(mqtt_table, name or "gateway", base_dir) if mqtt_table is not None else None
    tls_table = top.table("tls", section="tls")
    tls = _tls(tls_table, base_dir) if tls_table is not None else None
    devices = _devices(top, ctx, web, check_profile, tls)
    top.finish(_TOP_KEYS)
    if ctx.problems or name is None:
        return None
    return GatewayConfig(
        name=name,
        state_dir=DEFAULT_STATE_DIR if state is None else _resolve(base_dir, state),
        # Stored the way the logging module spells levels.
        log_level=str(log_level).upper(),
        devices=devices,
        web=web,
        mqtt=mqtt,
        tls=tls,
    )


def _resolve(base_dir: Path, value: str) -> Path:
    # Relative paths are relative to the configuration file, not to the
    # working directory, which is "/" under systemd.
    return (base_dir / Path(value).expanduser()).absolute()


# -- [web] -------------------------------------------------------------------


def _web(t: Table, base_dir: Path) -> WebConfig:
    # A slots dataclass has no class attribute for a default, so the
    # default address is a named constant (WebConfig.listen would be a
    # member descriptor, which crashed check and run).
    listen = t.address("listen") or DEFAULT_WEB_LISTEN
    users: dict[str, str] = {}
    users_table = t.table("users")
    if users_table is not None:
        for user, value in users_table.data.items():
            if not user or ":" in user:
                # RFC 7617 section 2: a Basic auth user-id cannot contain ":".
                users_table.error(user, 'user names must be non-empty and must not contain ":"')
            elif not isinstance(value, str):
                users_table.error(user, f"must be a string (a pbkdf2 hash), got {t.show_type(value)}")
            elif "pbkdf2" not in value.lower():
                users_table.error(user, "must be a pbkdf2 hash, not a plain password")
            else:
                try:
                    parse_hash(value)
                except ValueError as exc:
                    users_table.error(user, str(exc))
                else:
                    users[user] = value
    history = t.integer("history", 1000, minimum=1, maximum=MAX_HISTORY)
    certfile, keyfile = (t.string(key) for key in ("certfile", "keyfile"))
    cert = None if certfile is None else _resolve(base_dir, certfile)
    key = None if keyfile is None else _resolve(base_dir, keyfile)
    if key is not None and cert is None:
        t.error("keyfile", "requires certfile")
    elif cert is not None:
        _check_certificate(t, cert, key)
    deadlines = {key: t.positive(key, default, maximum=3600) for key, default in
                 (("header_timeout", 10.0), ("body_timeout", 10.0), ("keepalive_timeout", 60.0),
                                           ("send_timeout", 60.0))}
    body_min_rate = t.integer("body_min_rate", 1024, minimum=0, maximum=1 << 30)
    max_connections = t.integer("max_connections", None, minimum=1, maximum=MAX_WEB_CONNECTIONS)
    server_names = t.string_list("server_names")
    for name in server_names or ():
        if name != "*" and host_name(name) != name.rstrip(".").lower():
            t.error("server_names", f"{name!r} is not a host name (no port, no scheme)")
    allowed_origins = t.string_list("allowed_origins") or ()
    allow = read_allow(t)
    for origin in allowed_origins:
        scheme, sep, rest = origin.partition("://")
        if scheme not in ("http", "https") or not sep or "/" in rest or host_name(rest) is None:
            t.error("allowed_origins", f"{origin!r} is not an origin like \"https://host:port\"")
    t.finish()
    return WebConfig(listen=listen, users=users, history=history or 1000, certfile=cert, keyfile=key,
                     header_timeout=deadlines["header_timeout"] or 10.0,
                     body_timeout=deadlines["body_timeout"] or 10.0,
                     keepalive_timeout=deadlines["keepalive_timeout"] or 60.0,
                     send_timeout=deadlines["send_timeout"] or 60.0,
                     body_min_rate=1024 if body_min_rate is None else body_min_rate,
                     max_connections=max_connections, server_names=server_names,
                     allowed_origins=allowed_origins, allow=allow)


def _tls(t: Table, base_dir: Path) -> TlsConfig | None:
    certfile = t.string("certfile", required=True)
    keyfile, client_ca = t.string("keyfile"), t.string("client_ca")
    timeout = t.positive("handshake_timeout", 10.0, maximum=3600)
    cert = None if certfile is None else _resolve(base_dir, certfile)
    key = None if keyfile is None else _resolve(base_dir, keyfile)
    ca = None if client_ca is None else _resolve(base_dir, client_ca)
    if cert is not None:
        _check_certificate(t, cert, key)
    if ca is not None and _check_readable(t, "client_ca", ca):
        # Here, not at the top: ssl (and libssl/libcrypto, ~4 MB of RSS) is
        # loaded only by a configuration that uses TLS.
        import ssl

        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(ca)
        except ssl.SSLError:
            t.error("client_ca", f"{ca} holds no PEM CA certificate")
    t.finish()
    if cert is None:
        return None
    return TlsConfig(certfile=cert, keyfile=key, client_ca=ca, handshake_timeout=timeout or 10.0)


def _check_readable(t: Table, key: str, path: Path) -> bool:
    """Record an error unless ``path`` is a regular file this process can read."""
    try:
        with path.open("rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                t.error(key, f"{path} is not a regular file")
                return False
    except OSError as exc:
        t.error(key, f"cannot read {path}: {exc.strerror or exc}")
        return False
    return True


def _check_certificate(t: Table, cert: Path, key: Path | None) -> None:
    """Load the pair now: a wrong path or a key that does not match the
    certificate is a configuration error, not a dashboard that fails later."""
    for name, path in (("certfile", cert), ("keyfile", key)):
        # ssl's own errors do not say which file
        if path is not None and not _check_readable(t, name, path):
            return
    import ssl  # only with TLS configured (see _tls)

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        pair = f"{cert} with {key}" if key is not None else f"{cert} (no keyfile: the key must be in it)"
        why = ("the key does not match the certificate" if exc.reason == "KEY_VALUES_MISMATCH"
               else "not a PEM certificate and its private key")
        t.error("certfile", f"cannot use {pair}: {why}")


# -- [mqtt] ------------------------------------------------------------------


def _mqtt(t: Table, gateway_name: str, base_dir: Path) -> MqttConfig | None:
    kw: dict[str, Any] = {}
    host = t.string("host", required=True)
    if host is not None and ("://" in host or any(c.isspace() for c in host)):
        t.error("host", f"must be a host name or address, not {show(host)}")
    kw["host"] = host
    kw["tls"] = t.boolean("tls", False)
    # IANA: 1883 is MQTT, 8883 is MQTT over TLS.
    kw["port"] = t.integer("port", 8883 if kw["tls"] else 1883, minimum=1, maximum=65535)
    prefix = t.string("topic_prefix", f"gateway/{gateway_name}")
    if prefix is not None and t.has("topic_prefix"):
        _check_topic_prefix(t, prefix)
    kw["topic_prefix"] = prefix
    kw["qos"] = t.choice("qos", (0, 1, 2), 1)
    kw["client_id"] = t.string("client_id", gateway_name)
    # MQTT 3.1.1 section 3.1.2.10: keep alive is a 16-bit number of seconds.
    kw["keepalive"] = t.integer("keepalive", 60, minimum=0, maximum=65535)
    kw["username"] = t.string("username")
    kw["password"] = t.string("password")
    if kw["password"] is not None and kw["username"] is None:
        # MQTT 3.1.1 section 3.1.2.9: no password flag without a user name.
        t.error("password", "requires username")
    for key in ("ca_file", "certfile", "keyfile"):
        path = t.string(key)
        kw[key] = None if path is None else _resolve(base_dir, path)
        if path is not None and not kw["tls"]:
            t.error(key, "only valid with tls = true")
    if kw["keyfile"] is not None and kw["certfile"] is None:
        t.error("keyfile", "requires certfile")
        kw["keyfile"] = None
    for key in ("ca_file", "certfile", "keyfile"):
        if kw[key] is not None and kw["tls"]:
            # Found missing at run time, the uplink would only log and retry
            # forever; it is a configuration error.
            _check_readable(t, key, kw[key])
    kw["homeassistant"] = t.boolean("homeassistant", False)
    kw["spool_max_mb"] = t.integer("spool_max_mb", 64, minimum=0, maximum=MAX_SPOOL_MB)
    low = kw["reconnect_min"] = t.positive("reconnect_min", 1.0, MAX_RECONNECT)
    high = kw["reconnect_max"] = t.positive("reconnect_max", 60.0, MAX_RECONNECT)
    if low is not None and high is not None and low > high:
        t.error("reconnect_min", f"must not be greater than reconnect_max ({high:g})")
    t.finish()
    return MqttConfig(**kw)


def _check_topic_prefix(t: Table, prefix: str) -> None:
    # MQTT 3.1.1 section 4.7: wildcards are for filters, never topic names;
    # "$" topics are the broker's; a trailing "/" would give "a//b" topics.
    if "+" in prefix or "#" in prefix:
        t.error("topic_prefix", 'must not contain the MQTT wildcards "+" or "#"')
    elif "\0" in prefix:
        t.error("topic_prefix", "must not contain a NUL character")
    elif prefix.startswith("$"):
        t.error("topic_prefix", 'must not start with "$" (reserved for the broker)')
    elif prefix.endswith("/"):
        t.error("topic_prefix", 'must not end with "/"')


# -- [[device]] ----------------------------------------------------------------


def _devices(top: Table, ctx: Context, web: WebConfig | None,
             check_profile: ProfileCheck | None, tls: TlsConfig | None = None) -> tuple[DeviceConfig, ...]:
    raw = top.raw("device")
    if raw is None:
        ctx.report((), None, "device", "at least one [[device]] table is required")
        return ()
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        top.error("device", f"must be an array of tables ([[device]]), got {show(raw)}")
        return ()
    names: dict[str, int] = {}
    listeners: list[tuple[Address, str, int]] = []
    if web is not None:
        listeners.append((web.listen, "[web] listen", ctx.lines.line(("web", "listen"))))
    devices: list[DeviceConfig] = []
    for index, data in enumerate(raw):
        name = data.get("name")
        valid = isinstance(name, str) and _NAME.fullmatch(name)
        section = f'device "{name}"' if valid else f"device #{index + 1}"
        t = Table(ctx, data, ("device", index), section)
        before = len(ctx.problems)
        device = _device(t, tls, top.has("tls"))
        if valid and isinstance(name, str):
            if name in names:
                t.error("name", f"duplicate device name, first defined on line {names[name]}")
            else:
                names[name] = t.line("name")
        if device.tcp is not None:
            _check_listener(t, device.tcp, listeners, section)
        if device.modbus_tcp is not None:
            _check_listener(t, device.modbus_tcp, listeners, f"{section} modbus_tcp", "modbus_tcp")
        if device.rfc2217 is not None:
            _check_listener(t, device.rfc2217, listeners, f"{section} rfc2217", "rfc2217")
        if check_profile is not None and len(ctx.problems) == before:
            try:
                check_profile(device.profile, device.profile_options)
            except ValueError as exc:
                t.error("options" if t.has("options") else "profile", str(exc))
        devices.append(device)
    return tuple(devices)


def _check_listener(t: Table, address: Address, listeners: list[tuple[Address, str, int]],
                    owner: str, key: str = "tcp") -> None:
    for other, other_owner, line in listeners:
        overlap = address.host == other.host or {address.host, other.host} & _WILDCARD_HOSTS
        if address.port == other.port and overlap:
            t.error(key, f"port {address.port} is already used by {other_owner} (line {line})")
            return
    listeners.append((address, owner, t.line(key)))


def _device(t: Table, tls: TlsConfig | None = None, tls_given: bool = False) -> DeviceConfig:
    kw: dict[str, Any] = {"name": t.string("name", required=True, pattern=_NAME, pattern_hint=_NAME_HINT)}
    port = kw["port"] = t.string("port")
    match_table = t.table("match")
    if t.has("port") and t.has("match"):
        t.error("match", "give either port or match, not both")
    elif not t.has("port") and not t.has("match"):
        t.error("port", "one of port or match is required")
    if port is not None and "://" in port:
        # pyserial's network ports (rfc2217://, socket://) connect and talk
        # with blocking calls, which would stall every other device.
        t.error("port", f"network ports ({show(port)}) are not supported: bridge one to a local pty with "
                "socat (docs/gateway.md) and give the pty's path")
    elif port is not None and not port.startswith("/"):
        t.error("port", f"must be an absolute path or a glob, got {show(port)}")
    kw["match"] = _match(match_table) if match_table is not None else None
    kw["baudrate"] = t.integer("baudrate", 115200, minimum=1, maximum=MAX_BAUDRATE)
    kw["bytesize"] = t.choice("bytesize", (5, 6, 7, 8), 8)
    kw["parity"] = t.choice("parity", PARITIES, "N", fold=str.upper)
    kw["stopbits"] = t.choice("stopbits", (1, 1.5, 2), 1)
    kw["rtscts"] = t.boolean("rtscts", False)
    kw["xonxoff"] = t.boolean("xonxoff", False)
    kw["exclusive"] = t.boolean("exclusive", True)
    profile = kw["profile"] = t.choice("profile", PROFILES, required=True, fold=str.lower)
    _profile_options(t, profile, kw)
    kw["framing"] = t.choice("framing", FRAMINGS, "raw" if profile == "raw" else "line", fold=str.lower)
    kw["max_line"] = t.integer("max_line", 65536, minimum=1, maximum=MAX_BUFFER)
    kw["tcp"] = t.address("tcp")
    kw["max_clients"] = t.integer("max_clients", None, minimum=1, maximum=MAX_CLIENTS)
    read_rfc2217(t, kw, MAX_BAUDRATE)
    if t.has("max_clients") and not (t.has("tcp") or t.has("rfc2217")):
        t.error("max_clients", "only valid with tcp or rfc2217")
    kw["client_buffer"] = t.integer("client_buffer", 256 * 1024, minimum=1, maximum=MAX_BUFFER)
    kw["udp"] = t.address("udp", need_host=True)
    kw["enabled"] = t.boolean("enabled", True)
    read_device_access(t, kw)
    kw["idle_reopen"] = t.duration("idle_reopen")
    if t.boolean("tls", False):
        if not (t.has("tcp") or t.has("rfc2217")):
            t.error("tls", "only valid with tcp or rfc2217")
        elif not tls_given:
            t.error("tls", "needs a [tls] table with certfile (and keyfile unless the key is in it)")
        kw["tls"] = tls
    kw["read_only"] = t.boolean("read_only", False)
    kw["fields"] = read_fields(t)
    kw.update(read_modbus(t, profile))
    t.finish()
    # With problems recorded this object is never returned to a caller, so
    # None placeholders are fine; it only feeds the cross-device checks.
    return DeviceConfig(**{k: v for k, v in kw.items() if v is not None or k in ("name", "port", "match")})


def _match(t: Table) -> MatchConfig:
    ids: dict[str, str] = {}
    for key in ("vid", "pid"):
        value = t.raw(key, required=True)
        if value is None:
            continue
        if not isinstance(value, str) or not _HEX4.fullmatch(value):
            # An integer is refused rather than converted: `pid = 6001` was
            # surely meant as hex 0x6001, not decimal.
            t.error(key, f'must be 4 hex digits like "0403", got {t.show_type(value)}')
            continue
        # udev shows USB ids in lowercase, and rules compare case-sensitively.
        ids[key] = value.lower()
    serial = t.string("serial", pattern=_SERIAL,
                      pattern_hint='must be printable ASCII without " or \\')
    t.finish()
    return MatchConfig(vid=ids.get("vid", ""), pid=ids.get("pid", ""), serial=serial)


def _profile_options(t: Table, profile: str | None, kw: dict[str, Any]) -> None:
    columns = t.string_list("columns")
    delimiter = t.string("delimiter")
    if profile == "csv":
        if not t.has("columns"):
            t.error("columns", 'required when profile = "csv"')
        elif columns == ():
            t.error("columns", "must name at least one column")
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '\r\n"'):
            t.error("delimiter", f"must be a single character other than a quote or newline, got {show(delimiter)}")
        kw["columns"] = columns
        kw["delimiter"] = delimiter
    elif profile is not None:
        for key in ("columns", "delimiter"):
            if t.has(key):
                t.error(key, 'only valid with profile = "csv"')
    options = t.table("options")
    if options is None:
        return
    accepted: list[tuple[str, Any]] = []
    for key, value in options.data.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            accepted.append((key, tuple(value)))
        elif type(value) in (str, int, float, bool):
            accepted.append((key, value))
        else:
            options.error(key, f"must be a string, number, boolean or array of strings, got {t.show_type(value)}")
    kw["options"] = tuple(accepted)

"""The dashboard's HTTP side against a real gateway on a socat pair:
/api/devices, /api/readings and its CSV form (validation, cap, order, bounded history that
survives a restart), /metrics in the Prometheus text format, /healthz,
basic auth on everything but /healthz (the WebSocket upgrade and static
files included), READY waiting for the web server, and a web port in use.

The gateway runs on its own thread; tests wait for its events or for
answers on real sockets, with deadlines.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import select
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mqtt_fixtures as fx  # noqa: E402 (registered by this folder's conftest)
import pytest
import websocket
from mqtt_fixtures import free_port

from gateway.app import Gateway, StartError
from gateway.config import GatewayConfig, parse_config
from gateway.history import History
from gateway.passwords import hash_password
from gateway.readings import check_profile
from gateway.sdnotify import SystemdNotifier
from gateway.socat import SocatPair

TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(60)


def make_config(tmp_path: Path, pair: SocatPair, *, web: str = "", history: int = 1000,
                listen: int | None = None, extra: str = "", device: str = "") -> GatewayConfig:
    text = f"""
[gateway]
name = "lab"
state_dir = {json.dumps(str(tmp_path / "state"))}

[web]
listen = "127.0.0.1:{listen or free_port(0)}"
history = {history}
{web}
{extra}

[[device]]
name = "thermo"
port = {json.dumps(str(pair.dev))}
profile = "keyvalue"
tcp = "127.0.0.1:{free_port(0)}"
{device}"""
    return parse_config(text, "<test>", check_profile=check_profile)


@contextmanager
def running(config: GatewayConfig, **kwargs: Any) -> Iterator[tuple[Gateway, fx.BusLog, str]]:
    with fx.running_gateway(config, TIMEOUT, **kwargs) as (gateway, bus):
        yield gateway, bus, fx.web_base(gateway)


def get(url: str, auth: tuple[str, str] | None = None,
        context: ssl.SSLContext | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def feed(pair: SocatPair, bus: fx.BusLog, lines: list[bytes], readings: int) -> None:
    """Write ``lines`` on the device side; wait until ``readings`` readings in all were made."""
    fd = pair.open_peer()
    try:
        data = b"".join(lines)
        while data:
            assert select.select([], [fd], [], TIMEOUT)[1]
            data = data[os.write(fd, data[:4096]):]
    finally:
        os.close(fd)
    bus.wait("reading", count=readings)


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode())))


# -- the API ---------------------------------------------------------------------


def test_devices_lists_every_device_with_state_and_counters(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        feed(pair, bus, [b"temp=20.5\n", b"garbage\n", b"temp=21\n"], 2)
        client = socket.create_connection(gateway.bridges["thermo"].address, timeout=TIMEOUT)
        try:
            # The TCP client shows up in the counters once the gateway registered it.
            deadline = time.monotonic() + TIMEOUT
            while True:
                status, headers, body = get(base + "/api/devices")
                devices = json.loads(body)["devices"]
                if devices[0]["counters"]["tcp_clients"] == 1 or time.monotonic() > deadline:
                    break
        finally:
            client.close()
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["gateway"] == "lab"
    detail = devices[0].pop("detail")
    assert detail.startswith(str(pair.dev))  # the path opened (-> the pty it links to)
    assert devices == [{"name": "thermo", "online": True, "port": str(pair.dev), "status": "online",
                        "counters": {"readings": 2, "parse_errors": 1, "tcp_clients": 1}, "fields": {}}]


def test_readings_are_the_last_n_newest_last_and_capped_at_the_history(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair, history=50)) as (gateway, bus, base):
        feed(pair, bus, [f"n={i}\n".encode() for i in range(1, 81)], 80)
        status, headers, body = get(base + "/api/readings?device=thermo&limit=5")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert [r["fields"]["n"] for r in json.loads(body)] == [76, 77, 78, 79, 80]
        assert [r["seq"] for r in json.loads(body)] == [76, 77, 78, 79, 80]
        status, _, body = get(base + "/api/readings?device=thermo&limit=100000")
        assert status == 200
        assert [r["fields"]["n"] for r in json.loads(body)] == list(range(31, 81))  # capped at 50
        status, _, body = get(base + "/api/readings?device=thermo")
        assert len(json.loads(body)) == 50


def test_the_gateway_serves_a_devices_history_as_a_csv_download(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        before = time.time()
        feed(pair, bus, [f"n={i} temp={20 + i / 10}\n".encode() for i in range(1, 31)], 30)
        status, headers, body = get(base + "/api/readings.csv?device=thermo")
        assert status == 200
        assert headers["Content-Type"] == "text/csv; charset=utf-8"
        assert headers["Content-Disposition"] == 'attachment; filename="thermo.csv"'
        table = csv_rows(body)
        assert table[0] == ["time", "seq", "n", "temp"]
        assert [int(r[2]) for r in table[1:]] == list(range(1, 31))
        assert table[1][0].endswith("Z") and table[1][0] >= time.strftime("%Y-%m-%dT%H:%M", time.gmtime(before))
        # since: exactly the readings stamped at or after the 11th's time (one read may stamp several).
        readings = json.loads(get(base + "/api/readings?device=thermo&limit=30")[2])
        since = readings[10]["ts"]
        _, _, body = get(base + f"/api/readings.csv?device=thermo&since={since!r}")
        expected = [r["seq"] for r in readings if r["ts"] >= since]
        assert 11 in expected
        assert [int(r[1]) for r in csv_rows(body)[1:]] == expected


@pytest.mark.parametrize(("query", "status"), [
    ("", 400), ("device=nope", 404), ("device=thermo&since=soon", 400),
    ("device=thermo&since=1&since=2", 400),
])
def test_bad_csv_queries_get_a_json_error(tmp_path: Path, pair: SocatPair, query: str, status: int) -> None:
    with running(make_config(tmp_path, pair)) as (_, _, base):
        code, headers, body = get(base + "/api/readings.csv?" + query)
    assert code == status
    assert headers["Content-Type"] == "application/json" and "error" in json.loads(body)


@pytest.mark.parametrize(("query", "status"), [
    ("device=nope", 404),
    ("device=thermo&limit=0", 400),
    ("device=thermo&limit=-1", 400),
    ("device=thermo&limit=abc", 400),
    ("device=thermo&limit=1.5", 400),
    ("device=thermo&limit=%20%35", 400),
    ("limit=5", 400),
    ("device=", 400),
])
def test_readings_rejects_bad_arguments(tmp_path: Path, pair: SocatPair, query: str, status: int) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        got, headers, body = get(base + "/api/readings?" + query)
    assert got == status
    assert headers["Content-Type"] == "application/json" and "error" in json.loads(body)


def test_the_history_is_bounded_per_device_and_survives_a_restart(tmp_path: Path) -> None:
    history = History(tmp_path, per_device=3)
    for i in range(10):
        history.append("a", json.dumps({"i": i}))
        if i % 4 == 0:
            history.commit()
    history.append("b", '{"i":"b"}')
    assert [json.loads(t)["i"] for t in history.latest("a", 10)] == [7, 8, 9]
    assert history.count("a") == 3
    history.close()
    reopened = History(tmp_path, per_device=3)
    reopened.append("a", json.dumps({"i": 10}))
    assert [json.loads(t)["i"] for t in reopened.latest("a", 2)] == [9, 10]
    assert reopened.latest("b", 5) == ['{"i":"b"}']
    assert reopened.count("a") == 3
    reopened.close()


def test_a_corrupt_history_file_is_replaced_by_one_in_memory(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").write_bytes(b"not a database" * 100)
    history = History(tmp_path, per_device=3)
    history.append("a", "{}")
    assert history.in_memory and history.latest("a", 5) == ["{}"]
    history.close()


# -- /metrics and /healthz ------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$')


def parse_exposition(text: str) -> dict[str, dict[str, Any]]:
    """A strict reader of the Prometheus text format 0.0.4; fails on anything malformed."""
    assert text.endswith("\n")
    families: dict[str, dict[str, Any]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert name not in families and help_text, line
            families[name] = {"help": help_text, "type": None, "samples": {}}
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert families[name]["type"] is None and not families[name]["samples"], line
            assert kind in ("counter", "gauge"), line
            families[name]["type"] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"malformed sample: {line!r}"
            name = match.group(1)
            family = families[name]  # a sample only after its HELP/TYPE
            assert family["type"] is not None
            if family["type"] == "counter":
                assert name.endswith("_total")
            labels = line[len(name):line.rindex(" ")]
            family["samples"][labels] = float(match.group(4))
    return families


def test_metrics_are_prometheus_text_with_help_and_type(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        feed(pair, bus, [b"temp=1\n", b"???\n", b"temp=2\n", b"temp=3\n"], 3)
        status, headers, body = get(base + "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = parse_exposition(body.decode())
    assert families["gateway_readings_total"]["samples"] == {'{device="thermo"}': 3}
    assert families["gateway_parse_errors_total"]["samples"] == {'{device="thermo"}': 1}
    assert families["gateway_tcp_clients"]["samples"] == {'{device="thermo"}': 0}
    assert families["gateway_device_online"]["samples"] == {'{device="thermo"}': 1}
    assert families["gateway_spool_depth"]["samples"] == {"": 0}
    assert families["gateway_mqtt_connected"]["samples"] == {"": 0}
    assert families["gateway_mqtt_configured"]["samples"] == {"": 0}
    assert families["gateway_readings_total"]["type"] == "counter"
    assert families["gateway_spool_depth"]["type"] == "gauge"


def test_metrics_label_values_are_escaped() -> None:
    from gateway.web.metrics import render_metrics
    from gateway.web.snapshot import Counters, DeviceSnapshot

    device = DeviceSnapshot('a"b\\c\nd', True, "/dev/x", Counters(1, 0, 0), 0)
    text = render_metrics([device], {"configured": False, "connected": False, "spool_depth": 0, "dropped": 0,
                                     "accepted": 0, "unaccepted": 0, "overflow_dropped": 0},
                          {"clients": 0, "dropped_slow": 0})
    assert 'gateway_readings_total{device="a\\"b\\\\c\\nd"} 1' in text.splitlines()
    parse_exposition(text)


def test_healthz_is_answered_by_the_running_loop(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        status, headers, body = get(base + "/healthz")
        assert (status, body) == (200, b"ok\n")
        assert headers["Cache-Control"] == "no-store"
        # Stopped loop, no answer: the probe's timeout is the signal.
        gateway.stop()
        gateway.join(TIMEOUT)
        with pytest.raises(OSError):
            urllib.request.urlopen(base + "/healthz", timeout=1).read()


# -- authentication ----------------------------------------------------------------------

PASSWORD = "correct horse"


@pytest.fixture(scope="module")
def users_toml() -> str:
    # Few iterations: the tests are about the guard, not pbkdf2's cost.
    return f'[web.users]\nalice = "{hash_password(PASSWORD, iterations=1000)}"\n'


def test_basic_auth_guards_everything_but_healthz(tmp_path: Path, pair: SocatPair, users_toml: str) -> None:
    with running(make_config(tmp_path, pair, web=users_toml)) as (gateway, bus, base):
        for path in ("/", "/static/dashboard.js", "/api/devices", "/api/readings?device=thermo", "/metrics",
                     "/nothing-here"):
            status, headers, _ = get(base + path)
            assert status == 401, path
            assert headers["WWW-Authenticate"].startswith('Basic realm="gateway lab"'), path
            assert get(base + path, ("alice", "wrong"))[0] == 401, path
            assert get(base + path, ("mallory", PASSWORD))[0] == 401, path
        for path in ("/", "/static/dashboard.js", "/static/dashboard.css", "/api/devices", "/metrics"):
            assert get(base + path, ("alice", PASSWORD))[0] == 200, path
        assert get(base + "/nothing-here", ("alice", PASSWORD))[0] == 404
        assert get(base + "/healthz") == get(base + "/healthz", ("alice", "wrong"))
        assert get(base + "/healthz")[0] == 200
        guard = gateway.web.guard  # type: ignore[union-attr]
        assert guard is not None and guard.checks <= 4  # verdicts are remembered


def test_the_websocket_needs_credentials_too(tmp_path: Path, pair: SocatPair, users_toml: str) -> None:
    with running(make_config(tmp_path, pair, web=users_toml)) as (gateway, bus, base):
        url = base.replace("http://", "ws://") + "/ws"
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=TIMEOUT)
        assert refused.value.status_code == 401
        token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        # A fresh password check (on the worker thread), then the upgrade.
        ws = websocket.create_connection(url, timeout=TIMEOUT, header=[f"Authorization: Basic {token}"])
        try:
            first = json.loads(ws.recv())
            assert first["type"] == "status" and first["device"] == "thermo"
        finally:
            ws.close()


# -- readiness -----------------------------------------------------------------------------


def test_ready_waits_for_the_web_server(tmp_path: Path, pair: SocatPair) -> None:
    with running(make_config(tmp_path, pair)) as (gateway, bus, base):
        names = [(n, a) for n, a in bus.events if n in ("part_ready", "gateway_ready", "listening")]
        assert ("part_ready", ("web",)) in names
        assert names.index(("part_ready", ("web",))) < [n for n, _ in names].index("gateway_ready")
        assert "web" not in gateway.readiness.pending


def test_a_web_port_in_use_fails_start_up(tmp_path: Path, pair: SocatPair) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = make_config(tmp_path, pair, listen=taken.getsockname()[1])
        with pytest.raises(StartError, match="cannot serve the dashboard"):
            Gateway(config, notifier=SystemdNotifier({}))


# -- TLS -------------------------------------------------------------------------


def test_the_dashboard_serves_https_and_wss_with_the_configured_certificate(tmp_path: Path,
                                                                            pair: SocatPair) -> None:
    cert, key = fx.certificate(tmp_path, "web", "localhost")
    token = base64.b64encode(b"admin:s3cret").decode()
    users = f'[web.users]\nadmin = "{hash_password("s3cret", iterations=1000)}"\n'
    config = make_config(tmp_path, pair, web=f"certfile = {json.dumps(str(cert))}\n"
                                            f"keyfile = {json.dumps(str(key))}\n{users}")
    trusted = ssl.create_default_context(cafile=str(cert))
    with running(config) as (gateway, bus, base):
        assert base.startswith("https://") and gateway.web is not None and gateway.web.url.startswith("https://")
        status, _, body = get(base + "/healthz", context=trusted)
        assert status == 200
        # A client that does not trust this certificate refuses the connection:
        # the server really presents it.
        with pytest.raises(urllib.error.URLError) as untrusted:
            get(base + "/healthz", context=ssl.create_default_context())
        assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)
        # Plain HTTP to the TLS port gets no HTTP answer, and the server goes on.
        with socket.create_connection(gateway.web.address, timeout=TIMEOUT) as plain:
            plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = plain.recv(4096)
            except ConnectionResetError:
                answer = b""
            assert not answer.startswith(b"HTTP/")
        assert get(base + "/api/devices", context=trusted)[0] == 401  # basic auth over TLS
        ws = websocket.create_connection(base.replace("https://", "wss://") + "/ws", timeout=TIMEOUT,
                                         header=[f"Authorization: Basic {token}"],
                                         sslopt={"ca_certs": str(cert)})
        try:
            feed(pair, bus, [b"temp=20.5\n"], 1)
            deadline = time.monotonic() + TIMEOUT
            while True:
                message = json.loads(ws.recv())
                if message["type"] == "reading" or time.monotonic() > deadline:
                    break
        finally:
            ws.close()
        assert message["type"] == "reading" and message["fields"] == {"temp": 20.5}
        status, _, body = get(base + "/api/devices", ("admin", "s3cret"), context=trusted)
        assert status == 200 and json.loads(body)["devices"][0]["counters"]["readings"] == 1



# -- the Grafana dashboard in examples/ --------------------------------------------------


def test_the_grafana_dashboard_asks_only_for_metrics_and_labels_the_gateway_exports(
        tmp_path: Path, pair: SocatPair) -> None:
    board = json.loads((ROOT / "examples" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    used = {name for e in exprs for name in re.findall(r"\bgateway_[a-z0-9_]+", e)}
    # A gateway with everything a panel shows: an uplink (its broker absent: the spool still
    # reports), an RFC 2217 listener, a field warning.
    fields = '[device.fields.temp]\nwarn_above = 30\n'
    config = make_config(tmp_path, pair, device=f'rfc2217 = "127.0.0.1:{free_port(0)}"\n' + fields,
                         extra=f'[mqtt]\nhost = "127.0.0.1"\nport = {free_port(0)}\n')
    with running(config) as (_, bus, base):
        feed(pair, bus, [b"temp=35\n"], 1)
        _, _, body = get(base + "/metrics")
    exported: dict[str, set[str]] = {}
    for line in body.decode().splitlines():
        if line.startswith("# TYPE "):
            exported.setdefault(line.split()[2], set())
        elif line and not line.startswith("#"):
            name, _, labels = line.partition("{")
            exported.setdefault(name.split()[0], set()).update(re.findall(r'(\w+)="', labels))
    assert used - set(exported) == set()
    for e in exprs:
        for group in re.findall(r"by \(([^)]*)\)\s*\((?:rate|increase)?\(?(gateway_[a-z0-9_]+)", e):
            wanted = {label.strip() for label in group[0].split(",")}
            if not exported[group[1]]:
                continue  # a family with no samples here (no modbus device): its name was checked
            assert wanted <= exported[group[1]] | {"instance", "job"}, (e, exported[group[1]])

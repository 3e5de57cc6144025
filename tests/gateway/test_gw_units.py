"""The gateway's pure parts: backoff, port discovery from a fake sysfs,
resolving a configured device, reading making, passwords, readiness."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from circuits import BaseComponent, handler
from devices import make_reading
from gateway import ports
from gateway.backoff import Backoff
from gateway.config import DeviceConfig, MatchConfig
from gateway.demo import free_port
from gateway.device import DeviceLink
from gateway.events import HOTPLUG
from gateway.hotplug import Hotplug, _nearest_existing
from gateway.passwords import hash_password, verify_password
from gateway.readiness import Readiness
from gateway.readings import ReadingMaker
from gateway.udp import encode

# -- backoff -------------------------------------------------------------------


def test_backoff_doubles_up_to_the_maximum_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


@pytest.mark.parametrize(("initial", "maximum", "factor"), [(0, 1, 2), (2, 1, 2), (1, 2, 0.5)])
def test_backoff_rejects_nonsense(initial: float, maximum: float, factor: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, maximum, factor)


# -- ports -----------------------------------------------------------------------


@pytest.fixture
def fake_system(tmp_path: Path) -> tuple[Path, Path]:
    """/sys/class/tty and /dev for one FTDI adapter, one UART, one absent 8250 port."""
    sys_tty, dev = tmp_path / "sys" / "class" / "tty", tmp_path / "dev"
    usb = tmp_path / "sys" / "devices" / "usb1" / "1-1"
    interface = usb / "1-1:1.0" / "ttyUSB0"
    interface.mkdir(parents=True)
    for name, value in {"idVendor": "0403", "idProduct": "6001", "serial": "A50285BI",
                        "manufacturer": "FTDI", "product": "FT232R USB UART"}.items():
        (usb / name).write_text(value + "\n")
    uart = tmp_path / "sys" / "devices" / "platform" / "serial8250" / "tty" / "ttyS0"
    pl011 = tmp_path / "sys" / "devices" / "platform" / "fe201000.serial"
    for d in (uart, pl011):
        d.mkdir(parents=True)
    entries = {"ttyUSB0": interface, "ttyS0": uart, "ttyAMA0": pl011}
    for name, target in entries.items():
        (sys_tty / name).mkdir(parents=True)
        (sys_tty / name / "device").symlink_to(target)
        (dev / name).parent.mkdir(parents=True, exist_ok=True)
        (dev / name).touch()
    (sys_tty / "ttyS0" / "type").write_text("0\n")  # no UART behind it
    (sys_tty / "ttyAMA0" / "type").write_text("4\n")
    (sys_tty / "tty1").mkdir()  # a virtual console: no device link
    by_id = dev / "serial" / "by-id"
    by_id.mkdir(parents=True)
    (by_id / "usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0").symlink_to(dev / "ttyUSB0")
    return sys_tty, dev


def test_sysfs_lists_real_ports_with_usb_identity_and_by_id_link(fake_system: tuple[Path, Path]) -> None:
    sys_tty, dev = fake_system
    found = {p.device: p for p in ports._from_sysfs(sys_tty, dev)}
    assert set(found) == {str(dev / "ttyUSB0"), str(dev / "ttyAMA0")}
    usb = found[str(dev / "ttyUSB0")]
    assert (usb.vid, usb.pid, usb.serial) == ("0403", "6001", "A50285BI")
    assert usb.by_id == str(dev / "serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0")
    assert usb.description == "FTDI FT232R USB UART"
    assert found[str(dev / "ttyAMA0")].vid is None
    line = ports.describe(usb)
    assert "0403:6001" in line and "serial=A50285BI" in line and "by-id" in line


def test_a_match_table_resolves_to_the_port_with_that_identity(fake_system: tuple[Path, Path]) -> None:
    sys_tty, dev = fake_system
    listed = ports._from_sysfs(sys_tty, dev)
    wanted = DeviceConfig(name="t", match=MatchConfig("0403", "6001", "A50285BI"))
    assert ports.resolve(wanted, listed) == str(dev / "ttyUSB0")
    assert ports.resolve(DeviceConfig(name="t", match=MatchConfig("0403", "6001", "OTHER")), listed) is None
    assert ports.resolve(DeviceConfig(name="t", match=MatchConfig("0403", "6001")), listed) == str(dev / "ttyUSB0")


def test_free_port_never_hands_out_a_port_twice() -> None:
    # Callers pick several ports before binding any: a repeat would make two
    # listeners collide (it happened: a dashboard and a device got one port).
    tcp = [free_port(0) for _ in range(200)]
    assert len(set(tcp)) == len(tcp)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        busy = held.getsockname()[1]
        assert free_port(busy) != busy  # the preferred port is taken: another one
    udp = free_port(0, kind=socket.SOCK_DGRAM)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", udp))  # it is really free


def test_paths_and_globs_resolve_to_what_exists(tmp_path: Path) -> None:
    (tmp_path / "usb-b").touch()
    (tmp_path / "usb-a").touch()
    assert ports.resolve(DeviceConfig(name="x", port=str(tmp_path / "usb-*"))) == str(tmp_path / "usb-a")
    assert ports.resolve(DeviceConfig(name="x", port=str(tmp_path / "usb-b"))) == str(tmp_path / "usb-b")
    assert ports.resolve(DeviceConfig(name="x", port=str(tmp_path / "gone"))) is None
    assert ports.resolve(DeviceConfig(name="x", port=str(tmp_path / "none-*"))) is None


@pytest.mark.parametrize(("port", "directory"), [
    ("/dev/ttyUSB0", "/dev"),
    ("/dev/serial/by-id/usb-FTDI_*", "/dev/serial/by-id"),
    ("/tmp/x/*/dev", "/tmp/x"),
    ("/ttyX", "/"),
    (None, "/dev"),
])
def test_the_directory_to_watch_is_where_the_port_appears(port: str | None, directory: str) -> None:
    match = MatchConfig("0403", "6001") if port is None else None
    assert ports.watch_directory(DeviceConfig(name="x", port=port, match=match)) == directory


def test_a_missing_directory_is_watched_through_its_nearest_ancestor(tmp_path: Path) -> None:
    assert _nearest_existing(str(tmp_path / "a" / "b")) == str(tmp_path)
    assert _nearest_existing(str(tmp_path)) == str(tmp_path)


# -- readings --------------------------------------------------------------------


def _maker(**kwargs: object) -> tuple[ReadingMaker, list[float]]:
    clock = [100.0]
    seqs: dict[str, int] = {}

    def next_seq(name: str) -> int:
        seqs[name] = seqs.get(name, 0) + 1
        return seqs[name]

    device = DeviceConfig(name="env", port="/dev/x", profile="keyvalue", **kwargs)  # type: ignore[arg-type]
    return ReadingMaker(device, next_seq, wall_clock=lambda: 1.7e9, monotonic=lambda: clock[0]), clock


def test_readings_are_made_from_whole_lines_only() -> None:
    maker, _ = _maker()
    assert maker.feed(b"temp=2") == []
    assert maker.feed(b"1.5\r\nhum=4") == [make_reading("env", 1, 1.7e9, {"temp": 21.5})]
    maker.reset()  # the port was reopened: "hum=4" was cut off, not glued to "0"
    assert maker.feed(b"0\r\nhum=40\r\n") == [make_reading("env", 2, 1.7e9, {"hum": 40})]
    assert maker.stats.failures == 1  # "0" alone is not a key=value line


def test_failures_are_counted_and_logged_once_per_burst(caplog: pytest.LogCaptureFixture) -> None:
    maker, clock = _maker(max_line=64)
    caplog.set_level("WARNING", logger="gateway.readings")
    maker.feed(b"garbage\r\n" * 5 + b"y" * 100 + b"\r\nok=1\r\n")
    assert maker.stats.failures == 6 and maker.dropped == 1 and maker.stats.successes == 1
    assert len(caplog.records) == 1
    clock[0] += 60  # a quiet minute: the next failure starts a new burst and is logged
    maker.feed(b"garbage\r\n")
    assert len(caplog.records) == 2 and "previous burst: 6 failures" in caplog.records[1].getMessage()


def test_a_framer_drop_is_logged_with_its_size(caplog: pytest.LogCaptureFixture) -> None:
    maker, _ = _maker(max_line=64)
    caplog.set_level("WARNING", logger="gateway.readings")
    assert maker.feed(b"y" * 30) == []  # not a drop yet: the line may still end in time
    assert maker.dropped == 0 and not maker.errors
    assert maker.feed(b"y" * 70 + b"\r\nok=1\r\n") == [make_reading("env", 1, 1.7e9, {"ok": 1})]
    assert maker.dropped == 1 and maker.stats.failures == 1
    (ts, why, data), = maker.errors
    assert "longer than max_line (64 bytes" in why and data == b""
    assert len(caplog.records) == 1 and "longer than max_line (64 bytes" in caplog.records[0].getMessage()


def test_raw_devices_make_no_readings() -> None:
    maker = ReadingMaker(DeviceConfig(name="plc", port="/dev/x", profile="raw", framing="raw"), lambda n: 1)
    assert maker.bridge_only and maker.feed(b"\x00\x01\x02") == []


def test_a_reading_is_compact_json() -> None:
    data = encode(make_reading("env", 7, 1.5, {"temp": 21.5, "name": "salle à manger"}))
    assert json.loads(data) == {"device": "env", "seq": 7, "ts": 1.5,
                                "fields": {"temp": 21.5, "name": "salle à manger"}}
    assert b" " not in data.replace("salle à manger".encode(), b"")


# -- passwords and readiness -------------------------------------------------------


def test_password_hashes_verify_and_reject() -> None:
    hashed = hash_password("correct horse", iterations=1000)
    assert verify_password("correct horse", hashed)
    assert not verify_password("wrong horse", hashed)
    assert not verify_password("correct horse", "pbkdf2_sha256$x$y")
    assert not verify_password("correct horse", "md5$1$a$b")
    assert hash_password("x", iterations=1000) != hash_password("x", iterations=1000)  # salted
    with pytest.raises(ValueError):
        hash_password("")


def test_readiness_summary_names_the_offline_devices() -> None:
    readiness = Readiness()
    for device, status in {"a": "online", "b": "offline", "c": "online"}.items():
        readiness.statuses.set(device, status)
    assert readiness.summary() == "2/3 devices online; offline: b"
    readiness.statuses.set("b", "online")
    assert readiness.summary() == "3/3 devices online"


def test_the_example_udev_and_systemd_files_agree_on_the_service_name() -> None:
    root = Path(__file__).resolve().parents[2]
    unit = (root / "systemd" / "circuits-gateway.service").read_text()
    assert "Type=notify" in unit and "gateway run -c" in unit and "WatchdogSec=" in unit
    assert os.path.exists(root / "udev" / "99-circuits-gateway.rules")


# -- hot-plug sources ------------------------------------------------------------


class _FakeMonitor:
    """pyudev.Monitor's surface Hotplug uses: poll(timeout=0) until None."""

    def __init__(self, *devices: tuple[str, str]) -> None:
        self.queue = [type("Device", (), {"device_node": node, "action": action})() for node, action in devices]

    def poll(self, timeout: float = 0) -> object:
        return self.queue.pop(0) if self.queue else None

    def fileno(self) -> int:
        return -1


def test_udev_and_inotify_events_become_ports_changed(tmp_path: Path) -> None:
    class Seen(BaseComponent):
        channel = HOTPLUG

        def init(self) -> None:
            self.changes: list[tuple[str | None, str]] = []

        @handler("ports_changed")
        def _seen(self, path: str | None, action: str) -> None:
            self.changes.append((path, action))

    root = BaseComponent()
    hotplug = Hotplug(use_udev=False).register(root)
    seen = Seen().register(root)
    hotplug._monitor = _FakeMonitor(("/dev/ttyUSB0", "add"), ("/dev/ttyUSB0", "remove"))  # type: ignore[assignment]
    hotplug._on_udev_readable()
    hotplug._on_appeared("dev", str(tmp_path), str(tmp_path / "dev"), False)
    hotplug._on_overflow()
    root.flush()
    assert seen.changes == [("/dev/ttyUSB0", "add"), ("/dev/ttyUSB0", "remove"),
                            (str(tmp_path / "dev"), "created"), (None, "overflow")]
    root.loop.close()


def test_a_device_link_cares_about_changes_where_its_port_lives() -> None:
    link = DeviceLink(DeviceConfig(name="x", port="/dev/serial/by-id/usb-FTDI_*", profile="raw"), lambda n: 1)
    assert link._concerns("/dev/serial/by-id/usb-FTDI_A-if00", "created")
    assert link._concerns("/dev/serial", "created")  # its parent appeared
    assert link._concerns("/dev/ttyUSB0", "add")  # udev: the node behind the link
    assert link._concerns(None, "overflow")
    assert not link._concerns("/dev/ttyUSB0", "created")
    assert not link._concerns("/tmp/other", "created")
    link.loop.close()

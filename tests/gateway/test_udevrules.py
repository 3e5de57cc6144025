"""gateway.udevrules and udev/99-circuits-gateway.rules: content and udev syntax."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.udevrules import rule_for, rules_for

STATIC = Path(__file__).resolve().parents[2] / "udev" / "99-circuits-gateway.rules"

CONFIG = """\
[gateway]
name = "pi-lab"

[[device]]
name = "thermo"
match = { vid = "0403", pid = "6001", serial = "A50285BI" }
profile = "keyvalue"

[[device]]
name = "by-port"
port = "/dev/ttyUSB3"
profile = "raw"

[[device]]
name = "gps_1"
profile = "nmea"
enabled = false
[device.match]
vid = "067B"
pid = "2303"
"""


def test_rules_for_matched_devices_only() -> None:
    text = rules_for(parse_config(CONFIG, "gw.toml"), source="/etc/circuits-gateway/gateway.toml")
    assert text == (
        "# udev rules for circuits-gateway 'pi-lab', generated from /etc/circuits-gateway/gateway.toml.\n"
        "# Do not edit: regenerate after changing [[device]] match tables.\n"
        "# Install as /etc/udev/rules.d/99-circuits-gateway-devices.rules, then run\n"
        "#   udevadm control --reload && udevadm trigger -s tty\n"
        "\n"
        "# thermo: USB 0403:6001 serial A50285BI\n"
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6001", ATTRS{serial}=="A50285BI", '
        'SYMLINK+="gateway/thermo", TAG+="systemd", GROUP="dialout", MODE="0660"\n'
        "# gps_1: USB 067b:2303 (any serial) (disabled in the configuration)\n"
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="067b", ATTRS{idProduct}=="2303", '
        'SYMLINK+="gateway/gps_1", TAG+="systemd", GROUP="dialout", MODE="0660"\n'
    )
    assert udev_syntax_problems(text) == []


def test_no_matched_devices_gives_a_valid_empty_file() -> None:
    config = parse_config(CONFIG.split("[[device]]")[0] + '[[device]]\nname = "a"\nport = "/dev/x"\nprofile = "raw"\n')
    text = rules_for(config)
    assert "generated." in text and "(no device uses match; nothing to do)" in text
    assert udev_syntax_problems(text) == []


def test_rule_for_refuses_what_udev_cannot_quote() -> None:
    device = parse_config(CONFIG).devices[0]
    assert device.match is not None
    with pytest.raises(ValueError, match="cannot be written into a udev rule"):
        rule_for(replace(device, match=replace(device.match, serial='A"B')))
    with pytest.raises(ValueError, match="has no match table"):
        rule_for(parse_config(CONFIG).devices[1])


def test_static_rules_file() -> None:
    text = STATIC.read_text()
    assert udev_syntax_problems(text) == []
    assert 'KERNEL!="ttyUSB[0-9]*|ttyACM[0-9]*", GOTO="circuits_gateway_end"' in text
    assert 'GROUP="dialout", MODE="0660", TAG+="systemd"' in text
    assert 'SYMLINK+="gateway/by-serial/' in text


@pytest.mark.parametrize(("rule", "problem"), [
    ('ATTRS{idVendor}="0403"', 'line 1: ATTRS cannot be assigned with "="'),
    ('GROUP=="dialout"', 'line 1: GROUP cannot be matched with "=="'),
    ('FOO=="x"', "line 1: unknown key FOO"),
    ('ENV=="x"', "line 1: ENV needs an {attribute}"),
    ('KERNEL=="x" GROUP="y"', "line 1: cannot parse near 'KERNEL==\"x\" GROUP=\"y\"'"),  # no comma
    ('KERNEL=="x", GOTO="nowhere"', 'GOTO "nowhere" has no LABEL'),
    ('SYMLINK+="a\nb"', "line 1: cannot parse near 'SYMLINK+=\"a'"),
])
def test_syntax_checker_catches_mistakes(rule: str, problem: str) -> None:
    assert problem in udev_syntax_problems(rule + "\n")


@pytest.mark.skipif(shutil.which("udevadm") is None, reason="udevadm is not installed")
def test_udevadm_verify(tmp_path: Path) -> None:
    probe = subprocess.run(["udevadm", "verify", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("this udevadm has no 'verify' verb (systemd < 254)")
    generated = tmp_path / "99-circuits-gateway-devices.rules"
    generated.write_text(rules_for(parse_config(CONFIG)))
    result = subprocess.run(["udevadm", "verify", str(STATIC), str(generated)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


# -- a small checker for the subset of udev(7) syntax these files use --------

_MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS",
               "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "SYSCTL"}
_ASSIGN_ONLY = {"NAME", "OWNER", "GROUP", "MODE", "LABEL", "GOTO", "IMPORT", "RUN", "OPTIONS", "SECLABEL"}
_BOTH = {"SYMLINK", "TAG", "ENV", "ATTR"}
_NEEDS_ATTR = {"ATTR", "ATTRS", "ENV", "IMPORT", "SYSCTL", "CONST", "SECLABEL"}
_PAIR = re.compile(r'\s*([A-Z_]+)(\{[^}"]*\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\\n]|\\.)*)"\s*(?:,|$)')


def udev_syntax_problems(text: str) -> list[str]:
    problems: list[str] = []
    labels: set[str] = set()
    gotos: set[str] = set()
    for number, line in enumerate(text.replace("\\\n", " ").split("\n"), start=1):
        line = line.strip()
        pos = 0
        while line and not line.startswith("#") and pos < len(line):
            found = _PAIR.match(line, pos)
            if found is None:
                problems.append(f"line {number}: cannot parse near {line[pos:]!r}")
                break
            key, attr, op, value = found.group(1, 2, 3, 4)
            pos = found.end()
            if key not in _MATCH_ONLY | _ASSIGN_ONLY | _BOTH:
                problems.append(f"line {number}: unknown key {key}")
            elif op in ("==", "!=") and key in _ASSIGN_ONLY:
                problems.append(f'line {number}: {key} cannot be matched with "{op}"')
            elif op not in ("==", "!=") and key in _MATCH_ONLY:
                problems.append(f'line {number}: {key} cannot be assigned with "{op}"')
            elif key in _NEEDS_ATTR and not attr:
                problems.append(f"line {number}: {key} needs an {{attribute}}")
            if key == "LABEL":
                labels.add(value)
            elif key == "GOTO":
                gotos.add(value)
    problems += [f'GOTO "{g}" has no LABEL' for g in sorted(gotos - labels)]
    return problems

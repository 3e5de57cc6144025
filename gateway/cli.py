"""The ``gateway`` command (also ``python -m gateway``).

::

    gateway run -c FILE        run in the foreground, log to stderr
    gateway check FILE         validate a configuration (exit 0, or 78 with every problem)
    gateway reload [-c FILE]   make the running gateway re-read FILE (SIGHUP) and print what changed
    gateway ports [--json]     serial ports: vid:pid, serial number, by-id path
    gateway init [-o FILE]     a commented starter configuration for the ports found
    gateway demo               simulated devices on in-process ptys and the dashboard; nothing to set up
    gateway udev-rules -c FILE udev rules for the devices configured by match
    gateway hash-password      a pbkdf2 hash for a [web.users] entry
    gateway install --print    the commands that install the unit, udev rules and example config

Each command other than ``run`` imports the modules it alone uses when it
runs (tests/test_layers.py allows that here, see LAZY_LOADERS): the service
runs ``gateway run`` for months, and the demo's simulators, the starter
config writer or the udev rule writer would stay in its memory all along.

Exit statuses follow sysexits.h, which systemd's RestartPreventExitStatus=
relies on: 78 a bad configuration (restarting cannot help), 69 a resource
that is unavailable now (a port in use: restarting may help), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict

from .app import Gateway, StartError
from .config import ConfigError, GatewayConfig, load_config
from .config.checks import config_warnings, state_dir_problems
from .config.rfc2217 import describe_rfc2217
from .install import CONFIG_DIR
from .logsetup import setup_logging
from .ports import describe, list_ports, udev_running
from .readings import check_profile
from .reloader import Reloader

log = logging.getLogger("gateway")

DEFAULT_CONFIG = CONFIG_DIR / "gateway.toml"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.func(args))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gateway", description="Bridge serial devices and sensors to the network.")
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the gateway in the foreground")
    run.add_argument("-c", "--config", required=True, metavar="FILE")
    run.add_argument("--log-level", help="override [gateway] log_level")
    run.set_defaults(func=cmd_run)

    reload = sub.add_parser("reload", help="make the running gateway re-read its configuration (SIGHUP)")
    reload.add_argument("-c", "--config", default=str(DEFAULT_CONFIG), metavar="FILE",
                        help=f"the service's configuration file (default {DEFAULT_CONFIG})")
    reload.add_argument("--pid", type=int, help="the gateway's pid (default: $MAINPID, else the pid file "
                        "in state_dir)")
    reload.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the outcome")
    reload.set_defaults(func=cmd_reload)

    check = sub.add_parser("check", help="validate a configuration file")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_check)

    ports = sub.add_parser("ports", help="list serial ports")
    ports.add_argument("--json", action="store_true", help="one JSON array of port objects")
    ports.set_defaults(func=cmd_ports)

    init = sub.add_parser("init", help="write a starter configuration for the serial ports found")
    init.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    init.add_argument("--force", action="store_true", help="replace FILE if it exists")
    init.set_defaults(func=cmd_init)

    demo = sub.add_parser("demo", help="run with simulated devices: no config, root or hardware")
    # No defaults here: the Demo's own (gateway.demo.DEFAULT_*) apply to what is not given.
    demo.add_argument("--tcp-base", type=int,
                      help="first TCP port (default 7001; busy ones are replaced by free ones; 0: all free ones)")
    demo.add_argument("--udp-port", type=int, help="the UDP port readings go to (default 7100)")
    demo.add_argument("--web-port", type=int,
                      help="the dashboard's port (default 8080; a busy one is replaced by a free one; 0: any free one)")
    demo.add_argument("--web-host", default="127.0.0.1", help="the dashboard's address (0.0.0.0: every interface)")
    demo.add_argument("--no-web", action="store_true", help="no dashboard")
    demo.add_argument("--mqtt", metavar="HOST[:PORT]", help="also publish to this MQTT broker")
    demo.add_argument("--interval", type=float, help="seconds between simulated messages")
    demo.add_argument("--noise", type=float, default=0.0, help="chance of a garbage line per message")
    demo.add_argument("--print-config", action="store_true", help="print the demo's configuration and exit")
    demo.add_argument("--log-level", default="INFO")
    demo.set_defaults(func=cmd_demo)

    rules = sub.add_parser("udev-rules", help="udev rules for devices configured by match")
    rules.add_argument("-c", "--config", required=True, metavar="FILE")
    rules.set_defaults(func=cmd_udev_rules)

    hashpw = sub.add_parser("hash-password", help="hash a password for [web.users]")
    hashpw.add_argument("--user", default="admin", help="user name shown in the TOML line")
    hashpw.set_defaults(func=cmd_hash_password)

    install = sub.add_parser("install", help="how to install the service, udev rules and example config")
    install.add_argument("--print", action="store_true", required=True, dest="print_only",
                         help="print the shell commands (nothing is changed)")
    install.set_defaults(func=cmd_install)
    return parser


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, with the terminal width found without shutil.

    argparse builds a formatter for every ``add_argument`` and, given no
    width, imports shutil for ``get_terminal_size``; shutil brings bz2, lzma
    and zlib, about 0.5 MB that ``gateway run`` would hold for months
    (issue 15). The width is found the same way: $COLUMNS, else stdout's
    terminal, else 80.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):  # no stdout, closed, or not a terminal
        return 80


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help uses :class:`_Formatter`; add_subparsers
    makes the commands' parsers of this class too."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class _Version(argparse.Action):
    """``--version``, with the version looked up only when it is asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"{parser.prog} {_version()}")  # on stdout, as argparse's own "version" action
        parser.exit()


def _version() -> str:
    # importlib.metadata is ~25 modules (email, zipfile, csv): imported for
    # --version alone, not by every ``gateway run``.
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("circuits-gateway")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _load(path: str) -> GatewayConfig | None:
    try:
        return load_config(path, check_profile=check_profile)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    config = _load(args.file)
    if config is None:
        return ConfigError.exit_code
    enabled = [d for d in config.devices if d.enabled]
    listeners = sum(d.tcp is not None for d in enabled)
    remote = [d for d in enabled if d.rfc2217 is not None]
    print(f"{args.file}: ok, gateway {config.name!r}, {len(enabled)} of {len(config.devices)} devices "
          f"enabled, {listeners} TCP listeners" + (f", {len(remote)} RFC 2217 listeners" if remote else ""))
    for device in enabled:
        if device.modbus is not None:
            from .modbus import describe_modbus  # only for a Modbus device

            print(f"  {device.name}: {describe_modbus(device)}")
        if device.rfc2217 is not None:
            print(f"  {device.name}: {describe_rfc2217(device)}")
    errors, warnings = state_dir_problems(config.state_dir)
    for line in config_warnings(config) + warnings:
        print(f"warning: {line}")
    for line in errors:
        print(f"{args.file}: error: {line}", file=sys.stderr)
    return ConfigError.exit_code if errors else 0


def cmd_run(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return ConfigError.exit_code
    setup_logging(args.log_level or config.log_level)
    # SIGHUP's default action kills: until the Reloader takes it over (once
    # the loop runs) a reload request during start-up is ignored, the file
    # was only just read.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        gateway = Gateway(config)
    except StartError as exc:
        log.error("cannot start: %s", exc)
        return StartError.exit_code
    Reloader(gateway, args.config).register(gateway)  # SIGHUP / systemctl reload
    log.info("gateway %r starting with %d devices", config.name, len(gateway.links))
    try:
        gateway.run()
    finally:
        gateway.close()
    log.info("stopped")
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    from .reloadverb import ReloadRequestError, request_reload

    config = _load(args.config)
    if config is None:
        # The service would refuse it too; it keeps running what it has.
        print(f"gateway reload: {args.config} is invalid: the gateway was not signalled and keeps "
              "its configuration", file=sys.stderr)
        return ConfigError.exit_code
    try:
        outcome = request_reload(config.state_dir, args.pid, timeout=args.timeout)
    except ReloadRequestError as exc:
        print(f"gateway reload: {exc}", file=sys.stderr)
        return exc.exit_code
    for line in outcome.get("changes") or ["nothing changed"]:
        print(f"changed: {line}" if outcome.get("changes") else line)
    for line in outcome.get("warnings", []):
        print(f"warning: {line}")
    for line in outcome.get("errors", []):
        print(line, file=sys.stderr)
    print(outcome.get("status", ""))
    if outcome.get("ok"):
        return 0
    # Refused (an invalid file: nothing changed) or applied with errors (a port in use).
    return ConfigError.exit_code if outcome.get("refused") else StartError.exit_code


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import Demo

    setup_logging(args.log_level)
    given = {key: value for key, value in (("tcp_base", args.tcp_base), ("udp_port", args.udp_port),
                                           ("web_port", args.web_port)) if value is not None}
    if args.no_web:
        given["web_port"] = None
    try:
        demo = Demo(interval=args.interval, noise=args.noise, web_host=args.web_host, mqtt=args.mqtt, **given)
    except StartError as exc:
        log.error("cannot start the demo: %s", exc)
        return StartError.exit_code
    if args.print_config:
        print(demo.text)
        demo.close()
        return 0
    return demo.run()


def cmd_ports(args: argparse.Namespace) -> int:
    ports = list_ports()
    if args.json:
        # One document, so `gateway ports --json | jq` and json.load work.
        print(json.dumps([asdict(port) | {"by_id": port.by_id} for port in ports], indent=2))
        return 0
    source = "udev" if udev_running() else "sysfs (udevd is not running)"
    if not ports:
        print(f"no serial ports found (source: {source})")
        return 0
    print(f"# {len(ports)} serial ports (source: {source})")
    for port in ports:
        print(describe(port))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .starter import starter_config

    ports = list_ports()
    text = starter_config(ports)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        # "x" unless --force: an existing configuration is never overwritten by accident.
        with open(args.output, "w" if args.force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        print(f"gateway init: {args.output} exists (use --force to replace it)", file=sys.stderr)
        return 73  # EX_CANTCREAT
    except OSError as exc:
        print(f"gateway init: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 73
    found = f"{len(ports)} device(s) from the ports found" if ports else "no ports found: an example to edit"
    print(f"wrote {args.output}: {found}; check it with `gateway check {args.output}`")
    return 0


def cmd_udev_rules(args: argparse.Namespace) -> int:
    from .udevrules import rules_for

    config = _load(args.config)
    if config is None:
        return ConfigError.exit_code
    sys.stdout.write(rules_for(config, args.config))
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    try:
        if sys.stdin.isatty():
            password = getpass.getpass(f"Password for {args.user}: ")
            if getpass.getpass("Again: ") != password:
                print("the passwords differ", file=sys.stderr)
                return 1
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        # Ctrl-D / Ctrl-C at the prompt: the user changed their mind.
        print("\nno password given: nothing hashed", file=sys.stderr)
        return 1
    if not password:
        print("the password must not be empty", file=sys.stderr)
        return 1
    # A line to paste under [web.users] as it is.
    from .passwords import hash_password

    print(f'{args.user} = "{hash_password(password)}"')
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    from .install import render

    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())

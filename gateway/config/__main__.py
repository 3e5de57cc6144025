"""``python -m gateway.config FILE``: check a configuration, as before a restart.

Prints every problem to stderr and exits with status 78 (EX_CONFIG), or
prints a one-line summary and exits 0.
"""

from __future__ import annotations

import sys

from . import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gateway.config FILE", file=sys.stderr)
        return 2
    try:
        config = load_config(args[0])
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return ConfigError.exit_code
    enabled = sum(d.enabled for d in config.devices)
    print(f"{args[0]}: ok, gateway {config.name!r}, {enabled} of {len(config.devices)} devices enabled")
    return 0


if __name__ == "__main__":
    sys.exit(main())

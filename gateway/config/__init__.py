"""Load and validate the gateway's TOML configuration.

``load_config(path)`` returns an immutable :class:`GatewayConfig` or raises
:class:`ConfigError` listing every problem as ``FILE:LINE: [section] key:
what is wrong``.  ``python -m gateway.config FILE`` checks a file and exits
non-zero when it is invalid.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError, Problem
from .fields import Context
from .locate import locate
from .model import (
    Address,
    DeviceConfig,
    GatewayConfig,
    MatchConfig,
    MqttConfig,
    TlsConfig,
    WebConfig,
)
from .source import parse_toml, read_config_bytes
from .validate import ProfileCheck, build

__all__ = [
    "Address",
    "ConfigError",
    "DeviceConfig",
    "GatewayConfig",
    "MatchConfig",
    "MqttConfig",
    "TlsConfig",
    "Problem",
    "ProfileCheck",
    "WebConfig",
    "load_config",
    "parse_config",
]


def parse_config(text: str, filename: str = "<config>", *, base_dir: Path | None = None,
                 check_profile: ProfileCheck | None = None) -> GatewayConfig:
    """Validate configuration ``text``; ``filename`` is only used in messages.

    Relative paths in the file are resolved against ``base_dir``, by default
    the directory of ``filename``.
    """
    data = parse_toml(text, filename)
    ctx = Context(filename, locate(text))
    config = build(data, ctx, base_dir if base_dir is not None else Path(filename).parent, check_profile)
    if ctx.problems or config is None:
        raise ConfigError(ctx.problems)
    return config


def load_config(path: str | os.PathLike[str], *, check_profile: ProfileCheck | None = None) -> GatewayConfig:
    """Read, parse and validate the configuration file at ``path``."""
    filename = os.fspath(path)
    raw = read_config_bytes(filename)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # TOML 1.0 requires UTF-8; say where the bad byte is.
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError([Problem(filename, line, None, None, "not valid UTF-8 text")]) from None
    return parse_config(text, filename, check_profile=check_profile)

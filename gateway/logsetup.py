"""Logging to stderr, the way journald and a terminal each want it.

Under systemd (``$JOURNAL_STREAM`` names our stderr) journald adds the
time and unit itself, so lines carry only level, logger and message; in a
terminal they start with the time.
"""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str = "INFO") -> None:
    journal = _stderr_is_journal()
    fmt = "%(levelname)s %(name)s: %(message)s" if journal else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _stderr_is_journal() -> bool:
    # systemd.exec(5): JOURNAL_STREAM is "device:inode" of the journal
    # stream; it only applies if stderr is still that stream.
    value = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(device), int(inode))

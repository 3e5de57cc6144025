"""examples/node_pair.py runs, talks to its server process, and exits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_node_pair_example():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "node_pair.py")], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    match = re.fullmatch(r"Hello World! \(from pid (\d+)\)", lines[0])
    assert match and int(match.group(1)) != os.getpid()
    assert lines[1] == "20 + 22 = 42 (computed in another process)"

"""Every ```python block in docs/ and README.md is a program that runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for n, match in enumerate(BLOCK.finditer(path.read_text()), 1):
            found.append((f"{path.name}#{n}", match.group(1)))
    return found


BLOCKS = _blocks()


def test_the_docs_have_code() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_block_runs(where: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30)
    # A block ends with SystemExit(0) or stop(): exit status 0, nothing on stderr
    # unless the block is about errors.
    assert done.returncode == 0, f"{where} failed:\n{done.stderr}"
    assert done.stdout.strip(), f"{where} printed nothing"
    expected = re.findall(r"^# prints: (.*)$", code, re.M)
    for line in expected:
        assert line in done.stdout

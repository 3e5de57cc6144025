"""devices may import only the standard library, itself and circuits.protocols."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import devices

PACKAGE = Path(devices.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_devices_imports_only_allowed_layers() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if module.startswith("circuits.protocols") or top in sys.stdlib_module_names:
                continue
            offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_no_function_level_imports() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                nested = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not nested, f"{path.name}:{node.name} imports inside a function"

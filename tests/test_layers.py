"""The layering of ARCHITECTURE.md, checked by reading every import (with ast).

    circuits.core             <- nothing above it (standard library only)
    circuits.protocols        <- core only; pure: no I/O modules
    circuits.io, circuits.net <- core + protocols
    circuits.web, .node, .app, .tools <- the above
    devices                   <- circuits.protocols only
    gateway                   <- everything above

Also: no function-level imports of project modules (a cycle dodge: a cycle
means the layering is wrong), except under ``if TYPE_CHECKING:`` and in the
modules of LAZY_LOADERS, whose whole job is to import an optional part only
when it is used (the layers still apply to what they import).

Each failure names the file, the line and the import. The checker itself is
tested on small made-up trees at the end of this file.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("circuits", "devices", "gateway")

#: Layer of a module: the longest prefix listed here wins.
LAYER_OF = {
    "circuits": "core",  # the package facade re-exports circuits.core (see FACADE)
    "circuits.version": "core",
    "circuits.core": "core",
    "circuits.protocols": "protocols",
    "circuits.io": "io",
    "circuits.net": "net",
    "circuits.web": "web",
    "circuits.node": "node",
    "circuits.app": "app",
    "circuits.tools": "tools",
    "circuits.bench": "tools",  # the benchmark command: public API only, like the tools
    "devices": "devices",
    "gateway": "gateway",
}

_TRANSPORT = {"core", "protocols"}
_UPPER = _TRANSPORT | {"io", "net"}
#: Which layers a layer may import (its own included). io and net are peers:
#: neither imports the other; the same goes for web, node, app and tools.
ALLOWED = {
    "core": {"core"},
    "protocols": {"core", "protocols"},
    "io": _TRANSPORT | {"io"},
    "net": _TRANSPORT | {"net"},
    "web": _UPPER | {"web"},
    "node": _UPPER | {"node"},
    "app": _UPPER | {"app"},
    "tools": _UPPER | {"tools"},
    "devices": {"protocols", "devices"},
    "gateway": set(LAYER_OF.values()),
}

#: Modules whose whole job is I/O: a sans-I/O layer may not import them.
IO_MODULES = frozenset({
    "asyncio", "asyncore", "fcntl", "mmap", "multiprocessing", "pty", "select", "selectors",
    "serial", "signal", "socket", "socketserver", "ssl", "subprocess", "termios", "threading",
    "tty", "pyudev", "pyinotify", "paho", "http.client", "http.server", "urllib.request",
    "ftplib", "smtplib",
})
PURE_LAYERS = {"protocols"}

#: Modules allowed function-level imports of project modules, and why. Keep
#: it short: each entry is a module that exists to defer an import, not one
#: that hides a cycle.
LAZY_LOADERS = {
    # The 3.x names (Line, IRC) of a package every protocol import runs.
    "circuits.protocols",
    # The package names of circuits.web, its dispatchers and websockets, found
    # through a name -> module table (import_module): a dashboard does not
    # hold XML-RPC, JSON-RPC, sessions or the WebSocket client.
    "circuits.web", "circuits.web.dispatchers", "circuits.web.websockets",
    # circuits.io's components (Process: subprocess; Notify: inotify; File),
    # so opening a serial port holds only circuits.io.serial.
    "circuits.io",
    # Likewise Telnet's: the dashboard reads modem-line constants only.
    "circuits.protocols.telnet",
    # multiprocessing (~1 MB), for start(process=True) and process workers only.
    "circuits.core.process", "circuits.core.workers",
    # Device profiles, by name: a gateway imports the parsers it is configured
    # for (the Modbus profile brings circuits.protocols.modbus).
    "devices.registry",
    # Its simulators (random), for the demo and the tests only.
    "devices",
    # The gateway's optional parts ([web], [mqtt], Modbus, RFC 2217), imported
    # when a configuration uses them: footprint (issue 15).
    "gateway.features",
    # Each command other than ``run`` imports what it alone uses (demo,
    # starter config, udev rules, ...), so a running service never holds them.
    "gateway.cli",
}

#: The package facade (circuits/__init__.py) imports circuits.core, so
#: circuits.core importing "circuits" itself is a cycle.
FACADE = "circuits"


@dataclass(frozen=True)
class Import:
    """One import statement (or import_module("literal") call) in a module."""

    path: Path
    line: int
    text: str  # the statement as written
    module: str  # the importing module, e.g. circuits.net.client
    target: str  # the absolute module imported, e.g. circuits.core.manager
    level: int  # 0: absolute; n: relative with n dots
    nested: bool  # inside a function or class body
    type_checking: bool  # under ``if TYPE_CHECKING:``

    def where(self, root: Path) -> str:
        try:
            shown = self.path.relative_to(root)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}: {self.text}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def iter_modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> Iterator[Path]:
    for package in packages:
        base = root / package
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*.py") if ".venv" not in p.parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` in ``module``."""
    if level == 0:
        return name or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts) - 1:
        raise ImportError(f"relative import beyond the top-level package in {module}")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def read_imports(path: Path, root: Path, known: set[str]) -> list[Import]:
    """Every import in the file at ``path`` (project modules resolved)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    module = module_name(path, root)
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def add(node: ast.stmt | ast.expr, target: str, level: int, nested: bool, tc: bool) -> None:
        text = ast.get_source_segment(source, node) or ast.unparse(node)
        found.append(Import(path, node.lineno, " ".join(text.split()), module, target, level, nested, tc))

    def visit(node: ast.AST, nested: bool, tc: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, alias.name, 0, nested, tc)
            return
        if isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                # ``from circuits import net`` imports the module circuits.net.
                sub = f"{base}.{alias.name}" if base else alias.name
                add(node, sub if sub in known else base, node.level, nested, tc)
            return
        if isinstance(node, ast.Call) and _is_import_call(node):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                add(node, arg.value, 0, nested, tc)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, nested, True)
            for child in node.orelse:
                visit(child, nested, tc)
            return
        inner = nested or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner, tc)

    visit(tree, False, False)
    return found


def _is_import_call(node: ast.Call) -> bool:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in ("import_module", "__import__") and bool(node.args)


#: Keys of LAYER_OF that name one module, not a package and everything in it.
SINGLE_MODULES = {"circuits", "circuits.version"}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in SINGLE_MODULES and prefix != module:
            continue
        layer = LAYER_OF.get(prefix)
        if layer is not None:
            return layer
    return None


def is_project(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def check(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, list[str]]:
    """Every violation under ``root``, by rule."""
    paths = list(iter_modules(root, packages))
    known = {module_name(p, root) for p in paths}
    problems: dict[str, list[str]] = {"layers": [], "nested": [], "stdlib": [], "pure": [], "unknown": []}
    for path in paths:
        module = module_name(path, root)
        layer = layer_of(module)
        if layer is None:
            problems["unknown"].append(f"{path.relative_to(root)}: module {module} is in no layer "
                                       f"(add its package to LAYER_OF in tests/test_layers.py)")
            continue
        for imp in read_imports(path, root, known):
            where = imp.where(root)
            target = imp.target
            top = target.split(".")[0]
            if is_project(target):
                target_layer = layer_of(target)
                if target_layer is None:
                    problems["unknown"].append(f"{where}  (imports {target}, which is in no layer)")
                elif target_layer not in ALLOWED[layer]:
                    problems["layers"].append(
                        f"{where}  ({layer} layer imports {target}, of the {target_layer} layer; "
                        f"{layer} may import only {sorted(ALLOWED[layer])})")
                elif (layer == "core" and target == FACADE and _within(module, "circuits.core")):
                    problems["layers"].append(
                        f"{where}  (circuits.core imports the circuits package, which imports "
                        f"circuits.core: import from circuits.core instead)")
                if imp.nested and not imp.type_checking and module not in LAZY_LOADERS:
                    problems["nested"].append(
                        f"{where}  (function-level import of {target}: move it to the top of the "
                        f"module; if that makes a cycle, the layering is wrong)")
            elif layer == "core" and top not in sys.stdlib_module_names:
                problems["stdlib"].append(f"{where}  (circuits.core imports {target}, not in the standard library)")
            if layer in PURE_LAYERS and not imp.type_checking:
                if any(_within(target, io) for io in IO_MODULES):
                    problems["pure"].append(f"{where}  ({layer} is sans-I/O: it may not import {target})")
    return problems


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    return check(ROOT)


@pytest.mark.parametrize("rule, title", [
    ("layers", "imports from a layer above (or beside) the importing one"),
    ("nested", "function-level imports of project modules"),
    ("stdlib", "circuits.core imports outside the standard library"),
    ("pure", "I/O imports in a sans-I/O layer"),
    ("unknown", "modules in no layer"),
])
def test_layering(problems, rule, title):
    found = problems[rule]
    assert not found, f"{len(found)} {title}:\n  " + "\n  ".join(found)


def test_the_checker_sees_the_project():
    paths = list(iter_modules(ROOT))
    assert any(module_name(p, ROOT) == "circuits.core.manager" for p in paths)
    assert len(paths) > 20


# -- the checker, on made-up trees ---------------------------------------------

def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


BASE = {
    "circuits/__init__.py": "from .core import Component\n",
    "circuits/core/__init__.py": "from .manager import Manager\n",
    "circuits/core/manager.py": "import os\nfrom typing import TYPE_CHECKING\n",
    "circuits/protocols/__init__.py": "",
    "circuits/protocols/line.py": "import re\n",
    "circuits/net/__init__.py": "",
    "circuits/net/sockets.py": "import socket\nfrom ..core.manager import Manager\n",
    "circuits/io/__init__.py": "",
    "circuits/web/__init__.py": "from circuits.net import sockets\n",
    "devices/__init__.py": "from circuits.protocols.line import x\n",
    "gateway/__init__.py": "import circuits.web\nimport devices\n",
}


def checked(tmp_path: Path, extra: dict[str, str]) -> dict[str, list[str]]:
    return check(write(tmp_path, {**BASE, **extra}))


def test_a_clean_tree_passes(tmp_path):
    assert checked(tmp_path, {}) == {"layers": [], "nested": [], "stdlib": [], "pure": [], "unknown": []}


@pytest.mark.parametrize("name, text, rule, needle", [
    # Relative imports are resolved: ..net from circuits/core/x.py is circuits.net.
    ("circuits/core/x.py", "from ..net import sockets\n", "layers", "circuits/core/x.py:1: from ..net import sockets"),
    ("circuits/core/x.py", "from circuits.net.sockets import y\n", "layers", "imports circuits.net.sockets"),
    ("circuits/core/x.py", "from circuits import Component\n", "layers", "circuits.core imports the circuits package"),
    ("circuits/core/x.py", "from circuits import net\n", "layers", "imports circuits.net,"),
    ("circuits/protocols/x.py", "\n\nimport circuits.net.sockets\n", "layers", "circuits/protocols/x.py:3:"),
    ("circuits/protocols/x.py", "import socket\n", "pure", "may not import socket"),
    ("circuits/protocols/x.py", "from http.client import HTTPConnection\n", "pure", "http.client"),
    ("circuits/protocols/x.py", "import serial.tools\n", "pure", "serial.tools"),
    ("circuits/net/x.py", "from ..io import y\n", "layers", "net layer imports circuits.io"),
    ("circuits/net/x.py", "from ..web import y\n", "layers", "of the web layer"),
    ("devices/x.py", "from circuits.core import Manager\n", "layers", "devices layer imports circuits.core"),
    ("devices/x.py", "import gateway\n", "layers", "of the gateway layer"),
    ("circuits/core/x.py", "import numpy\n", "stdlib", "imports numpy, not in the standard library"),
    ("circuits/core/x.py", "def f():\n    from . import manager\n", "nested", "circuits/core/x.py:2: from . import manager"),
    ("circuits/core/x.py", "class C:\n    import circuits.core.manager\n", "nested", "x.py:2:"),
    ("circuits/web/x.py", "async def f():\n    import circuits.net\n", "nested", "x.py:2:"),
    ("circuits/web/x.py", "def f():\n    return importlib.import_module('circuits.net')\n", "nested", "import_module"),
    ("circuits/core/x.py", "def f():\n    return __import__('circuits.web')\n", "layers", "circuits.web"),
    ("circuits/foo/x.py", "", "unknown", "circuits.foo.x is in no layer"),
    # Only the modules of LAZY_LOADERS may defer an import.
    ("gateway/x.py", "def f():\n    from .web import y\n", "nested", "gateway/x.py:2: from .web import y"),
])
def test_the_checker_flags(tmp_path, name, text, rule, needle):
    problems = checked(tmp_path, {name: text, "circuits/web/__init__.py": ""})
    assert any(needle in p for p in problems[rule]), problems


@pytest.mark.parametrize("name, text", [
    ("circuits/core/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .manager import Manager\n"),
    ("circuits/core/x.py", "import typing\ndef f():\n    if typing.TYPE_CHECKING:\n        from . import manager\n"),
    ("circuits/core/x.py", "def f():\n    import json\n"),  # stdlib, not a project module
    ("circuits/core/x.py", "try:\n    import tomllib\nexcept ImportError:\n    pass\n"),
    ("circuits/net/x.py", "from . import sockets\nfrom .sockets import y\n"),
    ("circuits/web/x.py", "from circuits import Component\nfrom circuits.protocols import line\n"),
    ("gateway/x.py", "from circuits.web import z\nfrom devices import d\n"),
    ("gateway/features.py", "def web():\n    from .web import WebDashboard\n    return WebDashboard\n"),
])
def test_the_checker_allows(tmp_path, name, text):
    problems = checked(tmp_path, {name: text})
    assert not any(problems.values()), problems


def test_the_checker_names_file_and_line_of_a_nested_import(tmp_path):
    text = ("def start_process(manager, link, context):\n"
            "    # a comment\n"
            "    from .bridge import link_process  # noqa: PLC0415\n")
    problems = checked(tmp_path, {"circuits/core/timers.py": text, "circuits/core/bridge.py": ""})
    assert problems["nested"] == [
        "circuits/core/timers.py:3: from .bridge import link_process  (function-level import of "
        "circuits.core.bridge: move it to the top of the module; if that makes a cycle, the "
        "layering is wrong)"]

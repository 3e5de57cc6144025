"""Loader (components from modules on a path), circuits.core.utils, circuits.__version__."""

from __future__ import annotations

import re
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import circuits
from circuits import Component, Event, Loader, Manager
from circuits.core.loader import load
from circuits.core.utils import findchannel, findcmp, findroot, findtype, flatten, safeimport

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for name in [n for n in sys.modules if n.startswith("circuits_test_plugin")]:
        del sys.modules[name]
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def write_plugin(path: Path, name: str, reply: str) -> None:
    (path / f"{name}.py").write_text(textwrap.dedent(f"""
        from circuits import Component

        class Plugin(Component):
            channel = "plugin"

            def init(self, *args, **kwargs):
                self.args = args
                self.kwargs = kwargs

            def ping(self):
                return {reply!r}
    """))


class ping(Event):
    pass


def test_loader_loads_and_registers_a_component_from_a_module(plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "circuits_test_plugin_a", "pong")
    app = Manager()
    loader = Loader(paths=[str(plugin_dir)]).register(app)
    assert loader.channel == "loader"
    v = app.fire(load("circuits_test_plugin_a"), "loader")
    app.flush()
    plugin = v.value
    assert type(plugin).__name__ == "Plugin"
    assert plugin.parent is loader and plugin.root is app
    answer = app.fire(ping(), "plugin")
    app.flush()
    assert answer.value == "pong"


def test_loader_passes_init_arguments_and_may_not_register(plugin_dir: Path) -> None:
    write_plugin(plugin_dir, "circuits_test_plugin_b", "b")
    loader = Loader(auto_register=False, init_args=(1, 2), init_kwargs={"k": 3}, paths=[str(plugin_dir)])
    plugin = loader.load("circuits_test_plugin_b")
    assert plugin is not None
    assert plugin.args == (1, 2) and plugin.kwargs == {"k": 3}
    assert plugin.parent is plugin


def test_loader_returns_none_for_missing_or_broken_modules(plugin_dir: Path) -> None:
    (plugin_dir / "circuits_test_plugin_broken.py").write_text("raise RuntimeError('broken')\n")
    (plugin_dir / "circuits_test_plugin_empty.py").write_text("X = 1\n")
    loader = Loader(paths=[str(plugin_dir)])
    assert loader.load("circuits_test_plugin_missing") is None
    assert loader.load("circuits_test_plugin_broken") is None
    assert loader.load("circuits_test_plugin_empty") is None
    assert loader.components == []


def test_safeimport(plugin_dir: Path) -> None:
    sys.path.append(str(plugin_dir))
    assert safeimport("json") is sys.modules["json"]
    assert safeimport("circuits_test_plugin_nowhere") is None
    module = plugin_dir / "circuits_test_plugin_mod.py"
    module.write_text("VALUE = 1\n")
    first = safeimport("circuits_test_plugin_mod")
    assert first is not None and first.VALUE == 1
    module.write_text("VALUE = 22\n")  # a different size: the reload sees the change
    again = safeimport("circuits_test_plugin_mod")
    assert again is not None and again.VALUE == 22
    module.write_text("raise ImportError('gone bad')\n")
    assert safeimport("circuits_test_plugin_mod") is None
    assert "circuits_test_plugin_mod" not in sys.modules


class A(Component):
    channel = "a"


class B(Component):
    channel = "b"


def tree() -> tuple[Manager, A, B, A]:
    root = Manager()
    a = A().register(root)
    b = B().register(a)
    a2 = A().register(root)
    return root, a, b, a2


def test_findroot() -> None:
    root, a, b, _ = tree()
    assert findroot(b) is root
    assert findroot(root) is root


def test_findtype_and_findcmp() -> None:
    root, a, b, a2 = tree()
    assert findtype(root, A) is a
    assert findtype(root, A, all=True) == [a, a2]
    assert findcmp(root, B) is b
    assert findtype(root, Loader) is None
    assert findtype(root, Loader, all=True) == []
    assert findtype(a, B) is b


def test_findchannel() -> None:
    root, a, b, a2 = tree()
    assert findchannel(root, "b") is b
    assert findchannel(root, "a", all=True) == [a, a2]
    assert findchannel(root, "zzz") is None


def test_flatten_lists_the_tree_parents_first() -> None:
    root, a, b, a2 = tree()
    assert list(flatten(root)) == [root, a, b, a2]
    assert list(flatten(a)) == [a, b]
    seen = {id(a)}
    assert list(flatten(root, seen)) == [root, b, a2]


def test_version() -> None:
    assert isinstance(circuits.__version__, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.?(dev|a|b|rc)\d+)?", circuits.__version__)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert circuits.__version__ == project["version"]

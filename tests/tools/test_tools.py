"""circuits.tools: graph, dot, inspect, kill, tryimport, reprhandler."""

from __future__ import annotations

import os

import pytest

from circuits import Component, Debugger, Event, Timer, handler
from circuits.core.handlers import reprhandler as core_reprhandler
from circuits.core.manager import describe
from circuits.tools import dot, edges, findroot, graph, inspect, kill, reprhandler, tryimport, walk


class ping(Event):
    """ping"""


class Leaf(Component):
    def ping(self):
        return "leaf"


class Middle(Component):
    channel = "middle"

    def ping(self):
        return "middle"

    @handler("ping", "pong", channel="*", priority=5)
    def _on_any_ping(self, *args):
        pass


class Top(Component):
    def started(self, *args):
        pass


def tree():
    top = Top()
    middle = Middle().register(top)
    leaf1 = Leaf().register(middle)
    leaf2 = Leaf().register(top)
    return top, middle, leaf1, leaf2


# -- graph ------------------------------------------------------------------

def test_graph_one_line_per_component_indented_by_depth():
    top, middle, leaf1, leaf2 = tree()
    assert graph(top).splitlines() == [
        f"* {describe(top)}",
        f" * {describe(middle)}",
        f"  * {describe(leaf1)}",
        f" * {describe(leaf2)}",
    ]


def test_graph_of_a_subtree_starts_at_depth_zero():
    top, middle, leaf1, _ = tree()
    assert graph(middle).splitlines() == [f"* {describe(middle)}", f" * {describe(leaf1)}"]


def test_graph_of_a_lone_component_and_the_name_argument():
    c = Leaf()
    assert graph(c) == f"* {describe(c)}"
    assert graph(c, name="app") == graph(c)


def test_graph_repr_matches_the_manual_format():
    top, *_ = tree()
    first = graph(top).splitlines()[0]
    assert first.startswith(f"* <Top/* {os.getpid()}:MainThread (queued=")
    assert first.endswith("[S]>")


def test_graph_handles_deep_trees_without_recursion():
    root = node = Leaf()
    for _ in range(1100):  # deeper than the recursion limit
        node = Leaf().register(node)
    lines = graph(root).splitlines()
    assert len(lines) == 1101
    assert lines[-1].startswith(" " * 1100 + "* <Leaf/*")


def test_walk_edges_findroot():
    top, middle, leaf1, leaf2 = tree()
    assert [(d, n) for d, n in walk(top)] == [(0, top), (1, middle), (2, leaf1), (1, leaf2)]
    assert edges(top) == [(top, middle), (top, leaf2), (middle, leaf1)]
    assert findroot(leaf1) is top
    assert findroot(top) is top


def test_dot_is_graphviz_source_named_after_the_root_or_the_name_given():
    top, *_ = tree()
    source = dot(top)
    assert source.startswith('digraph "Top" {')
    assert source.endswith("}")
    assert source.count("->") == 3
    assert 'label="Middle/middle"' in source
    assert dot(top, name='my "app"').startswith('digraph "my \\"app\\"" {')


# -- inspect ------------------------------------------------------------------

def test_inspect_lists_components_and_handlers_per_event():
    top, middle, leaf1, leaf2 = tree()
    text = inspect(top)
    lines = text.splitlines()
    assert lines[0] == "Components: 4"
    assert lines[1:5] == [f" {c!r}" for c in (top, middle, leaf1, leaf2)]
    assert "Event Handlers: 3" in lines  # ping, pong, started
    i = lines.index(" ping; 4")
    ping_lines = lines[i + 1:i + 5]
    # Highest priority first; every line has the channel and priority.
    assert ping_lines[0] == "  <handler[*][ping,pong] (Middle._on_any_ping)> priority=5"
    assert ping_lines.count("  <handler[*][ping] (Leaf.ping)> priority=0") == 2
    assert "  <handler[middle][ping] (Middle.ping)> priority=0" in ping_lines
    assert " pong; 1" in lines
    assert " started; 1" in lines


def test_inspect_includes_handlers_added_at_run_time_and_catch_alls():
    top = Top()
    Debugger(file=open(os.devnull, "w")).register(top)  # noqa: SIM115
    text = inspect(top)
    assert " exception; 1" in text  # added by Debugger(errors=True) with addHandler
    assert " *; 1" in text  # its handler of every event on every channel
    assert "Debugger._on_event" in text


def test_inspect_of_a_component_without_handlers():
    from circuits import BaseComponent

    c = BaseComponent()
    assert inspect(c).splitlines() == ["Components: 1", f" {c!r}", "", "Event Handlers: 0"]


# -- kill ---------------------------------------------------------------------

def test_kill_unregisters_the_subtree_and_every_node_in_it():
    top, middle, leaf1, leaf2 = tree()
    top.flush()
    kill(middle)
    top.flush()
    assert top.components == [leaf2]
    assert middle.parent is middle and middle.root is middle
    assert leaf1.parent is leaf1 and leaf1.root is leaf1
    assert middle.components == []


def test_killed_components_no_longer_get_events():
    top, middle, leaf1, leaf2 = tree()
    top.flush()
    kill(middle)
    top.flush()
    value = top.fire(ping())
    top.flush()
    assert value.value == "leaf"  # only leaf2 is left


def test_kill_a_timer_cancels_it():
    top = Top()
    timer = Timer(60, ping(), persist=True).register(top)
    top.flush()
    assert top.statistics()["timers"] == 1
    kill(timer)
    top.flush()
    assert top.statistics()["timers"] == 0
    assert top.components == []


def test_kill_the_root_detaches_its_children():
    top, middle, leaf1, leaf2 = tree()
    top.flush()
    kill(top)
    top.flush()
    for c in (top, middle, leaf1, leaf2):
        assert c.components == [] and c.root is c


# -- tryimport ----------------------------------------------------------------

def test_tryimport_single_name():
    import json

    assert tryimport("json") is json


def test_tryimport_first_that_works():
    import json

    assert tryimport(("no_such_module_xyz", "json", "os")) is json


def test_tryimport_returns_a_submodule_not_its_package():
    import os.path

    assert tryimport("os.path") is os.path


def test_tryimport_obj():
    from json import dumps

    assert tryimport(("no_such_module_xyz", "json"), "dumps") is dumps


def test_tryimport_module_without_obj_counts_as_failing():
    from os import getcwd

    assert tryimport(("json", "os"), "getcwd") is getcwd


def test_tryimport_none_works_prints_message(capsys):
    assert tryimport(("no_such_module_xyz", "nor_this_one_xyz"), message="install xyz") is None
    captured = capsys.readouterr()
    assert captured.err == "install xyz\n"
    assert captured.out == ""


def test_tryimport_none_works_silently_without_message(capsys):
    assert tryimport("no_such_module_xyz") is None
    assert tryimport([]) is None
    assert capsys.readouterr() == ("", "")


def test_tryimport_does_not_hide_a_broken_module(tmp_path, monkeypatch):
    (tmp_path / "broken_module_xyz.py").write_text("raise RuntimeError('bug in module')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(RuntimeError, match="bug in module"):
        tryimport(("broken_module_xyz", "json"))


# -- reprhandler --------------------------------------------------------------

def test_reprhandler_has_the_3x_short_form():
    middle = Middle()
    assert reprhandler(middle._on_any_ping) == "<handler[*][ping,pong] (Middle._on_any_ping)>"
    assert reprhandler(middle.ping) == "<handler[middle][ping] (Middle.ping)>"  # the component's channel
    with pytest.raises(AttributeError):
        reprhandler(lambda: None)  # not a handler


def test_the_core_reprhandler_is_the_same_short_form():
    middle = Middle()
    assert core_reprhandler(middle._on_any_ping) == reprhandler(middle._on_any_ping)

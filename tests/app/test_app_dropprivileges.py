"""DropPrivileges: validation, the not-root no-op, and (as root) a real drop in a subprocess."""

from __future__ import annotations

import grp
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from circuits import Manager
from circuits.app import DropPrivileges
from circuits.app import dropprivileges as module

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_user_or_group_is_refused_up_front():
    with pytest.raises(ValueError, match="no such user"):
        DropPrivileges("no-such-user-here")
    with pytest.raises(ValueError, match="no such group"):
        DropPrivileges("nobody", "no-such-group-here")


def test_group_defaults_to_the_users_primary_group():
    drop = DropPrivileges("nobody")
    nobody = pwd.getpwnam("nobody")
    assert (drop.uid, drop.gid) == (nobody.pw_uid, nobody.pw_gid)
    assert drop.group == grp.getgrgid(nobody.pw_gid).gr_name


def test_not_root_means_nothing_to_drop(monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(module.os, "getuid", lambda: 1000)
    for name in ("setuid", "setgid", "setgroups", "umask"):
        monkeypatch.setattr(module.os, name, lambda *a, _n=name: calls.append(_n))
    app = Manager()
    drop = DropPrivileges("nobody").register(app)
    app.fire(module.drop_privileges(), "dropprivileges")
    app.flush()
    assert calls == [] and drop.dropped is False


def run_drop(user: str, group: str = "-") -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("drop_app.py")), user, group],
                          env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(os.getuid() != 0, reason="dropping privileges needs root")
def test_a_real_drop_to_nobody():
    nobody = pwd.getpwnam("nobody")
    report = run_drop("nobody")
    group = grp.getgrgid(nobody.pw_gid).gr_name
    assert report["event"] == ["nobody", group, nobody.pw_uid, nobody.pw_gid]
    assert report["uid"] == report["euid"] == nobody.pw_uid
    assert report["gid"] == nobody.pw_gid
    assert report["groups"] == [nobody.pw_gid]  # no supplementary root groups left
    assert report["umask"] == 0o027
    assert report["regained"] is False

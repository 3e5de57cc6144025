"""The web examples, run as programs and used over real HTTP.

Seed 003 (circuits + React) runs verbatim; with the Auth component added,
a request with wrong credentials never reaches the controller, so a POST
without the right password changes nothing.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "examples" / "web"
TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    def __init__(self, script: str, cwd: Path) -> None:
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT), PORT=str(self.port), PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, str(WEB / script)], cwd=str(cwd), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    out, err = self.proc.communicate(timeout=5)
                    pytest.fail(f"{script} did not start: {err.decode()}")
                time.sleep(0.05)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, dict(res.getheaders()), res.read()
        finally:
            conn.close()

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode()


@pytest.fixture
def site(tmp_path):
    shutil.copy(WEB / "comments.json", tmp_path / "comments.json")
    shutil.copytree(WEB / "public", tmp_path / "public")
    return tmp_path


@pytest.fixture
def start():
    apps: list[App] = []

    def run(script: str, cwd: Path = WEB) -> App:
        app = App(script, cwd)
        apps.append(app)
        return app

    yield run
    for app in apps:
        if app.proc.poll() is None:
            app.proc.kill()
            app.proc.wait()


def stopped_cleanly(app: App) -> None:
    rc, err = app.stop()
    assert rc == 0, err
    assert "Traceback" not in err and "Unhandled error" not in err, err


@pytest.mark.parametrize("script", ["hello.py", "hello_base.py"])
def test_hello(start, script):
    app = start(script)
    status, headers, body = app.request("GET", "/")
    assert (status, body) == (200, b"Hello World!")
    stopped_cleanly(app)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post_comment(app: App, author: str, text: str, headers: dict[str, str] | None = None):
    return app.request("POST", "/comments.json", urlencode({"author": author, "text": text}).encode(),
                       {**FORM, **(headers or {})})


def test_react_comments(start, site):
    app = start("react_comments.py", site)
    status, headers, body = app.request("GET", "/comments.json")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-cache"
    assert json.loads(body) == [{"author": "Pete Hunt", "text": "Hey there!"}]
    status, _, body = post_comment(app, "Ann", "Hi <b>all</b> & more")
    assert status == 200
    assert json.loads(body)[-1] == {"author": "Ann", "text": "Hi <b>all</b> & more"}
    assert json.loads((site / "comments.json").read_text())[-1]["author"] == "Ann"
    status, headers, body = app.request("GET", "/")
    assert status == 200 and b"<h1>Comments</h1>" in body
    stopped_cleanly(app)


def auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_react_comments_with_auth_protects_the_controller(start, site):
    app = start("react_comments_auth.py", site)
    before = (site / "comments.json").read_text()
    status, headers, _ = app.request("GET", "/comments.json")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith('Basic realm="Comments"')
    for credentials in ({}, auth("admin", "wrong"), auth("mallory", "admin"), {"Authorization": "Basic ###"}):
        status, _, body = post_comment(app, "Mallory", "pwned", credentials)
        assert status == 401
        assert b"pwned" not in body
    assert (site / "comments.json").read_text() == before  # the controller never ran
    status, _, body = post_comment(app, "Admin", "legit", auth("admin", "admin"))
    assert status == 200
    assert json.loads(body)[-1] == {"author": "Admin", "text": "legit"}
    status, _, body = app.request("GET", "/comments.json", headers=auth("admin", "admin"))
    assert [c["author"] for c in json.loads(body)] == ["Pete Hunt", "Admin"]
    status, _, body = app.request("GET", "/")  # static files are not protected
    assert status == 200
    stopped_cleanly(app)

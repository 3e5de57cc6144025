"""The circuits.web command-line tool serving a temporary directory (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from circuits.web.main import build_app, parse_args
from tests.core.helpers import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def docroot(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.txt").write_text("some data")
    return tmp_path


def serve(*args: str) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "circuits.web", "-b", "127.0.0.1:0", "-q", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else url
        yield url
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def get(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_serves_files_and_listings(docroot: Path) -> None:
    for url in serve(str(docroot)):
        assert get(url) == (200, b"<h1>home</h1>")
        assert get(url + "sub/data.txt") == (200, b"some data")
        status, listing = get(url + "sub/")
        assert status == 200 and b"data.txt" in listing
        assert get(url + "../../etc/passwd")[0] in (400, 403, 404)


def test_no_index_and_jsonrpc(docroot: Path) -> None:
    for url in serve("--no-index", "--jsonrpc", str(docroot)):
        assert get(url + "sub/")[0] in (403, 404)
        call = json.dumps({"jsonrpc": "2.0", "method": "ping", "id": 1}).encode()
        status, body = get(url + "json", call)
        assert status == 200 and json.loads(body)["result"] == "pong"


def test_arguments() -> None:
    args = parse_args(["-b", "127.0.0.1:9", "--jsonrpc", "--no-index", "/tmp"])
    assert (args.bind, args.jsonrpc, args.no_index, args.docroot) == ("127.0.0.1:9", True, True, "/tmp")
    with pytest.raises(FileNotFoundError):
        build_app(parse_args(["/definitely/not/here"]))
    proc = subprocess.run([sys.executable, "-m", "circuits.web", "/definitely/not/here"], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 2 and "not a directory" in proc.stderr

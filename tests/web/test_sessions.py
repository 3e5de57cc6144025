"""Sessions over real HTTP: the ``with self.session as data`` idiom and expiry."""

from __future__ import annotations

import http.cookiejar
import urllib.request
from typing import Any

import pytest

from circuits.web import Controller, Sessions
from circuits.web.sessions import MemoryStore

from .helpers import serve


class RecordingStore(MemoryStore):
    """A MemoryStore that remembers what was saved when (a database stand-in)."""

    def __init__(self) -> None:
        super().__init__()
        self.saved: list[dict[str, Any]] = []

    def save(self, sid: str, data: dict[str, Any]) -> None:
        self.saved.append(dict(data))


class Root(Controller):
    def index(self, name: str | None = None) -> str:
        if name:
            with self.session as data:
                data["name"] = name
                # Saved when the block ends, before the page returns.
                data["saves_inside"] = len(self.session.store.saved)
            assert self.session.store.saved[-1]["name"] == name
        return "Hello " + self.session.get("name", "World!")

    def broken(self) -> str:
        with self.session as data:
            data["half"] = "done"
            raise ValueError("the page fails after editing its session")

    def logout(self) -> str:
        self.session.expire()
        return "OK"


@pytest.fixture
def site():
    store = RecordingStore()
    with serve(Root(), Sessions(store=store)) as server:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def get(path: str) -> tuple[int, bytes]:
            try:
                with opener.open(f"http://127.0.0.1:{server.port}{path}", timeout=5) as res:
                    return res.status, res.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        yield get, store


def test_with_session_saves_on_exit_and_state_follows_the_cookie(site) -> None:
    get, store = site
    assert get("/") == (200, b"Hello World!")
    assert get("/test") == (200, b"Hello test")
    assert get("/") == (200, b"Hello test")
    assert any(saved.get("name") == "test" and saved.get("saves_inside") is not None for saved in store.saved)


def test_with_session_saves_even_when_the_block_raises(site) -> None:
    get, store = site
    status, _ = get("/broken")
    assert status == 500
    assert store.saved and store.saved[0].get("half") == "done"


def test_expire_starts_a_fresh_session(site) -> None:
    get, _ = site
    assert get("/alice") == (200, b"Hello alice")
    assert get("/logout") == (200, b"OK")
    assert get("/") == (200, b"Hello World!")

"""Sessions: a dict per browser, found again through a cookie.

Session ids are 256-bit random values from :mod:`secrets`. A cookie is
only honoured if it names a session this server created (no session
fixation: unknown ids get a fresh session). The cookie is HttpOnly,
SameSite=Lax, and Secure over HTTPS.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from typing import Any

from ..core.components import Component
from ..core.handlers import handler

__all__ = ["MemoryStore", "Session", "Sessions", "Store"]

_SID = re.compile(r"^[A-Za-z0-9_-]{20,128}$")


class Session(dict):  # type: ignore[type-arg]
    """The data of one session; ``sid`` is its id."""

    def __init__(self, sid: str, data: dict[str, Any] | None = None, store: Store | None = None) -> None:
        super().__init__(data or {})
        self.sid = sid
        self.store = store

    def expire(self) -> None:
        """Forget this session (its id stops being valid)."""
        self.clear()
        if self.store is not None:
            self.store.delete(self.sid)

    def save(self) -> None:
        """Write the data back to the store (also done after each request)."""
        if self.store is not None:
            self.store.save(self.sid, self)

    # ``with self.session as data: data["k"] = v`` (the 3.x idiom): the block
    # edits the session and it is saved when the block ends. It is saved even
    # when the block raises, so every store behaves like the in-memory one,
    # whose dict already holds the changes made before the error.
    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.save()


class Store:
    """Where sessions live (override for a database)."""

    def __init__(self, timeout: float = 3600.0) -> None:
        self.timeout = timeout

    def get(self, sid: str) -> Session | None:
        raise NotImplementedError

    def create(self, sid: str) -> Session:
        raise NotImplementedError

    def save(self, sid: str, data: dict[str, Any]) -> None:
        """Called after each request that used the session."""

    def delete(self, sid: str) -> None:
        raise NotImplementedError


class MemoryStore(Store):
    """Sessions in memory, dropped after ``timeout`` seconds unused (bounded in number)."""

    def __init__(self, timeout: float = 3600.0, max_sessions: int = 100_000) -> None:
        super().__init__(timeout)
        self.max_sessions = max_sessions
        self._data: OrderedDict[str, tuple[float, Session]] = OrderedDict()

    def get(self, sid: str) -> Session | None:
        entry = self._data.get(sid)
        if entry is None:
            return None
        last, session = entry
        now = time.monotonic()
        if now - last > self.timeout:
            del self._data[sid]
            return None
        self._data[sid] = (now, session)
        self._data.move_to_end(sid)
        return session

    def create(self, sid: str) -> Session:
        session = Session(sid, store=self)
        self._data[sid] = (time.monotonic(), session)
        # Oldest first: trim expired sessions, and the oldest past the bound.
        while self._data:
            oldest_sid, (last, _) = next(iter(self._data.items()))
            if len(self._data) > self.max_sessions or time.monotonic() - last > self.timeout:
                del self._data[oldest_sid]
            else:
                break
        return session

    def delete(self, sid: str) -> None:
        self._data.pop(sid, None)

    def __len__(self) -> int:
        return len(self._data)


class Sessions(Component):
    """Give every request a ``request.session`` (channel "web")."""

    channel = "web"

    def __init__(self, name: str = "circuits.session", store: Any = MemoryStore, *args: Any,
                 channel: Any = channel, secure: bool | None = None, **kwargs: Any) -> None:
        super().__init__(channel=channel)
        #: The cookie that carries the session id (``name=``).
        self.cookie_name = name
        self.store: Store = store() if isinstance(store, type) else store
        self.secure = secure

    @handler("request", priority=10)
    def _on_request(self, request: Any, response: Any) -> None:
        morsel = request.cookie.get(self.cookie_name)
        sid = morsel.value if morsel is not None else None
        session = self.store.get(sid) if sid and _SID.match(sid) else None
        if session is None:
            sid = secrets.token_urlsafe(32)
            session = self.store.create(sid)
        request.session = session
        cookie = response.cookie
        cookie[self.cookie_name] = session.sid
        cookie[self.cookie_name]["path"] = "/"
        cookie[self.cookie_name]["httponly"] = True
        cookie[self.cookie_name]["samesite"] = "Lax"
        secure = self.secure if self.secure is not None else request.scheme == "https"
        if secure:
            cookie[self.cookie_name]["secure"] = True

    @handler("response_success")
    def _on_response_success(self, response_event: Any, value: Any) -> None:
        session = getattr(response_event.args[0].request, "session", None)
        if isinstance(session, Session):
            session.save()

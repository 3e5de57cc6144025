"""Basic authentication for the dashboard with the pbkdf2 hashes of ``[web.users]``.

Guards every request (pages, static files, ``/api``, ``/metrics``, the
``/ws`` upgrade) except the open paths (``/healthz``: a load balancer or
systemd probe has no password). A request it refuses gets 401 with a
``WWW-Authenticate: Basic`` challenge (RFC 7617) and never reaches the
handlers below it (``request`` handlers run by priority, and the first
answer ends the request).

Why not ``circuits.web.tools.basic_auth``: it compares ``encrypt(password)``
with the stored value, which cannot work with salted hashes, and a pbkdf2
check (600,000 rounds) takes a quarter of a second or more -- on the loop
that would stall every device for each login, and let anyone stall the
gateway by sending wrong passwords. So:

* credentials already verified are remembered as an HMAC of (user,
  password) under a per-process key (never the password itself): the
  browser sends them with every request, and those cost one HMAC;
* new credentials are checked on one worker thread (``pbkdf2_hmac``
  releases the GIL); the request waits as a task, then is fired again and
  passes. At most ``max_pending`` checks wait; beyond that the answer is
  503 with Retry-After, so a flood of guesses costs the loop nothing;
* credentials found wrong are remembered too, so repeating them is cheap;
* an unknown user is checked against a dummy hash, so the time to answer
  does not say which user names exist.

hashlib, hmac and secrets are imported by the guard, not with the module:
they load OpenSSL's libcrypto (~3.7 MB of memory), and every dashboard
imports this module while only one with ``[web.users]`` makes a guard
(issue 15).
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Generator, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from circuits import BaseComponent, handler
from circuits.core.tasks import wait_future
from circuits.web.errors import httperror, unauthorized
from circuits.web.events import request as request_event
from gateway.passwords import ALGORITHM, ITERATIONS, verify_password

__all__ = ["BasicAuthGuard", "parse_basic"]

#: Above the WebSocket dispatcher (10), Static (0.9) and the controllers (0.1).
PRIORITY = 100.0
#: Remembered verdicts (LRU): enough for every user and browser of an appliance.
GOOD_CACHE = 64
BAD_CACHE = 1024


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic`` value (RFC 7617 section 2), else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


class _Lru:
    """A bounded set of keys with the oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, str] = OrderedDict()

    def get(self, key: bytes) -> str | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def add(self, key: bytes, value: str) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class BasicAuthGuard(BaseComponent):
    """Refuses requests without valid credentials for ``users`` (name -> pbkdf2 hash)."""

    channel: Any = "web"

    def __init__(self, users: Mapping[str, str], realm: str, *, open_paths: Iterable[str] = ("/healthz",),
                 max_pending: int = 8, channel: Any = "web") -> None:
        super().__init__(channel=channel)
        self.users = dict(users)
        self.realm = realm.replace("\\", "\\\\").replace('"', '\\"')
        self.open_paths = frozenset(open_paths)
        self.max_pending = max_pending
        import secrets  # see the module doc

        self._key = secrets.token_bytes(32)
        self._good = _Lru(GOOD_CACHE)
        self._bad = _Lru(BAD_CACHE)
        self._pending = 0
        self._executor: ThreadPoolExecutor | None = None
        # A hash nothing matches, at the same cost as a real one: an unknown
        # user takes as long to refuse as a known one (no hashing at start-up).
        self._dummy = "$".join((ALGORITHM, str(ITERATIONS), base64.b64encode(secrets.token_bytes(16)).decode(),
                                base64.b64encode(secrets.token_bytes(32)).decode()))
        self.accepted = 0
        self.refused = 0
        self.checks = 0
        self.busy = 0

    def knows(self, request: Any) -> bool:
        """On the head alone, without waiting: an open path, or credentials already verified.

        The server asks before it reads a body (``body_limit``): a client it
        does not know yet gets its 401 without a byte of the body read.
        """
        if request.path in self.open_paths:
            return True
        credentials = parse_basic(request.headers.get("Authorization"))
        if credentials is None:
            return False
        return self._good.get(self._remembered(*credentials)) is not None

    def _remembered(self, user: str, password: str) -> bytes:
        """What the caches keep for a pair of credentials: their HMAC under this process's key."""
        import hashlib
        import hmac

        return hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()

    @handler("request", priority=PRIORITY)
    def _on_request(self, event: Any, request: Any, response: Any) -> Any:
        if request.path in self.open_paths or getattr(request, "gateway_authenticated", False):
            return None
        credentials = parse_basic(request.headers.get("Authorization"))
        if credentials is None:
            return self._challenge(request, response)
        user, password = credentials
        key = self._remembered(user, password)
        if self._good.get(key) is not None:
            return self._accept(request, user)
        if self._bad.get(key) is not None:
            return self._challenge(request, response)
        if self._pending >= self.max_pending:
            self.busy += 1
            response.headers["Retry-After"] = "1"
            return httperror(request, response, 503, description="Too many logins being checked; try again.")
        return self._check(request, response, user, password, key)

    def _check(self, request: Any, response: Any, user: str, password: str,
               key: bytes) -> Generator[Any, Any, Any]:
        """A task: verify on the worker thread, then answer or let the request through."""
        encoded = self.users.get(user, self._dummy)
        self._pending += 1
        self.checks += 1
        try:
            ok = yield wait_future(self._pool().submit(verify_password, password, encoded))
        finally:
            self._pending -= 1
        if not ok or user not in self.users:
            self._bad.add(key, user)
            return self._challenge(request, response)
        self._good.add(key, user)
        self._accept(request, user)
        # Handled again from the top: this guard lets it pass, and the
        # WebSocket dispatcher, Static or a controller answers it.
        return self.fire(request_event(request, response), self.channel)

    def _accept(self, request: Any, user: str) -> None:
        request.login = user
        request.gateway_authenticated = True
        self.accepted += 1
        return None

    def _challenge(self, request: Any, response: Any) -> Any:
        self.refused += 1
        # RFC 7617 section 2.1: charset="UTF-8" says how user and password are encoded.
        response.headers["WWW-Authenticate"] = f'Basic realm="{self.realm}", charset="UTF-8"'
        return unauthorized(request, response)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="gateway-auth")
        return self._executor

    @handler("stopped", channel="*")
    def _on_stopped(self, component: Any) -> None:
        if component is self.root and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def statistics(self) -> dict[str, Any]:  # type: ignore[override]
        return {"accepted": self.accepted, "refused": self.refused, "checks": self.checks,
                "pending": self._pending, "busy": self.busy}

"""What a request to the web app must satisfy before Gradio or our routes see it.

``RequestGuard`` is one ASGI middleware in front of the whole app:

- the ``Host`` header names the bound host or a configured public name (no DNS rebinding);
- a state-changing request (POST, PUT, PATCH, DELETE) from a browser comes from this origin
  (``Origin``, else ``Sec-Fetch-Site``), so another site cannot upload or call functions;
- a request body stays within a bound (uploads 60 MB, everything else 1 MB);
- login attempts are rate-limited per client with a delay that doubles on every failure.

``ConfirmTokens`` hands out one-time tokens that the page passes back when the user confirms
a change (remove, re-index, add a report, a coding decision); a call without a fresh token for
the same session, action and target changes nothing. Kept free of Gradio imports.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MB = 1024 * 1024
UPLOAD_MAX_BYTES = 60 * MB
BODY_MAX_BYTES = 4 * MB  # a chat turn sends the conversation so far
QUESTION_MAX_CHARS = 2000
LOGIN_PATHS = ("/login", "/login/")
UPLOAD_SUFFIXES = ("/upload", "/upload/")
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_BASE_DELAY_S = 0.5
LOGIN_MAX_DELAY_S = 300.0
TOKEN_TTL_S = 300.0
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _bare(host: str) -> str:
    """'[::1]' -> '::1'; lower case."""
    host = host.strip().lower()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address. A name such as
    '127.example.org' is resolved like any other and so is not loopback by its spelling."""
    host = _bare(host)
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {str(info[4][0]) for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses
    )


def host_of(value: str) -> str:
    """The host part of a ``Host`` header ('example.org:7860', '[::1]:7860') or an origin."""
    value = value.strip()
    if "://" in value:
        return _bare(urlsplit(value).hostname or "")
    if value.startswith("["):
        return _bare(value.split("]", 1)[0] + "]")
    return _bare(value.rsplit(":", 1)[0] if value.count(":") == 1 else value)


def allowed_hosts(bind_host: str, public_names: Iterable[str] = ()) -> frozenset[str]:
    """The names a browser may use to reach the app: the bound host, the loopback names when
    bound to loopback, the machine's own names when bound to every address, and the public
    names the operator configured (behind a proxy, say)."""
    names = {_bare(bind_host)} | {host_of(n) for n in public_names if n.strip()}
    bare = _bare(bind_host)
    if is_loopback(bare):
        names |= LOOPBACK_NAMES
    if bare in ("0.0.0.0", "::", ""):
        names |= LOOPBACK_NAMES
        for name in (socket.gethostname(), socket.getfqdn()):
            if name:
                names.add(name.lower())
    names.discard("")
    return frozenset(names)


class LoginThrottle:
    """Per client: after the n-th failed login the next attempt waits 0.5 s * 2^(n-1), at most
    five minutes; a successful login clears the record."""

    def __init__(self, base: float = LOGIN_BASE_DELAY_S, cap: float = LOGIN_MAX_DELAY_S):
        self.base, self.cap = base, cap
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (failures, not before)
        self._lock = threading.Lock()

    def wait(self, client: str, now: float | None = None) -> float:
        """Seconds the client must still wait before its next attempt (0: go ahead)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            entry = self._failures.get(client)
        return 0.0 if entry is None else max(0.0, entry[1] - now)

    def failed(self, client: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) > 10_000:  # bounded memory: forget the expired ones
                self._failures = {c: e for c, e in self._failures.items() if e[1] > now}
            count = self._failures.get(client, (0, 0.0))[0] + 1
            delay = min(self.cap, self.base * 2 ** (count - 1))
            self._failures[client] = (count, now + delay)
            return delay

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


@dataclass(frozen=True, slots=True)
class _Pending:
    session: str
    action: str
    target: str
    expires: float


class ConfirmTokens:
    """One-time tokens for changes: ``issue`` when the page asks to confirm, ``redeem`` when
    the confirmed call arrives. Bound to session, action and target; valid five minutes."""

    def __init__(self, ttl: float = TOKEN_TTL_S) -> None:
        self.ttl = ttl
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)

    def bound(self, session: str | None, action: str, target: str = "") -> str:
        """A reusable token for many small changes of one session to one target (the coding
        decisions on one opened transcript): an HMAC no other session can compute."""
        if not session:
            return ""
        message = "\x1f".join((session, action, target)).encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def check_bound(self, session: str | None, action: str, target: str, token: str | None) -> bool:
        expected = self.bound(session, action, target)
        return bool(expected and token) and hmac.compare_digest(expected, str(token))

    def issue(self, session: str | None, action: str, target: str = "") -> str:
        if not session:
            return ""
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._pending = {t: p for t, p in self._pending.items() if p.expires > now}
            self._pending[token] = _Pending(session, action, target, now + self.ttl)
        return token

    def redeem(self, session: str | None, action: str, target: str, token: str | None) -> bool:
        if not session or not token:
            return False
        with self._lock:
            pending = self._pending.pop(token, None)
        return (
            pending is not None
            and pending.expires > time.monotonic()
            and secrets.compare_digest(pending.session, session)
            and pending.action == action
            and pending.target == target
        )


class _TooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _reply(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: host, origin, body size and login throttling (see the module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        hosts: frozenset[str],
        throttle: LoginThrottle | None = None,
        upload_max: int = UPLOAD_MAX_BYTES,
        body_max: int = BODY_MAX_BYTES,
    ) -> None:
        self.app, self.hosts = app, hosts
        self.throttle = throttle or LoginThrottle()
        self.upload_max, self.body_max = upload_max, body_max

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        host = _header(scope, b"host")
        if host is None or host_of(host) not in self.hosts:
            return 400, (
                "Onbekende host: deze server antwoordt alleen op "
                f"{', '.join(sorted(self.hosts))}. Zet een publieke naam met --public-name."
            )
        if scope["type"] == "websocket" or scope.get("method") in CHANGING_METHODS:
            origin = _header(scope, b"origin")
            if origin is not None:
                if origin == "null" or host_of(origin) not in self.hosts:
                    return 403, "Verzoek van een andere website geweigerd (Origin)."
            elif (_header(scope, b"sec-fetch-site") or "") == "cross-site":
                return 403, "Verzoek van een andere website geweigerd (Sec-Fetch-Site)."
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _reply(send, refusal[0], refusal[1], [])
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.upload_max if path.endswith(UPLOAD_SUFFIXES) else self.body_max
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _reply(send, 413, _too_large(limit), [])
            return
        if scope.get("method") == "POST" and path.endswith(LOGIN_PATHS):
            await self._login(scope, receive, send)
            return
        await self._bounded(scope, receive, send, limit)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message.get("type") == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await _reply(send, 413, _too_large(limit), [])

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.throttle.wait(client)
        if wait > 0:
            seconds = max(1, round(wait + 0.49))
            await _reply(
                send,
                429,
                f"Te veel mislukte inlogpogingen; probeer het over {seconds} s opnieuw.",
                [(b"retry-after", str(seconds).encode())],
            )
            return
        status = 0

        async def tracked(message: Message) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 0))
            await send(message)

        await self._bounded(scope, receive, tracked, self.body_max)
        if 200 <= status < 400:
            self.throttle.succeeded(client)
        else:
            self.throttle.failed(client)


def _too_large(limit: int) -> str:
    return f"Verzoek te groot: hoogstens {limit // MB} MB."

"""What stands between the network and Gradio: the client's address, Gradio's deep links, the
size of what a request may carry, and how many sessions Gradio keeps.

`RequestGuard` is an ASGI middleware the app gives Gradio's FastAPI app (launch_options); it runs
for every request before Gradio reads it:

- the client's address is the socket's. uvicorn, as Gradio starts it, trusts X-Forwarded-For from
  127.0.0.1 and rewrites the address, so a visitor behind any same-host proxy or tunnel could
  choose theirs; `serve_socket_address` turns that off once the server runs, and the quotas read
  the socket's address plus exactly SHOWCASE_TRUSTED_PROXY_HOPS entries (quota.client_ip). Gradio's
  MCP server calls the app back over loopback with the caller's headers; the guard adds the
  caller's socket address to those, signed, so the callback is counted as the caller, not as
  127.0.0.1, and nobody else can claim an address that way;
- Gradio's deep links are closed: `/gradio_api/deep_link` wrote every input of a session (a
  visitor's own key among them, before this app kept it out) to a served file, ~164 KB a call with
  no limit, and `?deep_link=` loaded such files back into the page. The app offers no link
  button, so neither route has a use;
- an upload (Gradio bounds each file with max_file_size, but takes 1,000 files a request) may
  carry at most `max_upload_bytes` in all, and is counted, at its declared length, against its
  address's share of the disk (quota.DiskShare, the app's `disk_share`), which it must fit;
- any other body may carry at most `max_body_bytes`, no string in it more than
  `max_string_chars` characters, and no value for a choice (a dropdown, radio or checkbox group
  of the event) more than `max_choice_chars`: Gradio echoes an invalid choice whole in its error
  and logs it, before any quota; what is refused here is refused in a few words, echoing nothing.
  (A text longer than the app accepts still reaches the app, which says so, echoing nothing.)
  A file input given by URL is refused too: Gradio would download it whole, with no size limit;
- sessions idle for `session_idle_s` are forgotten (Gradio keeps each one's copy of the page's
  config, about 250 KB, until its capacity, launch_options' state_session_capacity, is reached).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import LimitReachedError
from ..messages import Message, in_both, say
from ..quota import Visitor, client_ip

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEEP_LINK_ROUTE = "/gradio_api/deep_link"
UPLOAD_ROUTE = "/gradio_api/upload"
MCP_PREFIX = "/gradio_api/mcp"
# The MCP caller's socket address, carried into Gradio's loopback call back to the app.
RELAYED_PEER = b"x-showcase-relayed-peer"
SWEEP_EVERY_S = 60.0


class RequestGuard:
    """The ASGI middleware described in the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        max_string_chars: int,
        max_choice_chars: int,
        session_idle_s: float,
        trusted_proxy_hops: int = 0,
    ) -> None:
        self.app = app
        self.trusted_proxy_hops = trusted_proxy_hops
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_string_chars = max_string_chars
        self.max_choice_chars = max_choice_chars
        self.session_idle_s = session_idle_s
        self._secret = secrets.token_bytes(32)  # signs relayed addresses; never leaves the process
        self._swept = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self._settle_client(scope)
        self._sweep_idle_sessions(scope)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.rstrip("/") == DEEP_LINK_ROUTE:
            await _refuse(send, 404, say("guard_not_found"))
            return
        scope["query_string"] = _without_deep_link(scope.get("query_string", b""))
        if path.rstrip("/") == UPLOAD_ROUTE and _is_multipart(scope):
            # Gradio bounds each file (max_file_size) but not how many: 1,000 a request. The
            # length must be declared (browsers and gradio_client do): a chunked upload cut off
            # part-way would leave Gradio's partial file behind.
            length = _declared_length(scope)
            if length is None:
                await _refuse(send, 411, say("guard_upload_length"))
                return
            if length > self.max_upload_bytes:
                await _refuse(send, 413, say("guard_upload_too_large"))
                return
            refusal = self._disk_refusal(scope, length)
            if refusal is not None:
                await _refuse(send, 429, refusal.msg, retry_after_s=refusal.retry_after_s)
                return
        elif scope.get("method") in ("POST", "PUT", "PATCH"):
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:
                await _refuse(send, 413, say("guard_request_too_large"))
                return
            if not self._inputs_within(scope, body):
                await _refuse(send, 413, say("guard_input_too_long"))
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _disk_refusal(self, scope: Scope, length: int) -> LimitReachedError | None:
        """Count an upload against its address's disk share; the refusal when it does not fit."""
        get_blocks = getattr(scope.get("app"), "get_blocks", None)
        disk = getattr(get_blocks(), "disk_share", None) if get_blocks else None
        if disk is None:
            return None
        client = scope.get("client")
        forwarded = b",".join(v for k, v in scope.get("headers", []) if k == b"x-forwarded-for")
        ip = client_ip(
            client[0] if client else "", forwarded.decode("latin-1"), self.trusted_proxy_hops
        )
        try:
            disk.reserve(Visitor(ip=ip), length).settle(length)
        except LimitReachedError as refusal:
            return refusal
        return None

    def _inputs_within(self, scope: Scope, body: bytes) -> bool:
        """Whether every string of a body is within bounds (a body that is not JSON passes,
        for Gradio to refuse)."""
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            return True
        try:
            if not _strings_within(value, self.max_string_chars):
                return False
        except RecursionError:  # nested deeper than any input of the page
            return False
        data = value.get("data") if isinstance(value, dict) else None
        if not isinstance(data, list):
            return True
        if any(_names_a_remote_file(item) for item in data):
            return False  # Gradio would download it, with no size limit, into its cache
        choices = _choice_inputs(scope.get("app"), scope.get("path", ""), value)
        return all(
            _strings_within(data[i], self.max_choice_chars) for i in choices if i < len(data)
        )

    # --- the client's address ---------------------------------------------------------------------

    def _settle_client(self, scope: Scope) -> None:
        """Drop a forged relayed address; honour a signed one from loopback; relay an MCP
        caller's own address into Gradio's callback."""
        headers = [(k, v) for k, v in scope.get("headers", []) if k != RELAYED_PEER]
        relayed = next((v for k, v in scope.get("headers", []) if k == RELAYED_PEER), None)
        client = scope.get("client")
        host = client[0] if client else ""
        if relayed is not None and _is_loopback(host):
            peer = self._verified(relayed)
            if peer:
                scope["client"] = (peer, 0)
                host = peer
        if scope.get("path", "").startswith(MCP_PREFIX) and host:
            headers.append((RELAYED_PEER, self._signed(host)))
        scope["headers"] = headers

    def _signed(self, host: str) -> bytes:
        mac = hmac.new(self._secret, host.encode(), hashlib.sha256).hexdigest()
        return f"{host} {mac}".encode()

    def _verified(self, value: bytes) -> str:
        host, _, mac = value.decode("latin-1").partition(" ")
        expected = hmac.new(self._secret, host.encode("latin-1"), hashlib.sha256).hexdigest()
        return host if hmac.compare_digest(mac, expected) else ""

    # --- sessions ----------------------------------------------------------------------------------

    def _sweep_idle_sessions(self, scope: Scope) -> None:
        """Forget Gradio sessions idle for session_idle_s, at most once a minute (or once per
        idle period, if shorter)."""
        now = time.monotonic()
        if not self.session_idle_s or now - self._swept < min(SWEEP_EVERY_S, self.session_idle_s):
            return
        self._swept = now
        holder = getattr(scope.get("app"), "state_holder", None)
        if holder is not None:
            forget_idle_sessions(holder, self.session_idle_s)


def forget_idle_sessions(holder: Any, idle_s: float) -> int:
    """Remove from a gradio StateHolder the sessions unused for idle_s; how many went."""
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=idle_s)
    with holder.lock:
        idle = [s for s, used in list(holder.time_last_used.items()) if used < cutoff]
        for session in idle:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)
    return len(idle)


def serve_socket_address(server: Any) -> None:
    """Stop uvicorn rewriting the client's address from X-Forwarded-For (it trusts 127.0.0.1 by
    default): new connections reach the app with the socket's address. `server` is the running
    uvicorn server Gradio started (Blocks.server)."""
    config = getattr(server, "config", None)
    app = getattr(config, "loaded_app", None)
    while app is not None and type(app).__name__ == "ProxyHeadersMiddleware":
        app.trusted_hosts = _TrustNobody()  # connections already open keep this instance
        app = app.app
    if config is not None and app is not None:
        config.loaded_app = app
        config.proxy_headers = False


class _TrustNobody:
    """uvicorn's trusted-hosts check, answering no for every address."""

    def __contains__(self, host: object) -> bool:
        return False


# --- helpers ---------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.lower().startswith(b"multipart/")
    return False


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length a request declared (uvicorn holds the body to it), or None."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _without_deep_link(query: bytes) -> bytes:
    """The query string without any deep_link parameter."""
    if b"deep_link" not in query:
        return query
    kept = [p for p in query.split(b"&") if p.split(b"=", 1)[0].lower() != b"deep_link"]
    return b"&".join(kept)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes (the rest is never read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _strings_within(value: Any, limit: int) -> bool:
    """Whether every string in a JSON value (keys included) has at most `limit` characters."""
    if isinstance(value, str):
        return len(value) <= limit
    if isinstance(value, dict):
        return all(
            _strings_within(k, limit) and _strings_within(v, limit) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_strings_within(item, limit) for item in value)
    return True


def _names_a_remote_file(value: Any) -> bool:
    """Whether an input is a file given by URL ({"path": "https://..."}): the page only sends
    files it uploaded, which are bounded as they stream in."""
    if isinstance(value, list):
        return any(_names_a_remote_file(item) for item in value)
    path = value.get("path") if isinstance(value, dict) else None
    return isinstance(path, str) and path.lower().lstrip().startswith(("http://", "https://"))


_API_ROUTE = re.compile(r"/gradio_api/(?:run|api|call(?:/v2)?)/([^/]+)/?$")


def _choice_inputs(app: Any, path: str, body: dict) -> list[int]:
    """The positions of the event's inputs that are choices (they have `choices`)."""
    get_blocks = getattr(app, "get_blocks", None)
    blocks = get_blocks() if get_blocks else None
    if blocks is None:
        return []
    fn = blocks.fns.get(body["fn_index"]) if isinstance(body.get("fn_index"), int) else None
    named = _API_ROUTE.search(path)
    if fn is None and named:
        fn = next((f for f in blocks.fns.values() if f.api_name == named.group(1)), None)
    inputs = getattr(fn, "inputs", None) or []
    return [i for i, block in enumerate(inputs) if hasattr(block, "choices")]


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then what the client sends next."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(send: Send, status: int, message: Message, retry_after_s: float = 0) -> None:
    """A refusal in the catalogue's words, both languages, echoing nothing of the request."""
    body = json.dumps({"error": in_both(message)}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if retry_after_s:
        headers.append((b"retry-after", b"%d" % max(1, round(retry_after_s))))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

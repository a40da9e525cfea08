"""Request guards (pure ASGI, cheap): bearer token, request size, slow-request log.

* With ``service.auth_token`` set, every endpoint but the probes (``/alive``, ``/ready``,
  ``/health``) needs ``Authorization: Bearer <token>``. The service refuses to start on a
  non-loopback address without a token (see ``reload.service_problems``).
* A body larger than ``service.max_request_bytes`` is refused with 413, whether it announces its
  length or streams it.
Both settings are read per request, so a reload applies to the next request.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from lapce_ai.service.state import ServiceState

log = logging.getLogger("lapce_ai.service")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/alive", "/ready", "/health"})
SLOW_REQUEST_SECONDS = 1.0
_FORM = "application/x-www-form-urlencoded"


def token_matches(header: str | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode("utf-8", "replace"), token.encode("utf-8"))


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class GuardMiddleware:
    def __init__(self, app: ASGIApp, state: ServiceState):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = self.state.settings.service
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        token = (service.auth_token or "").strip()
        if token and scope.get("path") not in OPEN_PATHS and not token_matches(headers.get("authorization"), token):
            await send_json(
                send, 401, {"detail": "missing or invalid bearer token"}, [(b"www-authenticate", b"Bearer")]
            )
            return
        if scope.get("method") == "POST" and headers.get("content-type", "").startswith(_FORM):
            # `curl -d '{...}'` sends JSON labelled as a form: read it as the JSON it is.
            scope = dict(scope)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
            scope["headers"].append((b"content-type", b"application/json"))
        limit = service.max_request_bytes
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await send_json(send, 400, {"detail": "invalid Content-Length"})
                return
            if int(declared) > limit:
                await send_json(send, 413, {"detail": f"request body larger than {limit} bytes"})
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message.get("type") == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"request body larger than {limit} bytes")
            return message

        started = time.perf_counter()
        await self.app(scope, limited_receive, send)
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_REQUEST_SECONDS:
            log.warning(
                "slow request: %s %s took %.0f ms",
                scope.get("method"),
                scope.get("path"),
                elapsed * 1000,
                extra={"latency_ms": round(elapsed * 1000, 1), "path": scope.get("path")},
            )

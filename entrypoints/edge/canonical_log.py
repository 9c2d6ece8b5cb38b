"""One JSON line per API request: the canonical log line operators search (docs/adr/0024).

It says what happened in the fields an operator filters on: the route template, the
status, the duration, the merchant, the operator (name and role) on the admin API, the
payment and refund numbers when the request named or made one, the error code, and the
outcome of a payment or refund it made (a decline answers `201`, but it is a decline).
The JSON handler adds the trace and span ids: the line is written inside the request's
server span.

Level: ERROR for a 5xx; WARNING for 401 and 403, and for every refusal of the admin API
(someone guessing the admin token shows up); INFO otherwise. `PAYGATE_ACCESS_LOG` keeps
every line (`on`, the default), only the problems (`off`), or a sample of the rest
(`sample:0.1`); a problem (any 4xx or 5xx, a declined, rejected or failed payment or
refund) is always written. Probes are never written, a scrape of /metrics only when it
is refused.

Every field is paygate's own or checked to look like one (a payment number in a path is
written only if it looks like `pay_...`), so no merchant-typed text reaches the line.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import msgspec

from observability.asgi_types import ASGIApp, Message, Receive, Scope, Send
from observability.logging import write_line

log = logging.getLogger("paygate.access")

PROBES = frozenset({"/health/live", "/health/ready"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
QUIET_UNLESS_REFUSED = frozenset({"/metrics"})
PROBLEM_OUTCOMES = frozenset({"failed", "rejected", "canceled", "requires_review"})
_ID = re.compile(r"(?:pay|ref)_[A-Za-z0-9]{1,60}")
_CODE = re.compile(r"[a-z_]{1,64}")
_BODY_KEPT = 16 * 1024  # a payment or an error body is far smaller


class _Error(msgspec.Struct):
    code: str | None = None


class _Seen(msgspec.Struct):
    """What a response body says, when it says it (unknown fields are skipped)."""

    payment_no: str | None = None
    refund_no: str | None = None
    status: str | None = None
    failure_code: str | None = None
    error: _Error | None = None


_decode = msgspec.json.Decoder(_Seen).decode


@dataclass(frozen=True, slots=True)
class AccessLogPolicy:
    """How many lines without a problem to keep: 1.0 all, 0.0 none, else that share."""

    rate: float = 1.0

    @classmethod
    def parse(cls, text: str) -> AccessLogPolicy:
        value = text.strip().lower()
        if value in ("on", "1", "true", "yes"):
            return cls(1.0)
        if value in ("off", "0", "false", "no"):
            return cls(0.0)
        if value.startswith("sample:"):
            try:
                rate = float(value.removeprefix("sample:"))
            except ValueError:
                rate = -1.0
            if 0.0 <= rate <= 1.0:
                return cls(rate)
        raise ValueError(f"expected on, off or sample:RATE (0 to 1), got {text!r}")

    def keeps(self, problem: bool) -> bool:
        return problem or self.rate >= 1.0 or (self.rate > 0.0 and random.random() < self.rate)


def canonical_log(app: ASGIApp, policy: AccessLogPolicy) -> ASGIApp:
    """ASGI middleware writing one line per HTTP request once it is answered."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await app(scope, receive, send)
            return
        started, status, body = perf_counter(), 0, b""

        async def watch(message: Message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not body:
                body = message.get("body", b"")[:_BODY_KEPT]
            await send(message)

        try:
            await app(scope, receive, watch)
        finally:  # not answered: the observability middleware outside answers 500
            _write(scope, status or 500, perf_counter() - started, body, policy)

    return middleware


def _write(scope: Scope, status: int, seconds: float, body: bytes, policy: AccessLogPolicy) -> None:
    if scope["path"] in QUIET_UNLESS_REFUSED and status < 400:
        return
    route = scope.get("path_template") or "unmatched"
    level = _level(route, status)
    if not log.isEnabledFor(level):
        return
    seen = _seen(scope, status, body)
    outcome = seen.status if seen.status and _CODE.fullmatch(seen.status) else None
    if not policy.keeps(status >= 400 or outcome in PROBLEM_OUTCOMES):
        return
    method = scope["method"] if scope["method"] in METHODS else "other"
    params = scope.get("path_params") or {}
    state = scope.get("state") or {}
    fields: dict[str, Any] = {  # every value is paygate's own or checked to look like one
        "http_method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "merchant_id": state.get("merchant_id"),
        "operator": state.get("operator"),  # the admin API's operator, its name and role
        "operator_role": state.get("operator_role"),
        "payment_no": _our_id(seen.payment_no or params.get("payment_no")),
        "refund_no": _our_id(seen.refund_no or params.get("refund_no")),
        "error_code": _our_code(seen.error.code if seen.error else None),
        "outcome": outcome,
        "failure_code": _our_code(seen.failure_code),
        "client_ip": (scope.get("client") or (None,))[0],
    }
    write_line(log, level, f"{method} {route} {status}", fields)


def _seen(scope: Scope, status: int, body: bytes) -> _Seen:
    """Read the body of an error, or of a POST's answer (the object it made or moved)."""
    if not body or (status < 400 and scope["method"] != "POST") or body[:1] != b"{":
        return _Seen()
    try:
        return _decode(body)
    except msgspec.DecodeError:  # cut short, or not JSON: nothing to tell
        return _Seen()


def _level(route: str, status: int) -> int:
    if status >= 500:
        return logging.ERROR
    if status in (401, 403) or (status >= 400 and route.startswith("/admin/")):
        return logging.WARNING
    return logging.INFO


def _our_id(value: object) -> str | None:
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _our_code(value: object) -> str | None:
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None

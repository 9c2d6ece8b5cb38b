"""Merchant HMAC authentication, bearer tokens, and the per-merchant rate limit.

The signed string is `{timestamp}\\n{METHOD}\\n{path_with_query}\\n{raw_body}`; a timestamp
more than 300 s away from the server clock is refused, so a captured request cannot be
replayed later, and within those 300 s a request that changes something is accepted once
(`ReplayGuard`, docs/adr/0023). Secrets are opened from the vault once and cached briefly
in memory.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from entrypoints.edge.replay import ReplayGuard
from entrypoints.http.errors import ApiError
from entrypoints.http.signature import signature

TOLERANCE_SECONDS = 300
CACHE_SECONDS = 60.0
NEGATIVE_CACHE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class MerchantCredentials:
    merchant_id: str
    secret: bytes
    active: bool = True


CredentialLookup = Callable[[str], Awaitable[MerchantCredentials | None]]


def request_target(scope: Any) -> str:
    """The path with its query exactly as sent."""
    raw = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    target = raw.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


class TokenBucket:
    """Per-key rate limit within one process: `rate` per second, up to `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> float:
        """0 when allowed; else the seconds to wait.

        `now` is read before the request awaits its credentials, so a concurrent request
        may arrive with an earlier reading than the last one taken: it refills nothing
        and moves nothing back (a negative refill would drain the bucket by the lag)."""
        tokens, last = self._state.get(key, (float(self.burst), now))
        if now > last:
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            last = now
        if tokens >= 1.0:
            self._state[key] = (tokens - 1.0, last)
            return 0.0
        self._state[key] = (tokens, last)
        return (1.0 - tokens) / self.rate


class MerchantAuthenticator:
    def __init__(
        self,
        lookup: CredentialLookup,
        limiter: TokenBucket | None,
        clock: Callable[[], float] = time.time,
        replays: ReplayGuard | None = None,
    ) -> None:
        self._lookup, self._limiter, self._clock = lookup, limiter, clock
        self._replays = replays
        self._cache: dict[str, tuple[float, MerchantCredentials | None]] = {}

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        """Run before the merchant API's handlers: on success `request.state.merchant_id`
        names the caller; otherwise an `ApiError` answers 401, 403 or 429."""
        headers = request.headers
        api_key, stamp, given = (
            headers.get("x-api-key"),
            headers.get("x-timestamp"),
            headers.get("x-signature"),
        )
        if not (api_key and stamp and given):
            raise ApiError("unauthenticated", "X-API-Key, X-Timestamp and X-Signature are required")
        now = self._clock()
        if (
            not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12)
            or abs(now - int(stamp)) > TOLERANCE_SECONDS
        ):
            raise ApiError("unauthenticated", "X-Timestamp is missing or more than 300 s off")
        credentials = await self._credentials(api_key, now)
        if credentials is None:
            raise ApiError("unauthenticated", "unknown API key or wrong signature")
        body = await request.body()
        expected = signature(
            credentials.secret, stamp, request.method, request_target(request.scope), body
        )
        if not hmac.compare_digest(expected.encode(), given.lower().encode()):
            raise ApiError("unauthenticated", "unknown API key or wrong signature")
        # the signature proves who sent it: a refusal below (disabled, rate limited, a
        # replay) is logged with the merchant it concerns
        request.state.merchant_id = credentials.merchant_id
        if not credentials.active:
            raise ApiError("forbidden", "this merchant is disabled")
        if self._limiter is not None and (wait := self._limiter.take(credentials.merchant_id, now)):
            raise ApiError(
                "rate_limited",
                "too many requests; slow down",
                {"Retry-After": str(max(1, round(wait)))},
            )
        if self._replays is not None:
            await self._replays.spend(request.scope, credentials.merchant_id, given.lower(),
                                      int(stamp), headers.get("idempotency-key"))

    async def _credentials(self, api_key: str, now: float) -> MerchantCredentials | None:
        cached = self._cache.get(api_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        credentials = await self._lookup(api_key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        ttl = CACHE_SECONDS if credentials is not None else NEGATIVE_CACHE_SECONDS
        self._cache[api_key] = (now + ttl, credentials)
        return credentials


class BearerGuard:
    """A route that answers only `Authorization: Bearer <token>` (constant-time compare):
    `/metrics` with PAYGATE_METRICS_TOKEN, so a merchant cannot read volumes and amounts."""

    def __init__(self, token: str, what: str) -> None:
        self._expected, self._what = f"Bearer {token}".encode(), what

    async def __call__(
        self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
    ) -> None:
        given = connection.headers.get("authorization", "").strip().encode()
        if not hmac.compare_digest(given, self._expected):
            raise ApiError("unauthenticated", f"a valid {self._what} bearer token is required")

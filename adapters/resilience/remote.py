"""One remote dependency over HTTP: timeout, breaker, trace context, and safe retries.

Every call has a per-attempt timeout and passes through the dependency's circuit breaker.
Only calls the caller declares idempotent are retried (with exponential backoff and
jitter, by stamina), because a retry of anything else could do the same thing twice. A
POST that carries an idempotency key is idempotent; so is a GET.

Failures surface as `DependencyError` with `sent` telling whether the request may have
reached the dependency: connection refused or a connect timeout means it did not; a read
timeout, a dropped connection or a 5xx answer means it may have. A 401 or 403 means the
dependency refused paygate's credentials before acting (`CredentialsRefused`): not sent,
not retried, and a failure for the breaker. Other 4xx answers are returned as answers.

Every client of a split-out service posts JSON the same way (`post_json`), and the ones
whose caller needs an answer or nothing (risk, order, a channel's tokens) read it the same
way too (`exchange`): no usable answer, whatever the reason, is `Unavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import msgspec
import stamina
from opentelemetry.propagate import inject

from adapters.resilience.breakers import Breakers
from adapters.resilience.errors import CircuitOpen, CredentialsRefused, DependencyError
from application.errors import Unavailable
from domain.errors import DomainError

T = TypeVar("T")

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_CREDENTIALS_REFUSED = frozenset({401, 403})
_JSON = {"Content-Type": "application/json"}
_OK = frozenset({200})
_UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError, DomainError)
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Policy:
    """How long to wait and how hard to try. `deadline` bounds all attempts together."""

    timeout: float = 5.0
    attempts: int = 3
    deadline: float = 15.0
    wait_initial: float = 0.1
    wait_max: float = 2.0
    wait_jitter: float = 0.5


DEFAULT_POLICY = Policy()


def _retryable(exc: BaseException) -> bool:
    """A fast failure from an open breaker, or refused credentials, would fail again. Typed
    for any exception, as stamina 26.2 types its `on` predicate."""
    return isinstance(exc, DependencyError) and not isinstance(
        exc, (CircuitOpen, CredentialsRefused))


class RemoteService:
    """An `httpx.AsyncClient` for one named dependency, guarded by its breaker."""

    def __init__(
        self,
        name: str,
        client: httpx.AsyncClient,
        breakers: Breakers,
        policy: Policy = DEFAULT_POLICY,
    ) -> None:
        self.name = name
        self._client = client
        self._breakers = breakers
        self._policy = policy
        breakers.register(name)

    @classmethod
    def open(
        cls,
        name: str,
        base_url: str,
        breakers: Breakers,
        policy: Policy = DEFAULT_POLICY,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> RemoteService:
        """Build the client too; `transport` lets tests answer without a network."""
        client = httpx.AsyncClient(
            base_url=base_url, headers=dict(headers or {}), transport=transport
        )
        return cls(name, client, breakers, policy)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> httpx.Response:
        """Send, retrying only when `idempotent`; 4xx answers are returned, not raised."""
        policy = self._policy
        attempts = stamina.retry_context(
            on=_retryable,
            attempts=policy.attempts if idempotent else 1,
            timeout=policy.deadline,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        )
        response: httpx.Response | None = None
        maybe_sent = False
        try:
            async for attempt in attempts:
                with attempt:
                    try:
                        response = await self._once(method, path, **kwargs)
                    except DependencyError as exc:
                        maybe_sent = maybe_sent or exc.sent
                        raise
        except DependencyError as exc:
            raise self._sticky(exc, maybe_sent) from exc.__cause__
        assert response is not None  # stamina either ran the block to success or raised
        return response

    async def post_json(self, path: str, body: bytes, key: str | None = None) -> httpx.Response:
        """POST a JSON body; retried, so it must be idempotent: by nature (an assessment, an
        order created twice) or by its `Idempotency-Key`, which the dependency answers with
        its first result. Raises `DependencyError` when no answer came."""
        headers = {**_JSON, "Idempotency-Key": key} if key else _JSON
        return await self.request("POST", path, idempotent=True, content=body, headers=headers)

    async def exchange(
        self,
        path: str,
        body: bytes,
        decode: Callable[[bytes], T],
        *,
        ok: Collection[int] = _OK,
        key: str | None = None,
    ) -> T:
        """`post_json` and the answer decoded; anything short of that (no answer, a status
        not in `ok`, a body `decode` cannot read) is `Unavailable`: the caller's work
        stops before it writes anything."""
        try:
            response = await self.post_json(path, body, key)
        except DependencyError as exc:
            raise Unavailable(str(exc)) from exc
        if response.status_code not in ok:
            raise Unavailable(f"{self.name} answered {response.status_code}")
        try:
            return decode(response.content)
        except _UNREADABLE as exc:
            raise Unavailable(f"{self.name} answered nonsense: {exc}") from exc

    def _sticky(self, last: DependencyError, maybe_sent: bool) -> DependencyError:
        """Once any attempt may have arrived, the call as a whole may have: a refused retry
        after a timed-out charge must not turn "maybe charged" into "not sent"."""
        if last.sent or not maybe_sent:
            return last
        return DependencyError(
            self.name,
            f"{last}, after an attempt that may have arrived",
            sent=True,
            status=last.status,
        )

    async def _once(
        self, method: str, path: str, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        outgoing = dict(headers or {})
        inject(outgoing)
        async with self._breakers.guard(self.name):
            try:
                response = await self._client.request(
                    method, path, headers=outgoing, timeout=self._policy.timeout, **kwargs
                )
            except _NOT_SENT as exc:
                raise DependencyError(self.name, type(exc).__name__, sent=False) from exc
            except httpx.TransportError as exc:
                raise DependencyError(self.name, type(exc).__name__, sent=True) from exc
            if response.status_code in _CREDENTIALS_REFUSED:
                _log.error("%s refused paygate's credentials (%d): check the service token "
                           "or API key configured for it", self.name, response.status_code)
                raise CredentialsRefused(self.name, response.status_code)
            if response.status_code in _RETRYABLE_STATUS:
                raise DependencyError(
                    self.name,
                    f"answered {response.status_code}",
                    sent=response.status_code != 429,
                    status=response.status_code,
                )
        return response

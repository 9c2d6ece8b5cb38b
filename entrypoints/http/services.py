"""What the HTTP API needs, resolved once from the container: the use cases (typed, from
the composition root) and what only the HTTP edge uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from application.ports.channel import Channels
from application.ports.platform import Clock, SecretVault
from entrypoints.composition import Services
from entrypoints.edge.replay import ReplayGuard
from entrypoints.http.auth import CredentialLookup, TokenBucket
from entrypoints.http.errors import TraceIdSource
from entrypoints.readiness import ReadinessCheck


def no_trace_id() -> str | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiServices:
    use_cases: Services
    channels: Channels  # the adapters themselves, to read their notifications
    clock: Clock
    credentials: CredentialLookup
    admin_token: str | None = None
    vault: SecretVault | None = None  # seals replays that hold secrets (merchant creation)
    body_limit: int = 64 * 1024
    rate_limiter: TokenBucket | None = None
    replays: ReplayGuard | None = None  # signed requests that change something: once each
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    trace_id: TraceIdSource = no_trace_id
    metrics_route: Any = None  # a Litestar handler serving /metrics, when metrics are on
    metrics_token: str | None = None  # when set, /metrics answers only that bearer token
    on_startup: list[Callable[[], Any]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Any]] = field(default_factory=list)

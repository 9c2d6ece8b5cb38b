"""What the HTTP API needs, resolved once from the container."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from application.idempotency import Idempotency
from application.ports.channel import Channels
from application.ports.platform import Clock, SecretVault
from entrypoints.http.auth import CredentialLookup, TokenBucket
from entrypoints.http.errors import TraceIdSource
from entrypoints.readiness import ReadinessCheck

UseCase = Callable[..., Awaitable[Any]]


def no_trace_id() -> str | None:
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventApi:
    """The event feed's and webhook endpoints' use cases (entrypoints/http/events_api.py)."""

    list_events: UseCase
    get_event: UseCase
    list_deliveries: UseCase
    redeliver: UseCase
    create_endpoint: UseCase
    list_endpoints: UseCase
    get_endpoint: UseCase
    delete_endpoint: UseCase
    rotate_secret: UseCase


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiServices:
    create_payment: UseCase
    get_payment: UseCase
    list_payments: UseCase
    review_payment: UseCase
    capture_payment: UseCase
    cancel_payment: UseCase
    create_refund: UseCase
    get_refund: UseCase
    list_refunds: UseCase
    process_settlement: UseCase
    list_settlements: UseCase
    create_merchant: UseCase
    handle_notification: UseCase
    idempotency: Idempotency
    channels: Channels
    clock: Clock
    credentials: CredentialLookup
    admin_token: str | None = None
    vault: SecretVault | None = None  # seals replays that hold secrets (merchant creation)
    body_limit: int = 64 * 1024
    rate_limiter: TokenBucket | None = None
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    trace_id: TraceIdSource = no_trace_id
    metrics_route: Any = None  # a Litestar handler serving /metrics, when metrics are on
    on_startup: list[Callable[[], Any]] = field(default_factory=list)
    on_shutdown: list[Callable[[], Any]] = field(default_factory=list)
    events: EventApi | None = None  # the event feed and webhook endpoints

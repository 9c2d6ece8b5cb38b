"""Assemble the HTTP app from the container: services, readiness checks, lifecycle."""

from __future__ import annotations

from typing import Any

from adapters.platform.vault import UnknownSealingKey
from application.errors import Unavailable
from application.ports.platform import SecretVault
from application.ports.storage import UnitOfWorkFactory
from entrypoints.container import Container, close_container, services_of
from entrypoints.edge.canonical_log import AccessLogPolicy, canonical_log
from entrypoints.edge.replay import release_on_unavailable
from entrypoints.edge.slow_clients import body_deadline
from entrypoints.http.app import create_app
from entrypoints.http.auth import CredentialLookup, MerchantCredentials, TokenBucket
from entrypoints.http.services import ApiServices
from entrypoints.master_key import master_key_check
from entrypoints.readiness import ReadinessCheck, database_check

REMOTE_DEPENDENCIES = (
    ("risk_url", "risk"),
    ("order_url", "order"),
    ("channel_url", "channel:sandbox"),
)


def credential_lookup(uow: UnitOfWorkFactory, vault: SecretVault) -> CredentialLookup:
    async def lookup(api_key: str) -> MerchantCredentials | None:
        async with uow(read_only=True) as unit:
            merchant = await unit.merchants.get_by_api_key(api_key)
        if merchant is None:
            return None
        try:
            secret = vault.open(merchant.api_secret_sealed)
        except UnknownSealingKey as error:  # this process lacks the database's key
            raise Unavailable("this process cannot open the merchant's secret: its master "
                              "key is not the database's (see /health/ready)") from error
        return MerchantCredentials(merchant.merchant_id, secret.encode(), merchant.active)

    return lookup


def readiness_checks(container: Container) -> dict[str, ReadinessCheck]:
    engine, settings, breakers = (
        container.core.engine(),
        container.settings(),
        container.core.breakers(),
    )

    def breaker(name: str) -> ReadinessCheck:
        async def check() -> tuple[bool, str]:
            state = breakers.state(name)
            return state != "open", f"circuit {state}"

        return check

    checks = {
        "database": database_check(engine),
        "master_key": master_key_check(engine, container.core.vault()),
    }
    for setting, name in REMOTE_DEPENDENCIES:
        if getattr(settings, setting):
            checks[name] = breaker(name)
    return checks


def api_services(container: Container, **extra: Any) -> ApiServices:
    settings, core = container.settings(), container.core
    limiter = (
        TokenBucket(settings.rate_limit_per_second, settings.rate_limit_burst)
        if settings.rate_limit_per_second > 0
        else None
    )
    return ApiServices(
        use_cases=services_of(container),
        channels=container.gateways.channels(),
        clock=core.clock(),
        credentials=credential_lookup(core.uow(), core.vault()),
        admin_token=settings.admin_token,
        vault=core.vault(),
        body_limit=settings.body_limit,
        rate_limiter=limiter,
        replays=core.replays(),
        readiness=readiness_checks(container),
        **extra,
    )


def build_http_app(container: Container, *, owns_process: bool = False) -> Any:
    """The ASGI application to serve: the Litestar app inside the observability middleware.

    `owns_process`: this app is the whole server process, so on shutdown it also flushes
    the process-wide span exporter and releases its metric files.
    """
    settings, telemetry = container.settings(), container.core.telemetry()
    startup: list[Any] = []
    shutdown: list[Any] = []
    if settings.worker:
        background = container.background()
        startup.append(background.start)
        shutdown.append(background.stop)

    async def close() -> None:
        await close_container(container)

    shutdown.append(close)
    if owns_process:
        shutdown.append(telemetry.shutdown)
    app = create_app(
        api_services(
            container,
            on_startup=startup,
            on_shutdown=shutdown,
            trace_id=telemetry.trace_id,
            metrics_route=telemetry.metrics_route(container.use_cases.measure_outbox_lag()),
            metrics_token=settings.metrics_token,
        )
    )
    replays = container.core.replays()
    policy = AccessLogPolicy.parse(settings.access_log)
    return telemetry.serve(
        app,
        lambda inner: release_on_unavailable(inner, replays),
        lambda inner: body_deadline(inner, settings.body_timeout, settings.body_limit),
        lambda inner: canonical_log(inner, policy),
    )

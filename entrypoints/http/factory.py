"""Assemble the HTTP app from the container: services, readiness checks, lifecycle."""

from __future__ import annotations

from typing import Any

from application.ports.platform import SecretVault
from application.ports.storage import UnitOfWorkFactory
from entrypoints.container import Container, close_container, services_of
from entrypoints.http.app import create_app
from entrypoints.http.auth import CredentialLookup, MerchantCredentials, TokenBucket
from entrypoints.http.services import ApiServices
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
        return MerchantCredentials(
            merchant.merchant_id, vault.open(merchant.api_secret_sealed).encode(), merchant.active
        )

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

    checks = {"database": database_check(engine)}
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
        )
    )
    return telemetry.serve(app)

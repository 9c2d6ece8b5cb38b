"""The adapters per settings, in one container split by role, feeding the composition root.

    Core      settings, clock, ids, vault, engine, unit of work, idempotency store,
              used signatures
    Gateways  risk, orders, channels, webhook sender (in process or remote, per settings)
    UseCases  `composition.compose` over those ports, observed when observability is on

Entrypoints read the use cases typed, with `services_of(container)` (a `Services`); how
to add one is in `entrypoints/composition.py`. dependency-injector stays in this module.
Tests swap an adapter with `container.gateways.channels.override(providers.Object(fake))`
before the use cases are first resolved.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers

from adapters.persistence.engine import create_engine
from adapters.persistence.idempotency import SqlIdempotencyStore
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.signatures import SqlUsedSignatures
from adapters.persistence.uow import SqlUnitOfWorkFactory
from adapters.platform.clock import SystemClock
from adapters.platform.ids import RandomIds
from adapters.resilience.breakers import Breakers
from domain.operator import BOOTSTRAP_ACTOR
from entrypoints.background import BackgroundWorker
from entrypoints.composition import Observer, Ports, Services, compose
from entrypoints.edge.replay import ReplayGuard
from entrypoints.http.auth import TOLERANCE_SECONDS
from entrypoints.settings import Settings
from entrypoints.telemetry import Telemetry
from entrypoints.wiring import (
    default_route,
    make_channels,
    make_orders,
    make_risk,
    make_vault,
    make_webhook_sender,
)

log = logging.getLogger(__name__)


def tracked(resources: list[Any], value: Any) -> Any:
    """Remember what was created, so `close_container` closes exactly that."""
    resources.append(value)
    return value


class Core(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    resources: providers.Singleton[list[Any]] = providers.Singleton(list)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    vault = providers.Singleton(make_vault, settings)
    engine = providers.Singleton(
        tracked,
        resources,
        providers.Factory(
            create_engine,
            settings.provided.database_url,
            pool_size=settings.provided.database_pool_size,
            statement_timeout=settings.provided.database_statement_timeout,
            pooler=settings.provided.database_pooler,
        ),
    )
    uow = providers.Singleton(SqlUnitOfWorkFactory, engine)
    idempotency_store = providers.Singleton(SqlIdempotencyStore, engine)
    used_signatures = providers.Singleton(SqlUsedSignatures, engine, uow)
    replays = providers.Singleton(ReplayGuard, used_signatures, clock, TOLERANCE_SECONDS)
    breakers = providers.Singleton(
        Breakers,
        failure_threshold=settings.provided.breaker_failure_threshold,
        recovery_timeout=settings.provided.breaker_recovery_seconds,
    )
    telemetry = providers.Singleton(Telemetry.for_process, settings, settings.provided.service_name)


class Gateways(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    risk = providers.Singleton(
        tracked, core.resources, providers.Factory(make_risk, core.settings, core.breakers)
    )
    orders = providers.Singleton(
        tracked,
        core.resources,
        providers.Factory(make_orders, core.settings, core.engine, core.breakers),
    )
    channels = providers.Singleton(
        make_channels, core.settings, core.breakers, core.resources, core.uow
    )
    webhook_sender = providers.Singleton(
        tracked, core.resources, providers.Factory(make_webhook_sender, core.settings)
    )


def observer(telemetry: Telemetry) -> Observer:
    """The process's telemetry observes the use cases (mypy checks that it can)."""
    return telemetry


def _days(days: int) -> timedelta:
    return timedelta(days=days)


class UseCases(containers.DeclarativeContainer):
    """The use cases, built by `composition.compose` from these ports; every `Services`
    field is also a provider here (`container.use_cases.reconcile()`), added below."""

    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    ports = providers.Singleton(
        Ports,
        uow=core.uow,
        clock=core.clock,
        ids=core.ids,
        vault=core.vault,
        risk=gateways.risk,
        orders=gateways.orders,
        channels=gateways.channels,
        webhook_sender=gateways.webhook_sender,
        destinations=gateways.webhook_sender,  # the sender checks destinations as it sends
        idempotency_store=core.idempotency_store,
        trace_id=core.telemetry.provided.trace_id,
        default_route=providers.Factory(default_route, core.settings, gateways.channels),
    )
    services = providers.Singleton(
        compose,
        ports,
        providers.Factory(observer, core.telemetry),
        event_retention=providers.Factory(_days, core.settings.provided.event_retention_days),
    )


for _name in Services.names():
    setattr(UseCases, _name, getattr(UseCases.services.provided, _name))


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, core=core)
    use_cases = providers.Container(UseCases, core=core, gateways=gateways)
    background = providers.Singleton(
        BackgroundWorker,
        use_cases.services.provided.deliver_webhooks,
        use_cases.services.provided.reconcile,
        use_cases.services.provided.idempotency.purge_expired,
        use_cases.services.provided.expire_authorizations,
        publish_events=use_cases.services.provided.publish_events,
        prune_events=use_cases.services.provided.prune_events,
        purge_signatures=core.replays.provided.purge_expired,
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


def services_of(container: Container) -> Services:
    """The container's use cases, typed (resolved once, on first use)."""
    services: Services = container.use_cases.services()
    return services


async def close_container(container: Container) -> None:
    """Close what this container created, newest first: clients, then the engine."""
    resources = container.core.resources()
    while resources:
        resource = resources.pop()
        closer = getattr(resource, "aclose", None) or getattr(resource, "dispose", None)
        if closer is None:
            continue
        try:
            await closer()
        except Exception:  # best effort at shutdown; the rest must still close
            log.exception("closing %r failed", resource)


def upgrade(settings: Settings) -> None:
    upgrade_database(settings.database_url, pooler=settings.database_pooler)


async def ensure_demo_merchant(settings: Settings) -> dict[str, str] | None:
    """Create a demo merchant when the database has none; its secrets are returned once."""
    from application.commands import CreateMerchantCommand

    container = build_container(settings)
    try:
        services = services_of(container)
        if await services.list_merchant_ids():
            return None
        new = await services.create_merchant(
            CreateMerchantCommand(name="demo", actor=BOOTSTRAP_ACTOR))
        return {
            "merchant_id": new.merchant.merchant_id,
            "api_key": new.merchant.api_key,
            "api_secret": new.api_secret,
            "webhook_secret": new.webhook_secret,
        }
    finally:
        await close_container(container)


__all__ = [
    "Container",
    "asyncio",
    "build_container",
    "close_container",
    "ensure_demo_merchant",
    "services_of",
    "upgrade",
]

"""The composition root: one container, split by role, that every entrypoint resolves from.

    Core      settings, clock, ids, vault, engine, unit of work, idempotency store
    Gateways  risk, orders, channels, webhook sender (in process or remote, per settings)
    UseCases  the application's use cases, wrapped by observability when it is on

Tests swap an adapter with `container.gateways.channels.override(providers.Object(fake))`.
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
from adapters.persistence.uow import SqlUnitOfWorkFactory
from adapters.platform.clock import SystemClock
from adapters.platform.ids import RandomIds
from adapters.resilience.breakers import Breakers
from application import charging, holding, refunding
from application.idempotency import Idempotency
from application.use_cases import (
    cancel_payment,
    capture_payment,
    create_merchant,
    create_payment,
    create_refund,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    deliver_webhooks,
    expire_authorizations,
    get_event,
    get_payment,
    get_refund,
    get_webhook_endpoints,
    handle_notification,
    list_event_deliveries,
    list_events,
    list_payments,
    list_refunds,
    list_settlements,
    measure_outbox_lag,
    process_settlement,
    prune_events,
    publish_events,
    reconcile,
    redeliver_event,
    retry_webhook,
    review_payment,
    rotate_webhook_secret,
)
from application.use_cases.list_merchants import ListMerchantIds
from application.use_cases.list_webhooks import ListWebhooks
from application.use_cases.set_merchant_active import SetMerchantActive
from entrypoints.background import BackgroundWorker
from entrypoints.settings import Settings
from entrypoints.telemetry import Telemetry
from entrypoints.wiring import (
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
    resources = providers.Singleton(list)
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
        ),
    )
    uow = providers.Singleton(SqlUnitOfWorkFactory, engine)
    idempotency_store = providers.Singleton(SqlIdempotencyStore, engine)
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
    channels = providers.Singleton(make_channels, core.settings, core.breakers, core.resources)
    webhook_sender = providers.Singleton(
        tracked, core.resources, providers.Factory(make_webhook_sender, core.settings)
    )


def _observed(telemetry: Telemetry, kind: str, inner: Any) -> Any:
    return getattr(telemetry, kind)(inner)


def _days(days: int) -> timedelta:
    return timedelta(days=days)


def _observed_payments(telemetry: Telemetry, inner: Any, channels: Any) -> Any:
    return telemetry.create_payment(inner, list(channels))


class UseCases(containers.DeclarativeContainer):
    """The use cases over observed ports; metrics and tracing wrap the busiest ones."""

    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    risk = providers.Singleton(_observed, core.telemetry, "risk", gateways.risk)
    orders = providers.Singleton(_observed, core.telemetry, "orders", gateways.orders)
    channels = providers.Singleton(_observed, core.telemetry, "channels", gateways.channels)
    webhook_sender = providers.Singleton(
        _observed, core.telemetry, "webhook_sender", gateways.webhook_sender
    )

    charges = providers.Singleton(charging.ChargeRecorder, core.uow, core.clock, core.ids, orders)
    refund_outcomes = providers.Singleton(refunding.RefundRecorder, core.uow, core.clock, core.ids)
    moves = providers.Singleton(holding.MoveRecorder, core.uow, core.clock, core.ids, orders)
    idempotency = providers.Singleton(Idempotency, core.idempotency_store, core.clock)

    create_payment = providers.Singleton(
        _observed_payments,
        core.telemetry,
        providers.Singleton(
            create_payment.CreatePayment,
            uow=core.uow,
            risk=risk,
            orders=orders,
            channels=channels,
            clock=core.clock,
            ids=core.ids,
            recorder=charges,
        ),
        gateways.channels,
    )
    get_payment = providers.Singleton(get_payment.GetPayment, core.uow)
    list_payments = providers.Singleton(list_payments.ListPayments, core.uow)
    review_payment = providers.Singleton(
        review_payment.ReviewPayment,
        uow=core.uow,
        channels=channels,
        clock=core.clock,
        ids=core.ids,
        recorder=charges,
    )
    create_refund = providers.Singleton(
        _observed,
        core.telemetry,
        "create_refund",
        providers.Singleton(
            create_refund.CreateRefund,
            uow=core.uow,
            channels=channels,
            clock=core.clock,
            ids=core.ids,
            recorder=refund_outcomes,
        ),
    )
    capture_payment = providers.Singleton(
        _observed,
        core.telemetry,
        "capture_payment",
        providers.Singleton(
            capture_payment.CapturePayment,
            uow=core.uow,
            channels=channels,
            clock=core.clock,
            recorder=moves,
        ),
    )
    cancel_payment = providers.Singleton(
        _observed,
        core.telemetry,
        "cancel_payment",
        providers.Singleton(
            cancel_payment.CancelPayment,
            uow=core.uow,
            channels=channels,
            clock=core.clock,
            ids=core.ids,
            recorder=moves,
        ),
    )
    expire_authorizations = providers.Singleton(
        expire_authorizations.ExpireAuthorizations,
        uow=core.uow,
        clock=core.clock,
        cancel=cancel_payment,
    )
    get_refund = providers.Singleton(get_refund.GetRefund, core.uow)
    list_refunds = providers.Singleton(list_refunds.ListRefunds, core.uow)
    handle_notification = providers.Singleton(
        handle_notification.HandleChannelNotification,
        uow=core.uow,
        charges=charges,
        refunds=refund_outcomes,
    )
    reconcile = providers.Singleton(
        reconcile.ReconcilePayments,
        uow=core.uow,
        channels=channels,
        clock=core.clock,
        charges=charges,
        refunds=refund_outcomes,
        moves=moves,
    )
    process_settlement = providers.Singleton(
        _observed,
        core.telemetry,
        "process_settlement",
        providers.Singleton(process_settlement.ProcessSettlement, core.uow, core.clock, core.ids),
    )
    list_settlements = providers.Singleton(list_settlements.ListSettlements, core.uow)
    create_merchant = providers.Singleton(
        create_merchant.CreateMerchant, core.uow, core.clock, core.ids, core.vault
    )
    list_merchant_ids = providers.Singleton(ListMerchantIds, core.uow)
    set_merchant_active = providers.Singleton(SetMerchantActive, core.uow)
    deliver_webhooks = providers.Singleton(
        deliver_webhooks.DeliverWebhooks,
        core.uow,
        core.clock,
        core.vault,
        webhook_sender,
    )
    retry_webhook = providers.Singleton(retry_webhook.RetryWebhook, core.uow, core.clock)
    list_webhooks = providers.Singleton(ListWebhooks, core.uow)
    # the event feed and webhook endpoints (docs/adr/0020, 0021)
    publish_events = providers.Singleton(
        publish_events.PublishEvents, core.uow, core.clock, core.ids
    )
    prune_events = providers.Singleton(
        prune_events.PruneEvents,
        core.uow,
        core.clock,
        providers.Factory(_days, core.settings.provided.event_retention_days),
    )
    measure_outbox_lag = providers.Singleton(
        measure_outbox_lag.MeasureOutboxLag, core.uow, core.clock
    )
    list_events = providers.Singleton(list_events.ListEvents, core.uow)
    get_event = providers.Singleton(get_event.GetEvent, core.uow)
    list_event_deliveries = providers.Singleton(
        list_event_deliveries.ListEventDeliveries, core.uow
    )
    redeliver_event = providers.Singleton(
        redeliver_event.RedeliverEvent, core.uow, core.clock, core.ids
    )
    create_webhook_endpoint = providers.Singleton(
        create_webhook_endpoint.CreateWebhookEndpoint,
        core.uow,
        core.clock,
        core.ids,
        core.vault,
        gateways.webhook_sender,
    )
    list_webhook_endpoints = providers.Singleton(
        get_webhook_endpoints.ListWebhookEndpoints, core.uow
    )
    get_webhook_endpoint = providers.Singleton(get_webhook_endpoints.GetWebhookEndpoint, core.uow)
    delete_webhook_endpoint = providers.Singleton(
        delete_webhook_endpoint.DeleteWebhookEndpoint, core.uow, core.clock
    )
    rotate_webhook_secret = providers.Singleton(
        rotate_webhook_secret.RotateWebhookSecret, core.uow, core.clock, core.ids, core.vault
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, core=core)
    use_cases = providers.Container(UseCases, core=core, gateways=gateways)
    background = providers.Singleton(
        BackgroundWorker,
        use_cases.deliver_webhooks,
        use_cases.reconcile,
        use_cases.idempotency.provided.purge_expired,
        use_cases.expire_authorizations,
        publish_events=use_cases.publish_events,
        prune_events=use_cases.prune_events,
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


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
    upgrade_database(settings.database_url)


async def ensure_demo_merchant(settings: Settings) -> dict[str, str] | None:
    """Create a demo merchant when the database has none; its secrets are returned once."""
    from application.commands import CreateMerchantCommand

    container = build_container(settings)
    try:
        if await container.use_cases.list_merchant_ids()():
            return None
        new = await container.use_cases.create_merchant()(CreateMerchantCommand(name="demo"))
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
    "upgrade",
]

"""The composition root: every use case, built once from the ports, as a typed `Services`.

`compose(ports, observe)` is the one place that knows which use case takes which port.
The container (`entrypoints/container.py`, dependency-injector) chooses the adapters per
settings and hands them over as `Ports`; the unit tests hand over fakes through the same
function (`tests/unit/fakes/gateway.py`), so both run the same graph. The HTTP API, the
CLI and the background worker read `Services` fields, whose types are the use cases'
own classes: mypy checks every call against the use case's signature.

Observability wraps from outside: `observe` (entrypoints/telemetry.py in the gateway) may
return a metered or traced stand-in for a port or a use case. The stand-in answers the
same calls with the same results, so it is typed as what it wraps, and nothing that
calls a use case knows whether it is wrapped.

Adding a use case:

1. write it in `application/use_cases/` (a class taking its ports, with `__call__`);
2. add a field of its type to `Services`, and build it in `compose` from `ports` (through
   `observe` if it is to be metered or traced; `Observer` then gains a method);
3. call it from its route (`services.use_cases.<name>` in `entrypoints/http/`) or its
   command (`run(lambda s: s.<name>(...))` in `entrypoints/cli/`).

A use case that needs a port the others do not: its Protocol in `application/ports/`, a
field in `Ports`, its adapter in the container's `Core` or `Gateways`, and its fake in
`tests/unit/fakes/` (passed by `Gateway.ports`). The container exposes each `Services`
field as a provider too (`container.use_cases.<name>()`), with nothing to add there.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Protocol

from application.auditing import AuditTrail
from application.charging import ChargeRecorder
from application.holding import MoveRecorder
from application.idempotency import Idempotency
from application.ports.channel import ChannelPort, Channels
from application.ports.external import OrderPort, RiskPort
from application.ports.platform import (
    Clock,
    IdGenerator,
    SecretVault,
    TraceIds,
    WebhookDestinations,
    WebhookSender,
    no_trace_id,
)
from application.ports.storage import IdempotencyStore, UnitOfWorkFactory
from application.refunding import RefundRecorder
from application.use_cases.cancel_payment import CancelPayment
from application.use_cases.capture_payment import CapturePayment
from application.use_cases.create_merchant import CreateMerchant
from application.use_cases.create_payment import DEFAULT_ROUTE, CreatePayment, FailoverListener
from application.use_cases.create_refund import CreateRefund
from application.use_cases.create_webhook_endpoint import CreateWebhookEndpoint
from application.use_cases.delete_webhook_endpoint import DeleteWebhookEndpoint
from application.use_cases.deliver_webhooks import DeliverWebhooks
from application.use_cases.expire_authorizations import ExpireAuthorizations
from application.use_cases.get_event import GetEvent
from application.use_cases.get_payment import GetPayment
from application.use_cases.get_refund import GetRefund
from application.use_cases.get_webhook_endpoints import GetWebhookEndpoint, ListWebhookEndpoints
from application.use_cases.handle_notification import HandleChannelNotification
from application.use_cases.identify_operator import IdentifyOperator
from application.use_cases.list_audit import ListAudit
from application.use_cases.list_event_deliveries import ListEventDeliveries
from application.use_cases.list_events import ListEvents
from application.use_cases.list_merchants import ListMerchantIds, ListMerchants
from application.use_cases.list_payments import ListPayments
from application.use_cases.list_refunds import ListRefunds
from application.use_cases.list_settlements import ListSettlements
from application.use_cases.list_webhooks import ListWebhooks
from application.use_cases.manage_operators import CreateOperator, DisableOperator, ListOperators
from application.use_cases.measure_outbox_lag import MeasureOutboxLag
from application.use_cases.process_settlement import ProcessSettlement
from application.use_cases.prune_events import PruneEvents
from application.use_cases.publish_events import PublishEvents
from application.use_cases.reconcile import ReconcilePayments
from application.use_cases.redeliver_event import RedeliverEvent
from application.use_cases.retry_webhook import RetryWebhook
from application.use_cases.review_payment import ReviewPayment
from application.use_cases.rotate_webhook_secret import RotateWebhookSecret
from application.use_cases.routing import GetRouting, SetRouting
from application.use_cases.set_merchant_active import SetMerchantActive

Refusal = Callable[[object, BaseException], None]
"""Told of a request refused before its use case could run (its command could not be
built from it: a card number that fails Luhn), with the request and the error."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ports:
    """What the use cases are built from: adapters in the gateway, fakes in unit tests."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    vault: SecretVault
    risk: RiskPort
    orders: OrderPort
    channels: Channels
    webhook_sender: WebhookSender
    destinations: WebhookDestinations  # where a merchant's webhook endpoint may point
    idempotency_store: IdempotencyStore
    trace_id: TraceIds = no_trace_id  # the current trace's id, for the audit trail
    default_route: tuple[str, ...] = DEFAULT_ROUTE  # PAYGATE_DEFAULT_ROUTE


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """Every use case of paygate, by its own type, and what the edges share with them."""

    create_payment: CreatePayment
    payment_refused: Refusal  # a payment refused before `create_payment` could run
    get_payment: GetPayment
    list_payments: ListPayments
    review_payment: ReviewPayment
    capture_payment: CapturePayment
    cancel_payment: CancelPayment
    expire_authorizations: ExpireAuthorizations
    create_refund: CreateRefund
    get_refund: GetRefund
    list_refunds: ListRefunds
    handle_notification: HandleChannelNotification
    get_routing: GetRouting
    set_routing: SetRouting
    reconcile: ReconcilePayments
    process_settlement: ProcessSettlement
    list_settlements: ListSettlements
    create_merchant: CreateMerchant
    list_merchant_ids: ListMerchantIds
    list_merchants: ListMerchants
    set_merchant_active: SetMerchantActive
    deliver_webhooks: DeliverWebhooks
    retry_webhook: RetryWebhook
    list_webhooks: ListWebhooks
    # the event feed and webhook endpoints (docs/adr/0020, 0021)
    publish_events: PublishEvents
    prune_events: PruneEvents
    measure_outbox_lag: MeasureOutboxLag
    list_events: ListEvents
    get_event: GetEvent
    list_event_deliveries: ListEventDeliveries
    redeliver_event: RedeliverEvent
    create_webhook_endpoint: CreateWebhookEndpoint
    list_webhook_endpoints: ListWebhookEndpoints
    get_webhook_endpoint: GetWebhookEndpoint
    delete_webhook_endpoint: DeleteWebhookEndpoint
    rotate_webhook_secret: RotateWebhookSecret
    # operators and the audit trail (docs/adr/0029, 0030)
    create_operator: CreateOperator
    disable_operator: DisableOperator
    list_operators: ListOperators
    identify_operator: IdentifyOperator
    list_audit: ListAudit
    idempotency: Idempotency

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))


class Observer(Protocol):
    """Metrics and tracing around ports and use cases, applied from outside; each method
    returns what it was given, or a stand-in that answers the same calls."""

    def risk(self, inner: RiskPort) -> RiskPort: ...

    def orders(self, inner: OrderPort) -> OrderPort: ...

    def channels(self, inner: Mapping[str, ChannelPort]) -> dict[str, ChannelPort]: ...

    def webhook_sender(self, inner: WebhookSender) -> WebhookSender: ...

    def create_payment(
        self, inner: CreatePayment, channels: Collection[str]
    ) -> tuple[CreatePayment, Refusal]:
        """The use case observed, and where to tell of a payment refused before it."""
        ...

    def create_refund(self, inner: CreateRefund) -> CreateRefund: ...

    def capture_payment(self, inner: CapturePayment) -> CapturePayment: ...

    def cancel_payment(self, inner: CancelPayment) -> CancelPayment: ...

    def process_settlement(self, inner: ProcessSettlement) -> ProcessSettlement: ...

    def review_payment(self, inner: ReviewPayment) -> ReviewPayment: ...

    def audit_trail(self, inner: AuditTrail) -> AuditTrail:
        """The trail, counting each operator action it records."""

    def failovers(self) -> FailoverListener:
        """What is told of each failover (from channel, to channel, reason)."""
        ...


def _unnoticed(request: object, error: BaseException) -> None:
    """Nothing observes refusals."""


def _unheard_failover(from_channel: str, to_channel: str, reason: str) -> None:
    """Nothing counts failovers."""


class Unobserved:
    """An `Observer` that wraps nothing: the gateway without observability, unit tests."""

    def risk(self, inner: RiskPort) -> RiskPort:
        return inner

    def orders(self, inner: OrderPort) -> OrderPort:
        return inner

    def channels(self, inner: Mapping[str, ChannelPort]) -> dict[str, ChannelPort]:
        return dict(inner)

    def webhook_sender(self, inner: WebhookSender) -> WebhookSender:
        return inner

    def create_payment(
        self, inner: CreatePayment, channels: Collection[str]
    ) -> tuple[CreatePayment, Refusal]:
        return inner, _unnoticed

    def create_refund(self, inner: CreateRefund) -> CreateRefund:
        return inner

    def capture_payment(self, inner: CapturePayment) -> CapturePayment:
        return inner

    def cancel_payment(self, inner: CancelPayment) -> CancelPayment:
        return inner

    def process_settlement(self, inner: ProcessSettlement) -> ProcessSettlement:
        return inner

    def review_payment(self, inner: ReviewPayment) -> ReviewPayment:
        return inner

    def audit_trail(self, inner: AuditTrail) -> AuditTrail:
        return inner

    def failovers(self) -> FailoverListener:
        return _unheard_failover


def compose(
    ports: Ports,
    observe: Observer | None = None,
    *,
    event_retention: timedelta = timedelta(days=30),
) -> Services:
    """Every use case on `ports`; `observe` wraps the ports and the busiest use cases."""
    seen = observe or Unobserved()
    uow, clock, ids, vault = ports.uow, ports.clock, ports.ids, ports.vault
    risk, orders = seen.risk(ports.risk), seen.orders(ports.orders)
    channels = seen.channels(ports.channels)
    charges = ChargeRecorder(uow, clock, ids, orders)
    refunds = RefundRecorder(uow, clock, ids)
    moves = MoveRecorder(uow, clock, ids, orders)
    trail = seen.audit_trail(AuditTrail(clock, ids, ports.trace_id))
    default_route = tuple(ports.default_route)  # checked against the channels at start
    create_payment, payment_refused = seen.create_payment(
        CreatePayment(uow, risk, orders, channels, clock, ids, charges, default_route,
                      seen.failovers()),
        list(ports.channels),
    )
    cancel_payment = seen.cancel_payment(CancelPayment(uow, channels, clock, ids, moves, trail))
    return Services(
        create_payment=create_payment,
        payment_refused=payment_refused,
        get_payment=GetPayment(uow),
        list_payments=ListPayments(uow),
        review_payment=seen.review_payment(
            ReviewPayment(uow, channels, clock, ids, charges, trail)),
        capture_payment=seen.capture_payment(CapturePayment(uow, channels, clock, moves, trail)),
        cancel_payment=cancel_payment,
        expire_authorizations=ExpireAuthorizations(uow, clock, cancel_payment),
        create_refund=seen.create_refund(CreateRefund(uow, channels, clock, ids, refunds, trail)),
        get_refund=GetRefund(uow),
        list_refunds=ListRefunds(uow),
        handle_notification=HandleChannelNotification(uow, charges, refunds),
        reconcile=ReconcilePayments(uow, channels, clock, charges, refunds, moves),
        process_settlement=seen.process_settlement(ProcessSettlement(uow, clock, ids, trail)),
        list_settlements=ListSettlements(uow),
        create_merchant=CreateMerchant(uow, clock, ids, vault, trail),
        list_merchant_ids=ListMerchantIds(uow),
        list_merchants=ListMerchants(uow),
        set_merchant_active=SetMerchantActive(uow, trail),
        get_routing=GetRouting(uow),
        set_routing=SetRouting(uow, clock, tuple(ports.channels), trail),
        deliver_webhooks=DeliverWebhooks(
            uow, clock, vault, seen.webhook_sender(ports.webhook_sender)
        ),
        retry_webhook=RetryWebhook(uow, clock, trail),
        list_webhooks=ListWebhooks(uow),
        publish_events=PublishEvents(uow, clock, ids),
        prune_events=PruneEvents(uow, clock, event_retention),
        measure_outbox_lag=MeasureOutboxLag(uow, clock),
        list_events=ListEvents(uow),
        get_event=GetEvent(uow),
        list_event_deliveries=ListEventDeliveries(uow),
        redeliver_event=RedeliverEvent(uow, clock, ids),
        create_webhook_endpoint=CreateWebhookEndpoint(uow, clock, ids, vault, ports.destinations),
        list_webhook_endpoints=ListWebhookEndpoints(uow),
        get_webhook_endpoint=GetWebhookEndpoint(uow),
        delete_webhook_endpoint=DeleteWebhookEndpoint(uow, clock),
        rotate_webhook_secret=RotateWebhookSecret(uow, clock, ids, vault),
        create_operator=CreateOperator(uow, clock, ids, trail),
        disable_operator=DisableOperator(uow, clock, trail),
        list_operators=ListOperators(uow),
        identify_operator=IdentifyOperator(uow),
        list_audit=ListAudit(uow),
        idempotency=Idempotency(ports.idempotency_store, clock),
    )

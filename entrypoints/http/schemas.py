"""Request and response bodies. Unknown fields are refused, so a typo never drops data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from domain.routing import RoutingRule

Text = Annotated[str, Meta(max_length=500)]
Url = Annotated[str, Meta(max_length=2048, pattern=r"^https?://[^\s]+$")]
Metadata = Annotated[
    dict[Annotated[str, Meta(min_length=1, max_length=40)], Annotated[str, Meta(max_length=500)]],
    Meta(max_length=50),
]


class _In(Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class CardIn(_In):
    type: Literal["card"]
    number: Annotated[str, Meta(min_length=1, max_length=19)]
    exp_month: int
    exp_year: int
    cvc: Annotated[str, Meta(min_length=1, max_length=4)]


class CustomerIn(_In):
    id: Annotated[str, Meta(max_length=100)] | None = None
    email: Annotated[str, Meta(max_length=254)] | None = None
    ip: Annotated[str, Meta(max_length=45)] | None = None


class CreatePaymentIn(_In):
    order_no: Annotated[str, Meta(min_length=1, max_length=64)]
    amount: int
    currency: Annotated[str, Meta(max_length=8)]
    payment_method: CardIn
    channel: Annotated[str, Meta(max_length=32)] | None = None  # None: routed
    customer: CustomerIn | None = None
    description: Text | None = None
    notify_url: Url | None = None
    metadata: Metadata = msgspec.field(default_factory=dict)
    capture_method: Literal["automatic", "manual"] = "automatic"


class CaptureIn(_In):
    amount_to_capture: int | None = None  # None: everything held


class CancelIn(_In):
    reason: Text | None = None


class CreateRefundIn(_In):
    amount: int | None = None
    reason: Text | None = None


class ReviewIn(_In):
    decision: Literal["approve", "reject"]
    note: Text | None = None


class CreateMerchantIn(_In):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    fee_basis_points: Annotated[int, Meta(ge=0, le=10_000)] = 290
    fee_fixed: Annotated[int, Meta(ge=0)] = 30


class SettleIn(_In):
    merchant_id: Annotated[str, Meta(min_length=1, max_length=64)]
    date: Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class RiskOut(Struct):
    decision: str
    score: int
    reasons: list[str]


class CardOut(Struct):
    brand: str
    last4: str


class AttemptOut(Struct):
    channel: str
    outcome: str  # pending | succeeded | failed | unknown
    failure_code: str | None
    started_at: str


class PaymentOut(Struct):
    payment_no: str
    order_no: str
    amount: int
    currency: str
    channel: str
    status: str
    refunded_amount: int
    risk: RiskOut | None
    card: CardOut | None
    failure_code: str | None
    failure_message: str | None
    description: str | None
    notify_url: str | None
    metadata: dict[str, str]
    capture_method: str
    amount_capturable: int
    amount_captured: int
    capture_before: str | None
    cancellation_reason: str | None
    attempts: list[AttemptOut]
    created_at: str
    updated_at: str


class RefundOut(Struct):
    refund_no: str
    payment_no: str
    amount: int
    currency: str
    status: str
    reason: str | None
    failure_code: str | None
    created_at: str


class PaymentPage(Struct):
    data: list[PaymentOut]
    next_cursor: str | None


class RefundPage(Struct):
    data: list[RefundOut]
    next_cursor: str | None


class SettlementOut(Struct):
    settlement_id: str
    merchant_id: str
    currency: str
    date: str
    gross: int
    refunds: int
    fees: int
    net: int
    payment_count: int
    refund_count: int
    created_at: str


class SettlementList(Struct):
    data: list[SettlementOut]


AUDIT_BEFORE = "The object's status before the action (null when it had none)."
AUDIT_AFTER = (
    "The status the action left the object in when the row was written, in the action's "
    "own transaction: not its final outcome. A capture or a cancel of an authorization "
    "claims the hold, so `after` is `requires_capture` even when the channel then "
    "captures or voids it; a refund is `pending`; an approved review is `processing`. "
    "The outcome is the payment's or refund's own status and events."
)


class AuditEntryOut(Struct):
    id: str
    actor: str
    role: str
    action: str
    object: str
    object_type: str
    before: Annotated[str | None, Meta(description=AUDIT_BEFORE)]
    after: Annotated[str | None, Meta(description=AUDIT_AFTER)]
    reason: str | None
    trace_id: str | None
    created_at: str


class AuditPage(Struct):
    data: list[AuditEntryOut]
    next_cursor: str | None


class RoutingRuleIn(_In):
    """A rule: `null` (or absent) matches anything; amounts in minor units,
    `min_amount` inclusive and `max_amount` exclusive."""

    channels: list[Annotated[str, Meta(max_length=32)]]
    currency: Annotated[str, Meta(max_length=8)] | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    card_brand: Annotated[str, Meta(max_length=16)] | None = None


class RoutingIn(_In):
    rules: list[RoutingRuleIn]

    def to_rules(self) -> list[RoutingRule]:
        """As the domain checks them (`SetRouting`): nothing is checked here but types."""
        return [
            RoutingRule(channels=tuple(r.channels), currency=r.currency,
                        min_amount=r.min_amount, max_amount=r.max_amount,
                        card_brand=r.card_brand)
            for r in self.rules
        ]


class RoutingRuleOut(Struct):
    currency: str | None
    min_amount: int | None
    max_amount: int | None
    card_brand: str | None
    channels: list[str]


class RoutingOut(Struct):
    merchant_id: str
    rules: list[RoutingRuleOut]


class MerchantCreatedOut(Struct):
    merchant_id: str
    api_key: str
    api_secret: str
    webhook_secret: str


class ErrorDetail(Struct):
    code: str
    message: str
    trace_id: str | None
    details: list[dict[str, Any]]


class ErrorOut(Struct):
    error: ErrorDetail

"""The database schema as SQLAlchemy Core tables: one `MetaData`, both dialects.

Money is BIGINT minor units with a CHAR(3) currency; instants are `UtcDateTime`. The
invariants that must hold across worker processes live here as constraints, not in
Python: one live or paid payment per merchant order, captures never above the amount,
refunds never above what was captured, nothing captured on a canceled payment, one
settlement per merchant, currency and day, and a ledger whose rows are written once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import CHAR

from adapters.persistence.types import UtcDateTime, bigint_id, json_type

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def _money(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False)


def _at(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, UtcDateTime, nullable=nullable)


merchants = Table(
    "merchants",
    metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("api_key", String(64), nullable=False, unique=True),
    Column("api_secret_sealed", Text, nullable=False),
    Column("webhook_secret_sealed", Text, nullable=False),
    Column("fee_basis_points", Integer, nullable=False),
    Column("fee_fixed", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    _at("created_at"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_no", String(64), primary_key=True),
    Column("merchant_id", String(64), ForeignKey("merchants.merchant_id"), nullable=False),
    Column("order_no", String(64), nullable=False),
    _money("amount"),
    Column("currency", CHAR(3), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(24), nullable=False),
    Column("risk_verdict", String(16)),
    Column("risk_score", Integer),
    Column("risk_reasons", json_type()),
    Column("card_brand", String(16)),
    Column("card_last4", String(4)),
    _money("refunded_amount"),
    _money("refund_reserved"),
    Column("failure_code", String(64)),
    Column("failure_message", Text),
    Column("description", Text),
    Column("notify_url", Text),
    Column("customer_id", String(255)),
    Column("metadata", json_type(), nullable=False),
    Column("channel_reference", String(255)),
    Column("payment_token", String(255)),
    _at("captured_at", nullable=True),
    _at("created_at"),
    _at("updated_at"),
    Column("version", Integer, nullable=False),
    Column("capture_method", String(16), nullable=False, server_default="automatic"),
    Column("amount_captured", BigInteger, nullable=False, server_default="0"),
    _at("capture_before", nullable=True),
    Column("cancellation_reason", Text),
    Column("pending_move", String(8)),  # a capture or void sent, its answer not recorded
    Column("pending_capture", BigInteger, nullable=False, server_default="0"),
    # 0: the channel was named; n: routed, `channel` is attempt n's (payment_attempts)
    Column("attempt", Integer, nullable=False, server_default="0"),
    # the events of the payment's committed moves that the publisher has not taken yet:
    # one JSON line per transaction, appended by the statement that writes the move, so
    # a move writes no row of its own for its events (docs/adr/0036)
    Column("unpublished", Text),
    _at("unpublished_since", nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("refunded_amount >= 0", name="refunded_not_negative"),
    CheckConstraint("refund_reserved <= amount", name="reserved_within_amount"),
    CheckConstraint("refunded_amount <= refund_reserved", name="refunded_within_reserved"),
    CheckConstraint("amount_captured <= amount", name="captured_within_amount"),
    CheckConstraint("refund_reserved <= amount_captured", name="reserved_within_captured"),
    CheckConstraint(
        "status <> 'canceled' OR amount_captured = 0", name="canceled_captured_nothing"
    ),
)
LIVE_OR_PAID = text("status <> 'failed' AND status <> 'rejected' AND status <> 'canceled'")
"""The payments that hold their order: an order whose payments all ended failed, rejected
or canceled may be paid again (docs/adr/0014). Written as comparisons, not as `NOT IN`
a list: SQLite evaluates an index's predicate at every insert and update of a row, and
it builds a temporary table for a list of three constants or more each time
(docs/adr/0034)."""
Index(
    "uq_payments_live_order",
    payments.c.merchant_id,
    payments.c.order_no,
    unique=True,
    sqlite_where=LIVE_OR_PAID,
    postgresql_where=LIVE_OR_PAID,
)
Index(
    "ix_payments_merchant_newest",
    payments.c.merchant_id,
    payments.c.created_at.desc(),
    payments.c.payment_no.desc(),
)
UNRESOLVED_STATUS = text("(status = 'pending' OR status = 'processing')")
"""The payments the reconciler looks for (domain `UNRESOLVED`), written as the partial
index's predicate, so that a query naming it in these words can use the index."""
HELD_STATUS = text("status = 'requires_capture'")
"""The authorizations waiting for a capture, a void or their expiry, likewise."""
Index("ix_payments_unresolved", payments.c.status, payments.c.updated_at,
      sqlite_where=UNRESOLVED_STATUS, postgresql_where=UNRESOLVED_STATUS)
Index("ix_payments_captured", payments.c.merchant_id, payments.c.captured_at)
UNPUBLISHED = text("unpublished_since IS NOT NULL")
"""The payments whose events wait for the publisher: its index holds only those."""
Index("ix_payments_unpublished", payments.c.unpublished_since,
      sqlite_where=UNPUBLISHED, postgresql_where=UNPUBLISHED)
Index("ix_payments_expiring", payments.c.status, payments.c.capture_before,
      sqlite_where=HELD_STATUS, postgresql_where=HELD_STATUS)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_no", String(64), primary_key=True),
    Column("payment_no", String(64), ForeignKey("payments.payment_no"), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    _money("amount"),
    Column("currency", CHAR(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("failure_code", String(64)),
    Column("failure_message", Text),
    Column("channel_reference", String(255)),
    _at("created_at"),
    _at("updated_at"),
    _at("completed_at", nullable=True),
    Column("request_key", String(320)),  # scope and Idempotency-Key (255) of its request
    CheckConstraint("amount > 0", name="amount_positive"),
)
Index("ix_refunds_payment", refunds.c.payment_no, refunds.c.created_at)
Index(
    "uq_refunds_payment_no_request_key", refunds.c.payment_no, refunds.c.request_key, unique=True
)
Index(
    "ix_refunds_merchant_newest",
    refunds.c.merchant_id,
    refunds.c.created_at.desc(),
    refunds.c.refund_no.desc(),
)
Index("ix_refunds_pending", refunds.c.status, refunds.c.updated_at)
Index("ix_refunds_completed", refunds.c.merchant_id, refunds.c.completed_at)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", bigint_id(), primary_key=True, autoincrement=True),
    Column("posting_id", String(128), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("account", String(128), nullable=False),
    Column("side", String(6), nullable=False),
    _money("amount"),
    Column("currency", CHAR(3), nullable=False),
    _at("created_at"),
    UniqueConstraint("posting_id", "account", "side"),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("side IN ('debit', 'credit')", name="side_known"),
)
Index("ix_ledger_entries_merchant", ledger_entries.c.merchant_id)

settlements = Table(
    "settlements",
    metadata,
    Column("settlement_id", String(64), primary_key=True),
    Column("merchant_id", String(64), ForeignKey("merchants.merchant_id"), nullable=False),
    Column("currency", CHAR(3), nullable=False),
    Column("day", Date, nullable=False),
    _money("gross"),
    _money("refunds"),
    _money("fees"),
    Column("payment_count", Integer, nullable=False),
    Column("refund_count", Integer, nullable=False),
    _at("created_at"),
    UniqueConstraint("merchant_id", "currency", "day"),
)
Index("ix_settlements_day", settlements.c.day)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("response_status", Integer),
    Column("response_body", LargeBinary),
    Column("response_headers", json_type()),
    _at("created_at"),
    _at("expires_at"),
)
Index("ix_idempotency_keys_expires", idempotency_keys.c.expires_at)

orders = Table(
    "orders",
    metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("order_no", String(64), primary_key=True),
    Column("payment_no", String(64), nullable=False),
    _money("amount"),
    Column("currency", CHAR(3), nullable=False),
    Column("description", Text),
    Column("metadata", json_type(), nullable=False),
    Column("status", String(24), nullable=False),
    _at("created_at"),
    _at("updated_at"),
)

# -- the event feed (docs/adr/0020) ---------------------------------------------------
events = Table(
    "events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("merchant_id", String(64), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column("body", Text, nullable=False),
    _at("created_at"),
    UniqueConstraint("merchant_id", "sequence"),
)
Index("ix_events_merchant_type", events.c.merchant_id, events.c.type, events.c.sequence)
Index("ix_events_created", events.c.created_at)

event_streams = Table(
    "event_streams",
    metadata,
    Column("merchant_id", String(64), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
)

event_publisher = Table(
    "event_publisher",
    metadata,
    Column("name", String(32), primary_key=True),
    _at("last_run_at"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("endpoint_id", String(64), primary_key=True),
    Column("merchant_id", String(64), ForeignKey("merchants.merchant_id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", json_type(), nullable=False),
    Column("secret_sealed", Text, nullable=False),
    Column("previous_secret_sealed", Text),
    _at("previous_expires_at", nullable=True),
    _at("created_at"),
    _at("deleted_at", nullable=True),
)
Index(
    "ix_webhook_endpoints_merchant", webhook_endpoints.c.merchant_id, webhook_endpoints.c.created_at
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("event_id", String(64), nullable=False),
    Column("merchant_id", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("endpoint_id", String(64)),  # NULL: the payment's notify_url
    Column("url", Text, nullable=False),
    _at("created_at"),
    _at("next_attempt_at"),
    Column("attempts", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    _at("delivered_at", nullable=True),
    Column("traceparent", String(64)),  # W3C: 55 characters in version 00
)
Index(
    "ix_webhook_deliveries_due", webhook_deliveries.c.status, webhook_deliveries.c.next_attempt_at
)
Index("ix_webhook_deliveries_event", webhook_deliveries.c.event_id)
Index(
    "ix_webhook_deliveries_merchant",
    webhook_deliveries.c.merchant_id,
    webhook_deliveries.c.created_at,
)
Index(
    "ix_webhook_deliveries_endpoint",
    webhook_deliveries.c.endpoint_id,
    webhook_deliveries.c.status,
)

sealing_key = Table(
    "sealing_key",
    metadata,
    # one row: the fingerprint of the master key the database's secrets are sealed with
    Column("slot", String(16), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("previous_fingerprint", String(64)),
    _at("recorded_at"),
)

used_signatures = Table(
    "used_signatures",
    metadata,
    # a signed merchant request that changed (or tried to change) something: accepted once
    Column("merchant_id", String(64), primary_key=True),
    Column("signature_sha256", String(64), primary_key=True),  # never the signature
    Column("idempotency_key", String(255)),
    _at("expires_at"),
)
Index("ix_used_signatures_expires", used_signatures.c.expires_at)

operators = Table(
    "operators",
    metadata,
    # named admin credentials: the token is kept as its SHA-256 only (docs/adr/0029)
    Column("operator_id", String(64), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("active", Boolean, nullable=False),
    _at("created_at"),
    _at("disabled_at", nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    # one row per operator action, written with the change; never updated or deleted
    # (docs/adr/0030: no code path does, and the database refuses it)
    Column("entry_id", String(64), primary_key=True),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("before_status", String(32)),
    Column("after_status", String(32)),
    Column("reason", Text),
    Column("trace_id", String(32)),
    _at("created_at"),
)
Index("ix_audit_log_newest", audit_log.c.created_at, audit_log.c.entry_id)
Index("ix_audit_log_actor", audit_log.c.actor, audit_log.c.created_at)
Index("ix_audit_log_object", audit_log.c.object_id, audit_log.c.created_at)
sandbox_charges = Table(
    "sandbox_charges",
    metadata,
    # the sandbox acquirer's own record of each charge it made, so that after a crash it
    # answers for it as an acquirer would, not from memory (migration 0009)
    Column("charge_key", String(64), primary_key=True),  # the charge's idempotency key
    Column("outcome", String(16), nullable=False),  # succeeded | failed
    Column("reference", String(64)),
    Column("failure_code", String(64)),
    Column("failure_message", String(255)),
    _at("capture_before", nullable=True),  # an authorization's hold
    _at("created_at"),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    # a merchant's rules, in order, as one JSON list: read and replaced whole (ADR 0025)
    Column("merchant_id", String(64), ForeignKey("merchants.merchant_id"), primary_key=True),
    Column("rules", json_type(), nullable=False),
    _at("updated_at"),
)

payment_attempts = Table(
    "payment_attempts",
    metadata,
    # a routed payment's tries, each written before its channel is called (ADR 0025); a
    # payment that names its channel has none (its row says all there is)
    Column("payment_no", String(64), ForeignKey("payments.payment_no"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("attempt_key", String(80), nullable=False),  # the idempotency key the channel saw
    Column("outcome", String(16), nullable=False),
    Column("failure_code", String(64)),
    _at("started_at"),
)

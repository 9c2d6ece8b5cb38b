"""The initial schema: merchants, payments, refunds, ledger, settlements, webhooks,
idempotency keys and orders, plus the triggers that keep the ledger append-only.

Constraint names are final (`op.f`), not run through the naming convention again. Types
are spelled out with plain SQLAlchemy types, so this revision keeps meaning the same
thing whatever later happens to the application's own column types.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.String(64)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _uq(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def _ck(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{column}"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _c(name: str, type_: sa.types.TypeEngine, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, type_, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "merchants",
        _c("merchant_id", ID),
        _c("name", sa.String(200)),
        _c("api_key", sa.String(64)),
        _c("api_secret_sealed", sa.Text()),
        _c("webhook_secret_sealed", sa.Text()),
        _c("fee_basis_points", sa.Integer()),
        _c("fee_fixed", MONEY),
        _c("active", sa.Boolean()),
        _c("created_at", AT),
        _pk("merchants", "merchant_id"),
        _uq("merchants", "api_key"),
    )
    op.create_table(
        "payments",
        _c("payment_no", ID),
        _c("merchant_id", ID),
        _c("order_no", sa.String(64)),
        _c("amount", MONEY),
        _c("currency", sa.CHAR(3)),
        _c("channel", sa.String(32)),
        _c("status", sa.String(24)),
        _c("risk_verdict", sa.String(16), True),
        _c("risk_score", sa.Integer(), True),
        _c("risk_reasons", JSON, True),
        _c("card_brand", sa.String(16), True),
        _c("card_last4", sa.String(4), True),
        _c("refunded_amount", MONEY),
        _c("refund_reserved", MONEY),
        _c("failure_code", sa.String(64), True),
        _c("failure_message", sa.Text(), True),
        _c("description", sa.Text(), True),
        _c("notify_url", sa.Text(), True),
        _c("customer_id", sa.String(255), True),
        _c("metadata", JSON),
        _c("channel_reference", sa.String(255), True),
        _c("payment_token", sa.String(255), True),
        _c("captured_at", AT, True),
        _c("created_at", AT),
        _c("updated_at", AT),
        _c("version", sa.Integer()),
        _pk("payments", "payment_no"),
        _uq("payments", "merchant_id", "order_no"),
        _fk("payments", "merchant_id", "merchants"),
        _ck("payments", "amount_positive", "amount > 0"),
        _ck("payments", "refunded_not_negative", "refunded_amount >= 0"),
        _ck("payments", "reserved_within_amount", "refund_reserved <= amount"),
        _ck("payments", "refunded_within_reserved", "refunded_amount <= refund_reserved"),
    )
    op.create_index(
        "ix_payments_merchant_newest",
        "payments",
        ["merchant_id", sa.text("created_at DESC"), sa.text("payment_no DESC")],
    )
    op.create_index("ix_payments_unresolved", "payments", ["status", "updated_at"])
    op.create_index("ix_payments_captured", "payments", ["merchant_id", "captured_at"])
    op.create_table(
        "refunds",
        _c("refund_no", ID),
        _c("payment_no", ID),
        _c("merchant_id", ID),
        _c("amount", MONEY),
        _c("currency", sa.CHAR(3)),
        _c("status", sa.String(16)),
        _c("reason", sa.Text(), True),
        _c("failure_code", sa.String(64), True),
        _c("failure_message", sa.Text(), True),
        _c("channel_reference", sa.String(255), True),
        _c("created_at", AT),
        _c("updated_at", AT),
        _c("completed_at", AT, True),
        _pk("refunds", "refund_no"),
        _fk("refunds", "payment_no", "payments"),
        _ck("refunds", "amount_positive", "amount > 0"),
    )
    op.create_index("ix_refunds_payment", "refunds", ["payment_no", "created_at"])
    op.create_index(
        "ix_refunds_merchant_newest",
        "refunds",
        ["merchant_id", sa.text("created_at DESC"), sa.text("refund_no DESC")],
    )
    op.create_index("ix_refunds_pending", "refunds", ["status", "updated_at"])
    op.create_index("ix_refunds_completed", "refunds", ["merchant_id", "completed_at"])
    op.create_table(
        "ledger_entries",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        _c("posting_id", sa.String(128)),
        _c("merchant_id", ID),
        _c("account", sa.String(128)),
        _c("side", sa.String(6)),
        _c("amount", MONEY),
        _c("currency", sa.CHAR(3)),
        _c("created_at", AT),
        _pk("ledger_entries", "entry_id"),
        _uq("ledger_entries", "posting_id", "account", "side"),
        _ck("ledger_entries", "amount_positive", "amount > 0"),
        _ck("ledger_entries", "side_known", "side IN ('debit', 'credit')"),
    )
    op.create_index("ix_ledger_entries_merchant", "ledger_entries", ["merchant_id"])
    op.create_table(
        "settlements",
        _c("settlement_id", ID),
        _c("merchant_id", ID),
        _c("currency", sa.CHAR(3)),
        _c("day", sa.Date()),
        _c("gross", MONEY),
        _c("refunds", MONEY),
        _c("fees", MONEY),
        _c("payment_count", sa.Integer()),
        _c("refund_count", sa.Integer()),
        _c("created_at", AT),
        _pk("settlements", "settlement_id"),
        _uq("settlements", "merchant_id", "currency", "day"),
        _fk("settlements", "merchant_id", "merchants"),
    )
    op.create_index("ix_settlements_day", "settlements", ["day"])
    op.create_table(
        "webhook_events",
        _c("event_id", ID),
        _c("merchant_id", ID),
        _c("type", sa.String(64)),
        _c("url", sa.Text()),
        _c("body", sa.Text()),
        _c("created_at", AT),
        _c("next_attempt_at", AT),
        _c("attempts", sa.Integer()),
        _c("status", sa.String(16)),
        _c("last_error", sa.Text(), True),
        _c("delivered_at", AT, True),
        _pk("webhook_events", "event_id"),
    )
    op.create_index("ix_webhook_events_due", "webhook_events", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_events_merchant", "webhook_events", ["merchant_id", "created_at"])
    op.create_table(
        "idempotency_keys",
        _c("scope", ID),
        _c("key", sa.String(255)),
        _c("fingerprint", sa.Text()),
        _c("state", sa.String(16)),
        _c("response_status", sa.Integer(), True),
        _c("response_body", sa.LargeBinary(), True),
        _c("response_headers", JSON, True),
        _c("created_at", AT),
        _c("expires_at", AT),
        _pk("idempotency_keys", "scope", "key"),
    )
    op.create_index("ix_idempotency_keys_expires", "idempotency_keys", ["expires_at"])
    op.create_table(
        "orders",
        _c("merchant_id", ID),
        _c("order_no", sa.String(64)),
        _c("payment_no", ID),
        _c("amount", MONEY),
        _c("currency", sa.CHAR(3)),
        _c("description", sa.Text(), True),
        _c("metadata", JSON),
        _c("status", sa.String(24)),
        _c("created_at", AT),
        _c("updated_at", AT),
        _pk("orders", "merchant_id", "order_no"),
    )
    _ledger_append_only()


def _ledger_append_only() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END
            $$""")
        op.execute("""
            CREATE TRIGGER ledger_entries_append_only
            BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()""")
        op.execute("""
            CREATE TRIGGER ledger_entries_no_truncate
            BEFORE TRUNCATE ON ledger_entries
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER ledger_entries_no_{verb.lower()}
                BEFORE {verb} ON ledger_entries
                BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: {verb} refused'); END""")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION ledger_entries_append_only() CASCADE")
    for table in (
        "orders",
        "idempotency_keys",
        "webhook_events",
        "settlements",
        "ledger_entries",
        "refunds",
        "payments",
        "merchants",
    ):
        op.drop_table(table)

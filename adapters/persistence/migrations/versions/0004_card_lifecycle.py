"""Authorize now, capture or void later, and pay a failed order again (docs/adr/0013, 0014).

Payments gain their capture method, the amount captured, when their hold lapses, why
they were cancelled, and the capture or void on its way to the channel. The database
keeps the money rules a race could break: captured <= amount, refunds within what was
captured, nothing captured on a canceled payment.

One payment per order becomes one *live or paid* payment per order: the unique
(merchant_id, order_no) constraint gives way to a unique index over the payments that
have not ended failed, rejected or canceled, so an order whose attempts all failed can
be paid again, and never twice at once.

Payments made before this revision were all charged at once: `automatic`, and those that
succeeded have captured their whole amount. On SQLite the table is rebuilt (a unique
constraint cannot be dropped otherwise); its refunds, which point at it with foreign keys
that stay on, wait in a temporary table meanwhile, all in the one migration transaction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENDED_UNPAID = "status NOT IN ('failed', 'rejected', 'canceled')"
CHECKS = {
    "captured_within_amount": "amount_captured <= amount",
    "reserved_within_captured": "refund_reserved <= amount_captured",
    "canceled_captured_nothing": "status <> 'canceled' OR amount_captured = 0",
}
COLUMNS = ("capture_method", "amount_captured", "capture_before", "cancellation_reason",
           "pending_move", "pending_capture")


def _columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("capture_method", sa.String(16), nullable=False, server_default="automatic"),
        sa.Column("amount_captured", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("capture_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("pending_move", sa.String(8), nullable=True),
        sa.Column("pending_capture", sa.BigInteger(), nullable=False, server_default="0"),
    ]


@contextmanager
def _refunds_set_aside() -> Iterator[None]:
    """SQLite drops the old payments table when it rebuilds it, which the refunds' foreign
    keys would refuse: they wait outside it and come back, unchanged, once it is rebuilt."""
    sqlite = op.get_context().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE refunds_0004 AS SELECT * FROM refunds")
        op.execute("DELETE FROM refunds")
    yield
    if sqlite:
        op.execute("INSERT INTO refunds SELECT * FROM refunds_0004")
        op.execute("DROP TABLE refunds_0004")


def _newest_first_again() -> None:
    """SQLite's rebuild copies an index's columns but not their DESC: put it back."""
    if op.get_context().dialect.name == "sqlite":
        op.drop_index("ix_payments_merchant_newest", "payments")
        op.create_index(
            "ix_payments_merchant_newest",
            "payments",
            ["merchant_id", sa.text("created_at DESC"), sa.text("payment_no DESC")],
        )


def upgrade() -> None:
    for column in _columns():
        op.add_column("payments", column)
    op.execute(
        "UPDATE payments SET amount_captured = amount"
        " WHERE status IN ('succeeded', 'partially_refunded', 'refunded')"
    )
    with _refunds_set_aside(), op.batch_alter_table("payments") as batch:
        batch.drop_constraint("uq_payments_merchant_id_order_no", type_="unique")
        for name, condition in CHECKS.items():
            batch.create_check_constraint(op.f(f"ck_payments_{name}"), condition)
    _newest_first_again()
    op.create_index(
        "uq_payments_live_order",
        "payments",
        ["merchant_id", "order_no"],
        unique=True,
        sqlite_where=sa.text(ENDED_UNPAID),
        postgresql_where=sa.text(ENDED_UNPAID),
    )
    op.create_index("ix_payments_expiring", "payments", ["status", "capture_before"])


def downgrade() -> None:
    op.drop_index("ix_payments_expiring", "payments")
    op.drop_index("uq_payments_live_order", "payments")
    with _refunds_set_aside(), op.batch_alter_table("payments") as batch:
        for name in CHECKS:
            batch.drop_constraint(op.f(f"ck_payments_{name}"), type_="check")
        batch.create_unique_constraint(
            op.f("uq_payments_merchant_id_order_no"), ["merchant_id", "order_no"]
        )
        for name in reversed(COLUMNS):
            batch.drop_column(name)
    _newest_first_again()

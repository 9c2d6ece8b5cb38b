"""Routing rules per merchant, and the attempts of a routed payment (docs/adr/0025).

`routing_rules` holds each merchant's ordered rules as one JSON list, read and replaced
whole. `payment_attempts` records every try of a payment that was routed (no `channel`
given), written before the channel is called; `payments.attempt` is the number of the
latest (0 for a payment that named its channel, which writes no attempt rows).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "payments", sa.Column("attempt", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_table(
        "routing_rules",
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.merchant_id"],
            name=op.f("fk_routing_rules_merchant_id_merchants"),
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_routing_rules")),
    )
    op.create_table(
        "payment_attempts",
        sa.Column("payment_no", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("attempt_key", sa.String(80), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("failure_code", sa.String(64), nullable=True),
        sa.Column("started_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_no"], ["payments.payment_no"],
            name=op.f("fk_payment_attempts_payment_no_payments"),
        ),
        sa.PrimaryKeyConstraint("payment_no", "seq", name=op.f("pk_payment_attempts")),
    )


def downgrade() -> None:
    op.drop_table("payment_attempts")
    op.drop_table("routing_rules")
    if op.get_context().dialect.name == "sqlite":  # SQLite 3.35+ drops a plain column itself
        op.execute("ALTER TABLE payments DROP COLUMN attempt")
    else:
        op.drop_column("payments", "attempt")

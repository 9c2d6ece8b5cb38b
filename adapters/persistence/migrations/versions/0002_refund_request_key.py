"""Refunds remember the request key (the client's Idempotency-Key with its scope) they were
made under, unique per payment: a retry that outlives its key's 60 s claim finds the refund
instead of making a second one.

A unique index rather than a constraint, so that SQLite needs no table rebuild; refunds
made before this revision have no key (NULL, and NULLs never collide).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("refunds", sa.Column("request_key", sa.String(320), nullable=True))
    op.create_index(
        "uq_refunds_payment_no_request_key", "refunds", ["payment_no", "request_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_refunds_payment_no_request_key", "refunds")
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("request_key")

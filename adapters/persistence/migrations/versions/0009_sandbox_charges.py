"""The sandbox acquirer's charges, kept in the database.

The sandbox remembered its charges in the memory of one process: after a crash it reported
success for any charge it had not seen, so a declined test card reconciled to `succeeded`.
`sandbox_charges` holds one row per charge it made (its outcome, as it answered it), so
the reconciler learns a decline as a decline and a charge never sent as never sent.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sandbox_charges",
        sa.Column("charge_key", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("failure_code", sa.String(64), nullable=True),
        sa.Column("failure_message", sa.String(255), nullable=True),
        sa.Column("capture_before", AT, nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("charge_key", name=op.f("pk_sandbox_charges")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_charges")

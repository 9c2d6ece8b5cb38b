"""The master key's fingerprint, and the signatures of merchant requests already used.

`sealing_key` holds one row: the fingerprint of the key the database's secrets are sealed
with, so a process started with another key refuses to start (docs/adr/0022).
`used_signatures` makes a signed state-changing request single-use across processes; rows
live as long as the signature's timestamp window and are pruned after it (docs/adr/0023).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sealing_key",
        sa.Column("slot", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("previous_fingerprint", sa.String(64), nullable=True),
        sa.Column("recorded_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_sealing_key")),
    )
    op.create_table(
        "used_signatures",
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("signature_sha256", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("expires_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "signature_sha256", name=op.f("pk_used_signatures")),
    )
    op.create_index("ix_used_signatures_expires", "used_signatures", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_used_signatures_expires", "used_signatures")
    op.drop_table("used_signatures")
    op.drop_table("sealing_key")

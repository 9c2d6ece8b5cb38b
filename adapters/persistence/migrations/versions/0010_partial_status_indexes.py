"""The payments' status indexes hold only the payments their queries look for, and none
of their predicates is a list.

`ix_payments_unresolved` (status, updated_at) held every payment ever made, and
`ix_payments_expiring` (status, capture_before) every payment too, automatic ones
included, although the reconciler reads only `pending` and `processing` payments and the
expiry worker only `requires_capture` ones. A status change rewrote an entry in both, on
every payment. Made partial, a payment leaves the first when it ends and an automatic
payment never enters the second, and both stay as small as the work waiting in them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNRESOLVED = "(status = 'pending' OR status = 'processing')"
HELD = "status = 'requires_capture'"
LIVE_OR_PAID = "status <> 'failed' AND status <> 'rejected' AND status <> 'canceled'"
LIVE_OR_PAID_BEFORE = "status NOT IN ('failed', 'rejected', 'canceled')"


def _live_order(predicate: str) -> None:
    op.drop_index("uq_payments_live_order", "payments")
    op.create_index("uq_payments_live_order", "payments", ["merchant_id", "order_no"],
                    unique=True, sqlite_where=sa.text(predicate),
                    postgresql_where=sa.text(predicate))


def upgrade() -> None:
    _live_order(LIVE_OR_PAID)
    op.drop_index("ix_payments_unresolved", "payments")
    op.create_index("ix_payments_unresolved", "payments", ["status", "updated_at"],
                    sqlite_where=sa.text(UNRESOLVED), postgresql_where=sa.text(UNRESOLVED))
    op.drop_index("ix_payments_expiring", "payments")
    op.create_index("ix_payments_expiring", "payments", ["status", "capture_before"],
                    sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))


def downgrade() -> None:
    _live_order(LIVE_OR_PAID_BEFORE)
    op.drop_index("ix_payments_expiring", "payments")
    op.create_index("ix_payments_expiring", "payments", ["status", "capture_before"])
    op.drop_index("ix_payments_unresolved", "payments")
    op.create_index("ix_payments_unresolved", "payments", ["status", "updated_at"])

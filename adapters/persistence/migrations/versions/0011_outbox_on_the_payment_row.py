"""The outbox moves onto the payment's row: a move's events are written by the statement
that writes the move, so the payment path writes no row of its own for them.

Each `outbox` row still waiting at the upgrade becomes a line of its payment's
`unpublished` text, in the order the rows were written, and the payment's
`unpublished_since` the time of its first; then the table goes. A payment's events carry
its `payment_no` (a refund's view names its payment), which is how a row finds its
payment. `downgrade` puts the waiting entries back into an `outbox` table, one row each.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UNPUBLISHED = "unpublished_since IS NOT NULL"

outbox = sa.table(
    "outbox",
    sa.column("entry_id", BIGINT_ID),
    sa.column("merchant_id", sa.String()),
    sa.column("events", sa.Text()),
    sa.column("notify_url", sa.Text()),
    sa.column("created_at", AT),
    sa.column("traceparent", sa.String()),
)
payments = sa.table(
    "payments",
    sa.column("payment_no", sa.String()),
    sa.column("merchant_id", sa.String()),
    sa.column("notify_url", sa.Text()),
    sa.column("unpublished", sa.Text()),
    sa.column("unpublished_since", AT),
)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _line(row: sa.Row) -> str:  # type: ignore[type-arg]
    # as adapters/persistence/outbox.py writes it: compact JSON, then a newline
    entry = {"created_at": _utc(row.created_at).isoformat(), "traceparent": row.traceparent,
             "events": json.loads(row.events)}
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"


def _stored(bind: sa.Connection, value: datetime) -> datetime:
    # SQLite keeps naive UTC text (adapters/persistence/types.py)
    return value.replace(tzinfo=None) if bind.dialect.name == "sqlite" else value


def upgrade() -> None:
    op.add_column("payments", sa.Column("unpublished", sa.Text(), nullable=True))
    op.add_column("payments", sa.Column("unpublished_since", AT, nullable=True))
    bind = op.get_bind()
    waiting: dict[str, tuple[str, datetime]] = {}
    for row in bind.execute(sa.select(outbox).order_by(outbox.c.entry_id)):
        payment_no = json.loads(row.events)[0]["data"]["payment_no"]
        text, since = waiting.get(payment_no, ("", _utc(row.created_at)))
        waiting[payment_no] = (text + _line(row), since)
    for payment_no, (text, since) in waiting.items():
        bind.execute(
            payments.update().where(payments.c.payment_no == payment_no)
            .values(unpublished=text, unpublished_since=_stored(bind, since))
        )
    op.create_index("ix_payments_unpublished", "payments", ["unpublished_since"],
                    sqlite_where=sa.text(UNPUBLISHED), postgresql_where=sa.text(UNPUBLISHED))
    op.drop_table("outbox")


def downgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("entry_id", BIGINT_ID, autoincrement=True, nullable=False),
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("notify_url", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("traceparent", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_outbox")),
        sqlite_autoincrement=True,
    )
    bind = op.get_bind()
    entries = []
    waiting = sa.select(payments).where(sa.text(UNPUBLISHED))
    for row in bind.execute(waiting.order_by(payments.c.unpublished_since)):
        for line in row.unpublished.split("\n")[:-1]:  # not splitlines: U+2028 is no end
            entry = json.loads(line)
            entries.append({
                "merchant_id": row.merchant_id,
                "events": json.dumps(entry["events"], separators=(",", ":"),
                                     ensure_ascii=False),
                "notify_url": row.notify_url,
                "created_at": _stored(bind, datetime.fromisoformat(entry["created_at"])),
                "traceparent": entry["traceparent"],
            })
    if entries:
        bind.execute(sa.insert(outbox), entries)
    op.drop_index("ix_payments_unpublished", "payments")
    # SQLite (3.35 and later) drops a column in place; a batch would copy the table and
    # lose what reflection cannot read back (the DESC of an index's columns)
    op.execute("ALTER TABLE payments DROP COLUMN unpublished_since")
    op.execute("ALTER TABLE payments DROP COLUMN unpublished")

"""The event feed: the outbox, published events with each merchant's sequence, the
publisher's turn, webhook endpoints, and webhook deliveries in place of webhook_events.

Each webhook_events row was one event on its way to one payment's notify_url. It becomes
an event of the feed (its merchant's sequences in the order the events were written, the
sequence added at the front of the body it keeps) and one delivery, with its attempts,
status and next try as they were; then the table goes. A delivery still being retried
at the upgrade goes out with the sequence in its body from then on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AT = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.String(64)
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _c(name: str, type_: sa.types.TypeEngine, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, type_, nullable=nullable)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("entry_id", BIGINT_ID, autoincrement=True, nullable=False),
        _c("merchant_id", ID),
        _c("events", sa.Text()),
        _c("notify_url", sa.Text(), True),
        _c("created_at", AT),
        _c("traceparent", sa.String(64), True),
        _pk("outbox", "entry_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "events",
        _c("event_id", ID),
        _c("merchant_id", ID),
        _c("sequence", sa.BigInteger()),
        _c("type", sa.String(64)),
        _c("body", sa.Text()),
        _c("created_at", AT),
        _pk("events", "event_id"),
        sa.UniqueConstraint(
            "merchant_id", "sequence", name=op.f("uq_events_merchant_id_sequence")
        ),
    )
    op.create_index("ix_events_merchant_type", "events", ["merchant_id", "type", "sequence"])
    op.create_index("ix_events_created", "events", ["created_at"])
    op.create_table(
        "event_streams",
        _c("merchant_id", ID),
        _c("last_sequence", sa.BigInteger()),
        _pk("event_streams", "merchant_id"),
    )
    op.create_table(
        "event_publisher",
        _c("name", sa.String(32)),
        _c("last_run_at", AT),
        _pk("event_publisher", "name"),
    )
    op.create_table(
        "webhook_endpoints",
        _c("endpoint_id", ID),
        _c("merchant_id", ID),
        _c("url", sa.Text()),
        _c("events", JSON),
        _c("secret_sealed", sa.Text()),
        _c("previous_secret_sealed", sa.Text(), True),
        _c("previous_expires_at", AT, True),
        _c("created_at", AT),
        _c("deleted_at", AT, True),
        _pk("webhook_endpoints", "endpoint_id"),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.merchant_id"],
            name=op.f("fk_webhook_endpoints_merchant_id_merchants"),
        ),
    )
    op.create_index(
        "ix_webhook_endpoints_merchant", "webhook_endpoints", ["merchant_id", "created_at"]
    )
    op.create_table(
        "webhook_deliveries",
        _c("delivery_id", ID),
        _c("event_id", ID),
        _c("merchant_id", ID),
        _c("type", sa.String(64)),
        _c("endpoint_id", ID, True),
        _c("url", sa.Text()),
        _c("created_at", AT),
        _c("next_attempt_at", AT),
        _c("attempts", sa.Integer()),
        _c("status", sa.String(16)),
        _c("last_status_code", sa.Integer(), True),
        _c("last_error", sa.Text(), True),
        _c("delivered_at", AT, True),
        _c("traceparent", sa.String(64), True),
        _pk("webhook_deliveries", "delivery_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["event_id"])
    op.create_index(
        "ix_webhook_deliveries_merchant", "webhook_deliveries", ["merchant_id", "created_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "status"]
    )
    _move_webhook_events()
    op.drop_index("ix_webhook_events_merchant", table_name="webhook_events")
    op.drop_index("ix_webhook_events_due", table_name="webhook_events")
    op.drop_table("webhook_events")


def _move_webhook_events() -> None:
    numbered = (
        "SELECT w.*, ROW_NUMBER() OVER (PARTITION BY merchant_id ORDER BY created_at, event_id)"
        " AS seq FROM webhook_events w"
    )
    op.execute(  # constant text: no value from outside
        "INSERT INTO events (event_id, merchant_id, sequence, type, body, created_at) "  # noqa: S608
        "SELECT event_id, merchant_id, seq, type, "
        "'{\"sequence\":' || CAST(seq AS VARCHAR(20)) || ',' || SUBSTR(body, 2), created_at "
        f"FROM ({numbered}) n"
    )
    op.execute(
        "INSERT INTO webhook_deliveries (delivery_id, event_id, merchant_id, type, "
        "endpoint_id, url, created_at, next_attempt_at, attempts, status, last_status_code, "
        "last_error, delivered_at, traceparent) "
        "SELECT 'dlv_' || SUBSTR(event_id, 5), event_id, merchant_id, type, NULL, url, "
        "created_at, next_attempt_at, attempts, status, NULL, last_error, delivered_at, "
        "traceparent FROM webhook_events"
    )
    op.execute(
        "INSERT INTO event_streams (merchant_id, last_sequence) "
        "SELECT merchant_id, COUNT(*) FROM webhook_events GROUP BY merchant_id"
    )


def downgrade() -> None:
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
        _c("traceparent", sa.String(64), True),
        _pk("webhook_events", "event_id"),
    )
    op.create_index("ix_webhook_events_due", "webhook_events", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_events_merchant", "webhook_events", ["merchant_id", "created_at"])
    # one row per event: its notify_url delivery (one of them, if it was redelivered)
    op.execute(
        "INSERT INTO webhook_events (event_id, merchant_id, type, url, body, created_at, "
        "next_attempt_at, attempts, status, last_error, delivered_at, traceparent) "
        "SELECT d.event_id, d.merchant_id, d.type, d.url, e.body, e.created_at, "
        "d.next_attempt_at, d.attempts, d.status, d.last_error, d.delivered_at, d.traceparent "
        "FROM webhook_deliveries d JOIN events e ON e.event_id = d.event_id "
        "WHERE d.endpoint_id IS NULL AND d.delivery_id = ("
        "SELECT MAX(l.delivery_id) FROM webhook_deliveries l "
        "WHERE l.event_id = d.event_id AND l.endpoint_id IS NULL)"
    )
    for index, table in (
        ("ix_webhook_deliveries_endpoint", "webhook_deliveries"),
        ("ix_webhook_deliveries_merchant", "webhook_deliveries"),
        ("ix_webhook_deliveries_event", "webhook_deliveries"),
        ("ix_webhook_deliveries_due", "webhook_deliveries"),
        ("ix_webhook_endpoints_merchant", "webhook_endpoints"),
        ("ix_events_created", "events"),
        ("ix_events_merchant_type", "events"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "webhook_deliveries", "webhook_endpoints", "event_publisher", "event_streams", "events",
        "outbox",
    ):
        op.drop_table(table)

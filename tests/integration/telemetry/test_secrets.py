"""No card number, CVC, merchant secret or request signature at rest or in any log.

A traced deployment (`paygate serve` with its background worker, and `paygate serve-risk`)
takes payments that succeed, fail and are refused for bad input, a replayed idempotent
request, a request with a forged signature and a refund, while the worker tries to
deliver webhooks to a merchant that does not answer. Then every byte either process
wrote to stdout/stderr, every exported span, every column of every table of the SQLite
database, and the raw database files are searched for the secrets.
"""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from gateway_client import payment_body
from process_harness import free_port, wait_for
from signed import SIGNATURES_SENT, send
from traces import Deployment

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CVC = "123"
CVC_NEAR_NAME = re.compile(r"(?i)cv[cv2]\W{0,12}" + CVC + r"(?!\d)")
"""The CVC is three common digits: it is searched for next to its field name."""


def database_dump(path: Path) -> str:
    """Every column of every row of every table, as text."""
    lines = []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]
            lines.append(f"{table}: {columns}")
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                lines.append(
                    " | ".join(
                        value.decode("latin-1") if isinstance(value, bytes) else str(value)
                        for value in row
                    )
                )
    return "\n".join(lines)


def delivery_attempts(path: Path) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
        query = "SELECT coalesce(sum(attempts), 0) FROM webhook_deliveries"
        return int(conn.execute(query).fetchone()[0])


def raw_files(path: Path) -> str:
    """The database file and its journals byte for byte (freed pages included)."""
    return "\n".join(
        candidate.read_bytes().decode("latin-1")
        for candidate in path.parent.glob(path.name + "*")
        if candidate.is_file()
    )


def test_no_secret_reaches_a_log_a_span_or_the_database(traced: Deployment) -> None:
    api = traced.api
    keys = api.new_merchant("Secretive Ltd")
    silent_merchant = f"http://127.0.0.1:{free_port()}/hooks"

    def pay(order_no: str, card: str, **extra: object) -> dict[str, object]:
        body = payment_body(
            order_no,
            card,
            5_000,
            notify_url=silent_merchant,
            customer={"id": "cus_1", "email": "a@example.com"},
            **extra,
        )
        response = send(
            api, keys, "POST", "/api/v1/payments", body, {"Idempotency-Key": f"idem-{order_no}"}
        )
        assert response.status_code == 201, response.text
        again = send(
            api, keys, "POST", "/api/v1/payments", body, {"Idempotency-Key": f"idem-{order_no}"}
        )
        assert again.headers.get("Idempotent-Replayed") == "true", again.text
        return dict(response.json())

    paid = pay("SECRET-1", CARD_OK)
    assert paid["status"] == "succeeded"
    assert paid["card"] == {"brand": "visa", "last4": "4242"}
    declined = pay("SECRET-2", CARD_DECLINED)
    assert declined["status"] == "failed"

    invalid = payment_body("SECRET-3", CARD_OK, -5)
    assert send(api, keys, "POST", "/api/v1/payments", invalid).status_code == 422
    malformed = (
        '{"order_no": "SECRET-4", "amount": "x", "payment_method": '
        f'{{"type": "card", "number": "{CARD_OK}", "cvc": "{CVC}"'
    ).encode()
    assert send(api, keys, "POST", "/api/v1/payments", raw=malformed).status_code == 400

    forged = payment_body("SECRET-5", CARD_OK, 5_000)
    bad = send(api, keys, "POST", "/api/v1/payments", forged, {"X-Signature": "ab" * 32})
    assert bad.status_code == 401, bad.text
    SIGNATURES_SENT.append("ab" * 32)

    target = f"/api/v1/payments/{paid['payment_no']}/refunds"
    refund = send(api, keys, "POST", target, {"amount": 1_000, "reason": "customer asked"})
    assert refund.status_code == 201, refund.text

    db = traced.workdir / "paygate.db"
    wait_for(
        "the worker's first attempt at the unreachable merchant webhook",
        lambda: delivery_attempts(db) > 0,
        timeout=15,
    )
    traced.spans.wait_for_trace(refund.headers["X-Trace-ID"], {"CreateRefund"})
    time.sleep(0.3)  # the last log lines of the worker's attempt

    logs = {process.name: process.output() for process in traced.processes}
    spans = b"\n".join(traced.spans.received.bodies).decode("latin-1")
    places = {
        **{f"log of {name}": text for name, text in logs.items()},
        "exported spans": spans,
        "database rows": database_dump(db),
        "database files": raw_files(db),
    }
    # The scan sees real data: the payment is in the database, its trace in the log.
    assert paid["payment_no"] in places["database rows"]
    assert "4242" in places["database rows"]
    assert paid["payment_no"] in spans
    assert logs["gateway"].strip(), "the gateway logged nothing: the scan proves nothing"

    secrets = {
        "card number": CARD_OK,
        "declined card number": CARD_DECLINED,
        "api_secret": keys.api_secret,
        "webhook_secret": keys.webhook_secret,
        **{f"X-Signature {value[:8]}…": value for value in SIGNATURES_SENT},
    }
    leaks = [
        f"{what} in {place}"
        for place, text in places.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    leaks += [f"the CVC in {place}" for place, text in places.items() if CVC_NEAR_NAME.search(text)]
    assert not leaks, leaks

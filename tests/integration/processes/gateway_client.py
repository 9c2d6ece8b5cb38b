"""Talking to a running gateway over real HTTP, and reading its SQLite files directly.

Merchant requests are signed with `entrypoints.cli.signing.signed_headers`, the scheme the
contract fixes; the admin API gets the bearer token. `Rows` opens a database file read-only
with the standard library, so a test sees what a process committed, not what it answered.
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from process_harness import PaygateProcess, sqlite_url

from entrypoints.cli.signing import signed_headers

ADMIN_TOKEN = "admin-token-for-the-process-suite"
SANDBOX_SECRET = "sandbox-secret-for-the-process-suite"

_REQUESTS = re.compile(
    r'^\w*http_requests_total\{(?P<labels>(?:[^"}]|"[^"]*")*)\} (?P<value>\S+)$', re.M
)
_LABEL = re.compile(r'(\w+)="([^"]*)"')

CARD_OK = "4242424242424242"
CARD_UNKNOWN = "4000000000000259"
CARD_REVIEW = "4000000000004954"
CARD_RISK_REJECT = "4100000000000019"
CARD_CAPTURE_UNKNOWN = "4000000000001000"


@dataclass(frozen=True, slots=True)
class Keys:
    merchant_id: str
    api_key: str
    api_secret: str
    webhook_secret: str


def gateway_env(workdir: Path, master_key: str, **settings: str) -> dict[str, str]:
    """What a deployment exports for `paygate serve`, its CLI and `paygate worker`."""
    return {
        "PAYGATE_DATABASE_URL": sqlite_url(workdir / "paygate.db"),
        "PAYGATE_MASTER_KEY": master_key,
        "PAYGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "PAYGATE_SANDBOX_SECRET": SANDBOX_SECRET,
        "PAYGATE_WEBHOOK_ALLOW_PRIVATE": "on",  # the tests' merchants listen on 127.0.0.1
        **settings,
    }


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def payment_body(order_no: str, card: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "order_no": order_no,
        "amount": amount,
        "currency": "USD",
        "channel": "sandbox",
        "payment_method": {
            "type": "card",
            "number": card,
            "exp_month": 12,
            "exp_year": 2030,
            "cvc": "123",
        },
        **extra,
    }


class Gateway:
    """A client of one running `paygate serve`."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def admin(self, path: str, body: Any) -> httpx.Response:
        """POST to the admin API with the bearer token."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
        return self.http.post(path, content=encode(body), headers=headers)

    def new_merchant(self, name: str = "Acme Ltd") -> Keys:
        response = self.admin("/admin/v1/merchants", {"name": name})
        assert response.status_code == 201, response.text
        return Keys(**response.json())

    def call(self, keys: Keys, method: str, target: str, body: Any = None) -> httpx.Response:
        raw = b"" if body is None else encode(body)
        headers = signed_headers(keys.api_key, keys.api_secret, method, target, raw)
        if raw:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, target, content=raw or None, headers=headers)

    def pay(
        self, keys: Keys, order_no: str, card: str = CARD_OK, amount: int = 10_000, **extra: Any
    ) -> dict[str, Any]:
        body = payment_body(order_no, card, amount, **extra)
        response = self.call(keys, "POST", "/api/v1/payments", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def refund(self, keys: Keys, payment_no: str, amount: int) -> dict[str, Any]:
        target = f"/api/v1/payments/{payment_no}/refunds"
        response = self.call(keys, "POST", target, {"amount": amount})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def payment(self, keys: Keys, payment_no: str) -> dict[str, Any]:
        response = self.call(keys, "GET", f"/api/v1/payments/{payment_no}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def ready(self) -> httpx.Response:
        return self.http.get("/health/ready")


def requests_served(base_url: str, route_prefix: str) -> int:
    """How many requests a process says (on /metrics) it answered on routes under a prefix."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    total = 0.0
    for match in _REQUESTS.finditer(text):
        if dict(_LABEL.findall(match["labels"])).get("path", "").startswith(route_prefix):
            total += float(match["value"])
    return int(total)


@dataclass(frozen=True, slots=True)
class Deployment:
    """A running gateway: its process, an HTTP client, its database and its environment."""

    process: PaygateProcess
    api: Gateway
    rows: Rows
    env: dict[str, str]
    workdir: Path


class Rows:
    """Read-only queries on one SQLite database file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        uri = f"file:{self.path}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=5)) as conn:
            return list(conn.execute(sql, params).fetchall())

    def one(self, sql: str, *params: Any) -> tuple[Any, ...]:
        rows = self.all(sql, *params)
        assert len(rows) == 1, rows
        return rows[0]

    def count(self, table: str) -> int:
        return int(self.one(f"SELECT count(*) FROM {table}")[0])

    def waiting_entries(self, merchant_id: str | None = None) -> int:
        """Outbox entries not yet published: one line each on their payment's row."""
        lines = "length(unpublished) - length(replace(unpublished, char(10), ''))"
        where = "" if merchant_id is None else " WHERE merchant_id = ?"
        params = () if merchant_id is None else (merchant_id,)
        return int(self.one(f"SELECT coalesce(sum({lines}), 0) FROM payments{where}",
                            *params)[0])

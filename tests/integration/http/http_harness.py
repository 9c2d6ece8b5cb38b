"""A paygate HTTP app on a real database, driven through its ASGI interface.

`Api` signs merchant requests the way the contract says, speaks to the admin API with
the bearer token, and counts rows straight from the database so a test can prove that a
refused request wrote nothing.

The client is httpx's `ASGITransport`, which runs the app on the test's own event loop:
requests can truly overlap (the idempotency and duplicate-order races need that), and it
hands the app an ASGI `raw_path` without the query string, as uvicorn does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence.schema import (
    audit_log,
    events,
    idempotency_keys,
    ledger_entries,
    merchants,
    operators,
    orders,
    payment_attempts,
    payments,
    refunds,
    routing_rules,
    settlements,
    webhook_deliveries,
    webhook_endpoints,
)
from entrypoints.cli.signing import signed_headers
from entrypoints.container import Container

ADMIN_TOKEN = "admin-token-for-the-http-suite"
SANDBOX_SECRET = "sandbox-secret-for-the-http-suite"
BASE_URL = "http://paygate.test"

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NO_FUNDS = "4000000000009995"
CARD_ERROR = "4000000000000119"
CARD_UNKNOWN = "4000000000000259"
CARD_REVIEW = "4000000000004954"
CARD_RISK_REJECT = "4100000000000019"

COUNTED_TABLES = {
    "merchants": merchants,
    "payments": payments,
    "refunds": refunds,
    "ledger_entries": ledger_entries,
    "idempotency_keys": idempotency_keys,
    "orders": orders,
    "settlements": settlements,
    "events": events,
    "webhook_endpoints": webhook_endpoints,
    "webhook_deliveries": webhook_deliveries,
    "operators": operators,
    "audit_log": audit_log,
    "payment_attempts": payment_attempts,
    "routing_rules": routing_rules,
}


@dataclass(frozen=True, slots=True)
class Keys:
    merchant_id: str
    api_key: str
    api_secret: str
    webhook_secret: str


class FakeClock:
    """A clock a test can move; paygate reads time only through its `Clock` port."""

    def __init__(self, moment: datetime | None = None) -> None:
        self.moment = moment or datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment


def payment_body(
    order_no: str = "ORDER-001",
    amount: Any = 10_000,
    *,
    currency: str = "USD",
    card: str = CARD_OK,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "order_no": order_no,
        "amount": amount,
        "currency": currency,
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


def encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape, with this status and code; returns the `error` object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "trace_id", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str), error
    assert error["message"].strip(), error
    assert isinstance(error["details"], list), error
    assert_trace_id(response, error)
    return error


def assert_trace_id(response: httpx.Response, error: dict[str, Any] | None = None) -> None:
    """`X-Trace-ID` is checked where the app sends it; then the error body names the same id,
    except in a replay, whose body is the first response's, byte for byte."""
    trace_id = response.headers.get("x-trace-id")
    if trace_id is None:
        return
    assert trace_id.strip(), response.headers
    replayed = response.headers.get("idempotent-replayed") == "true"
    if error is not None and error["trace_id"] is not None and not replayed:
        assert error["trace_id"] == trace_id


class Api:
    def __init__(self, client: httpx.AsyncClient, container: Container, engine: AsyncEngine):
        self.client, self.container, self._engine = client, container, engine

    async def admin(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = ADMIN_TOKEN,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {token}"} if token is not None else {}
        content = None if body is None else (body if isinstance(body, bytes) else encode(body))
        if content is not None:
            sent["Content-Type"] = "application/json"
        return await self.client.request(
            method, path, content=content, headers={**sent, **(headers or {})}
        )

    async def new_merchant(self, name: str = "Acme Ltd") -> Keys:
        response = await self.admin("POST", "/admin/v1/merchants", {"name": name})
        assert response.status_code == 201, response.text
        return Keys(**response.json())

    async def call(
        self,
        keys: Keys,
        method: str,
        target: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """A request signed with `keys`, over exactly these body bytes and this target."""
        raw = b"" if body is None else (body if isinstance(body, bytes) else encode(body))
        signed = signed_headers(keys.api_key, keys.api_secret, method, target, raw, timestamp)
        sent = {**signed, **({"Content-Type": "application/json"} if raw else {})}
        return await self.client.request(
            method, target, content=raw or None, headers={**sent, **(headers or {})}
        )

    async def pay(self, keys: Keys, order_no: str = "ORDER-001", **fields: Any) -> dict[str, Any]:
        response = await self.call(
            keys, "POST", "/api/v1/payments", payment_body(order_no, **fields)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def refund(
        self, keys: Keys, payment_no: str, body: Any = None, **options: Any
    ) -> httpx.Response:
        return await self.call(
            keys, "POST", f"/api/v1/payments/{payment_no}/refunds", body, **options
        )

    async def counts(self) -> dict[str, int]:
        """Rows per table, read over a connection of the test's own."""
        async with self._engine.connect() as conn:
            return {
                name: int(
                    (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                )
                for name, table in COUNTED_TABLES.items()
            }

    async def age_idempotency_claims(self, seconds: int) -> None:
        """Date every key's claim `seconds` ago, as if that long had gone by since."""
        claimed = datetime.now(UTC) - timedelta(seconds=seconds)
        async with self._engine.begin() as conn:
            await conn.execute(update(idempotency_keys).values(created_at=claimed))

    async def ledger_balance(self) -> dict[str, tuple[int, int]]:
        """(debits, credits) per currency over the whole ledger."""
        t = ledger_entries
        query = select(t.c.currency, t.c.side, func.sum(t.c.amount)).group_by(
            t.c.currency, t.c.side
        )
        totals: dict[str, list[int]] = {}
        async with self._engine.connect() as conn:
            for currency, side, amount in await conn.execute(query):
                totals.setdefault(currency.strip(), [0, 0])[side == "credit"] += int(amount)
        return {currency: (d, c) for currency, (d, c) in totals.items()}


async def gather_responses(*calls: Awaitable[httpx.Response]) -> list[httpx.Response]:
    return list(await asyncio.wait_for(asyncio.gather(*calls), timeout=30))


ApiFactory = Callable[..., Awaitable[Api]]

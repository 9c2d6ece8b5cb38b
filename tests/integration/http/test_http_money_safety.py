"""Money safety through the API, on SQLite and on PostgreSQL.

Requests here truly overlap (the app runs on the test's event loop), so these are the
races that the database constraints and row locks must win, not Python code.
"""

from __future__ import annotations

from collections import Counter

import pytest
from dependency_injector import providers
from http_fakes import BarrierRisk
from http_harness import (
    CARD_DECLINED,
    CARD_REVIEW,
    CARD_UNKNOWN,
    Api,
    ApiFactory,
    assert_error,
    encode,
    gather_responses,
    payment_body,
)

from adapters.risk.engine import RuleEngine
from adapters.risk.settings import RiskSettings

PAYMENTS = "/api/v1/payments"
RACERS = 6


@pytest.fixture
async def api(open_api: ApiFactory, any_db_url: str) -> Api:
    return await open_api(any_db_url)


async def test_a_payment_and_its_refunds_end_to_end(api: Api) -> None:
    keys = await api.new_merchant()
    payment = await api.pay(keys, "ORDER-E2E", amount=10_000)

    partial = await api.refund(keys, payment["payment_no"], {"amount": 2_500, "reason": "late"})
    too_much = await api.refund(keys, payment["payment_no"], {"amount": 7_501})
    rest = await api.refund(keys, payment["payment_no"])
    listed = await api.call(keys, "GET", f"{PAYMENTS}/{payment['payment_no']}/refunds")
    final = await api.call(keys, "GET", f"{PAYMENTS}/{payment['payment_no']}")

    assert (partial.status_code, partial.json()["status"]) == (201, "succeeded")
    refused = assert_error(too_much, 422, "amount_exceeded")
    assert refused["details"] == [{"remaining": 7_500, "currency": "USD"}]
    assert rest.json()["amount"] == 7_500
    assert len(listed.json()["data"]) == 2
    assert (final.json()["status"], final.json()["refunded_amount"]) == ("refunded", 10_000)
    counts = await api.counts()
    assert (counts["payments"], counts["refunds"]) == (1, 2)
    debits, credits = (await api.ledger_balance())["USD"]
    assert debits == credits > 0


async def test_a_mixed_day_leaves_a_balanced_ledger_in_every_currency(api: Api) -> None:
    keys = await api.new_merchant()
    usd = await api.pay(keys, "O-USD", amount=12_345)
    eur = await api.pay(keys, "O-EUR", amount=999, currency="EUR")
    jpy = await api.pay(keys, "O-JPY", amount=5_000, currency="JPY")
    await api.pay(keys, "O-DECLINED", amount=700, card=CARD_DECLINED)
    await api.pay(keys, "O-LOST", amount=800, card=CARD_UNKNOWN)
    review = await api.pay(keys, "O-REVIEW", amount=1_500, card=CARD_REVIEW)
    await api.admin(
        "POST", f"/admin/v1/payments/{review['payment_no']}/review", {"decision": "approve"}
    )
    await api.refund(keys, usd["payment_no"], {"amount": 345})
    await api.refund(keys, usd["payment_no"], {"amount": 13})  # the sandbox declines 13
    await api.refund(keys, eur["payment_no"])
    await api.refund(keys, jpy["payment_no"], {"amount": 1})
    await api.refund(keys, review["payment_no"], {"amount": 500})

    balance = await api.ledger_balance()

    assert set(balance) == {"USD", "EUR", "JPY"}
    for currency, (debits, credits) in balance.items():
        assert debits == credits, (currency, debits, credits)
        assert debits > 0


async def test_a_duplicate_order_racing_through_the_api_makes_exactly_one_payment(
    open_api: ApiFactory, any_db_url: str
) -> None:
    """Every racer passes the duplicate check before any of them inserts its payment."""
    barrier = BarrierRisk(RuleEngine(RiskSettings(fingerprint_key="k" * 32)), RACERS)
    api = await open_api(
        any_db_url, adapt=lambda c: c.gateways.risk.override(providers.Object(barrier))
    )
    keys = await api.new_merchant()
    bodies = [encode(payment_body("ORDER-RACE", 1_000 + i)) for i in range(RACERS)]

    responses = await gather_responses(*(api.call(keys, "POST", PAYMENTS, b) for b in bodies))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: RACERS - 1}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_error(refused, 409, "duplicate_order")
    counts = await api.counts()
    assert (counts["payments"], counts["orders"]) == (1, 1)


async def test_the_same_idempotency_key_racing_makes_exactly_one_payment(api: Api) -> None:
    keys = await api.new_merchant()
    body = encode(payment_body("ORDER-KEYED"))
    headers = {"Idempotency-Key": "race"}

    responses = await gather_responses(
        *(api.call(keys, "POST", PAYMENTS, body, headers=headers) for _ in range(RACERS))
    )

    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    assert {r.json()["payment_no"] for r in created} == {created[0].json()["payment_no"]}
    for other in responses:
        if other.status_code != 201:
            assert_error(other, 409, "idempotency_key_in_use")
    assert (await api.counts())["payments"] == 1


async def test_concurrent_refunds_never_exceed_the_payment(api: Api) -> None:
    keys = await api.new_merchant()
    payment = await api.pay(keys, amount=10_000)

    # each its own request: the same signed bytes twice would be one request sent twice
    responses = await gather_responses(*(
        api.refund(keys, payment["payment_no"], {"amount": 3_000, "reason": f"racer {i}"})
        for i in range(RACERS)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 3, 422: RACERS - 3}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 422):
        assert_error(refused, 422, "amount_exceeded")
    final = (await api.call(keys, "GET", f"{PAYMENTS}/{payment['payment_no']}")).json()
    assert (final["status"], final["refunded_amount"]) == ("partially_refunded", 9_000)
    assert (await api.counts())["refunds"] == 3
    debits, credits = (await api.ledger_balance())["USD"]
    assert debits == credits

"""Races on one authorization, and on one failed order, through the API on SQLite and
PostgreSQL: requests truly overlap, and the database decides who wins."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from http_harness import (
    CARD_DECLINED,
    Api,
    ApiFactory,
    Keys,
    assert_error,
    encode,
    gather_responses,
    payment_body,
)

PAYMENTS = "/api/v1/payments"


@pytest.fixture
async def api(open_api: ApiFactory, any_db_url: str) -> Api:
    return await open_api(any_db_url)


@pytest.fixture
async def keys(api: Api) -> Keys:
    return await api.new_merchant("Racing Ltd")


def sandbox_moves(api: Api, payment_no: str) -> int:
    sandbox = api.container.gateways.channels()["sandbox"]
    return int(sandbox.moves_for(f"capture-{payment_no}") + sandbox.moves_for(f"void-{payment_no}"))


async def authorized(api: Api, keys: Keys) -> str:
    return str((await api.pay(keys, "ORDER-HOLD", capture_method="manual"))["payment_no"])


async def test_a_capture_and_a_cancel_at_once_one_wins_the_other_is_invalid_status(
    api: Api, keys: Keys
) -> None:
    payment_no = await authorized(api, keys)

    capture, cancel = await gather_responses(
        api.call(keys, "POST", f"{PAYMENTS}/{payment_no}/capture", {}),
        api.call(keys, "POST", f"{PAYMENTS}/{payment_no}/cancel", {}),
    )

    assert sorted([capture.status_code, cancel.status_code]) == [200, 409]
    loser = cancel if cancel.status_code == 409 else capture
    assert_error(loser, 409, "invalid_status")
    final = (await api.call(keys, "GET", f"{PAYMENTS}/{payment_no}")).json()
    if capture.status_code == 200:
        assert (final["status"], final["amount_captured"]) == ("succeeded", 10_000)
    else:
        assert (final["status"], final["amount_captured"]) == ("canceled", 0)
    assert sandbox_moves(api, payment_no) == 1


async def test_thirty_captures_at_once_capture_exactly_once(api: Api, keys: Keys) -> None:
    payment_no = await authorized(api, keys)
    target = f"{PAYMENTS}/{payment_no}/capture"

    responses = await gather_responses(
        *(api.call(keys, "POST", target, {"amount_to_capture": 1_000 + n}) for n in range(30))
    )

    tally = Counter(r.status_code for r in responses)
    assert tally == {200: 1, 409: 29}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_error(refused, 409, "invalid_status")
    [winner] = [r.json() for r in responses if r.status_code == 200]
    assert (await api.ledger_balance())["USD"] == (winner["amount_captured"],) * 2
    assert sandbox_moves(api, payment_no) == 1


async def test_a_declined_order_is_paid_with_another_card(api: Api, keys: Keys) -> None:
    declined = await api.pay(keys, "ORDER-RETRY", card=CARD_DECLINED)

    again = await api.pay(keys, "ORDER-RETRY")

    assert (declined["status"], again["status"]) == ("failed", "succeeded")
    listed = await api.call(keys, "GET", f"{PAYMENTS}?order_no=ORDER-RETRY")
    assert {p["payment_no"] for p in listed.json()["data"]} == {
        declined["payment_no"], again["payment_no"]}
    signed_again = int(time.time()) - 60  # the same body, signed afresh
    duplicate = await api.call(keys, "POST", PAYMENTS, payment_body("ORDER-RETRY"),
                               timestamp=signed_again)
    error = assert_error(duplicate, 409, "duplicate_order")
    assert error["details"] == [{"order_no": "ORDER-RETRY", "payment_no": again["payment_no"]}]


async def test_an_order_held_by_an_authorization_is_a_duplicate_naming_it(
    api: Api, keys: Keys
) -> None:
    payment_no = await authorized(api, keys)
    before = await api.counts()

    response = await api.call(keys, "POST", PAYMENTS, payment_body("ORDER-HOLD"))

    error = assert_error(response, 409, "duplicate_order")
    assert error["details"] == [{"order_no": "ORDER-HOLD", "payment_no": payment_no}]
    assert await api.counts() == before


async def test_forty_retries_of_a_declined_order_at_once_make_one_payment(
    api: Api, keys: Keys
) -> None:
    declined = await api.pay(keys, "ORDER-40", card=CARD_DECLINED)
    bodies = [encode(payment_body("ORDER-40", 1_000 + n)) for n in range(40)]

    responses = await gather_responses(*(api.call(keys, "POST", PAYMENTS, b) for b in bodies))

    tally = Counter(r.status_code for r in responses)
    assert tally == {201: 1, 409: 39}, [r.text for r in responses][:3]
    [winner] = [r.json()["payment_no"] for r in responses if r.status_code == 201]
    for refused in (r for r in responses if r.status_code == 409):
        assert assert_error(refused, 409, "duplicate_order")["details"] == [
            {"order_no": "ORDER-40", "payment_no": winner}]
    listed: Any = (await api.call(keys, "GET", f"{PAYMENTS}?order_no=ORDER-40")).json()
    assert sorted((p["payment_no"], p["status"]) for p in listed["data"]) == sorted(
        [(declined["payment_no"], "failed"), (winner, "succeeded")])

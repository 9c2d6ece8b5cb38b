"""Refunds through the merchant API: full, partial, several, and every refusal."""

from __future__ import annotations

import asyncio

import pytest
from dependency_injector import providers
from http_fakes import HeldChannel
from http_harness import (
    CARD_DECLINED,
    CARD_REVIEW,
    CARD_RISK_REJECT,
    CARD_UNKNOWN,
    SANDBOX_SECRET,
    Api,
    ApiFactory,
    Keys,
    assert_error,
    payment_body,
)

from adapters.channel.sandbox import SandboxChannel

REFUND_FIELDS = {
    "refund_no",
    "payment_no",
    "amount",
    "currency",
    "status",
    "reason",
    "failure_code",
    "created_at",
}


async def payment_status(api: Api, keys: Keys, payment_no: str) -> tuple[str, int]:
    payment = (await api.call(keys, "GET", f"/api/v1/payments/{payment_no}")).json()
    return payment["status"], payment["refunded_amount"]


async def test_a_refund_without_an_amount_refunds_the_whole_payment(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant, amount=10_000)

    response = await api.refund(merchant, payment["payment_no"], {"reason": "changed mind"})

    assert response.status_code == 201, response.text
    refund = response.json()
    assert set(refund) >= REFUND_FIELDS
    assert refund["refund_no"].startswith("ref_")
    assert (refund["payment_no"], refund["amount"], refund["currency"]) == (
        payment["payment_no"],
        10_000,
        "USD",
    )
    assert (refund["status"], refund["reason"], refund["failure_code"]) == (
        "succeeded",
        "changed mind",
        None,
    )
    assert await payment_status(api, merchant, payment["payment_no"]) == ("refunded", 10_000)


async def test_an_empty_body_also_refunds_everything_that_is_left(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=700)
    await api.refund(merchant, payment["payment_no"], {"amount": 200})

    response = await api.refund(merchant, payment["payment_no"])

    assert response.status_code == 201, response.text
    assert response.json()["amount"] == 500
    assert await payment_status(api, merchant, payment["payment_no"]) == ("refunded", 700)


async def test_several_partial_refunds_add_up_to_a_full_refund(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=10_000)
    payment_no = payment["payment_no"]

    first = await api.refund(merchant, payment_no, {"amount": 2_500})
    assert first.status_code == 201, first.text
    assert await payment_status(api, merchant, payment_no) == ("partially_refunded", 2_500)
    second = await api.refund(merchant, payment_no, {"amount": 7_000})
    assert await payment_status(api, merchant, payment_no) == ("partially_refunded", 9_500)
    third = await api.refund(merchant, payment_no, {"amount": 500})

    assert [r.json()["amount"] for r in (first, second, third)] == [2_500, 7_000, 500]
    assert await payment_status(api, merchant, payment_no) == ("refunded", 10_000)
    assert (await api.counts())["refunds"] == 3


async def test_a_refund_above_what_is_left_is_amount_exceeded_and_names_the_remainder(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant, amount=10_000)
    await api.refund(merchant, payment["payment_no"], {"amount": 6_000})
    before = await api.counts()

    response = await api.refund(merchant, payment["payment_no"], {"amount": 4_001})

    error = assert_error(response, 422, "amount_exceeded")
    assert error["details"] == [{"remaining": 4_000, "currency": "USD"}]
    assert "40.00" in error["message"]
    assert await api.counts() == before
    assert await payment_status(api, merchant, payment["payment_no"]) == (
        "partially_refunded",
        6_000,
    )


async def test_a_fully_refunded_payment_cannot_be_refunded_again(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=1_000)
    await api.refund(merchant, payment["payment_no"])

    response = await api.refund(merchant, payment["payment_no"], {"amount": 1})

    assert_error(response, 409, "invalid_status")


@pytest.mark.parametrize("amount", [0, -1, -10_000])
async def test_a_refund_of_zero_or_less_is_invalid_amount(
    api: Api, merchant: Keys, amount: int
) -> None:
    payment = await api.pay(merchant)
    before = await api.counts()

    response = await api.refund(merchant, payment["payment_no"], {"amount": amount})

    assert_error(response, 422, "invalid_amount")
    assert await api.counts() == before


@pytest.mark.parametrize(
    ("card", "status"),
    [
        (CARD_DECLINED, "failed"),
        (CARD_UNKNOWN, "processing"),
        (CARD_REVIEW, "requires_review"),
        (CARD_RISK_REJECT, "rejected"),
    ],
)
async def test_only_captured_payments_can_be_refunded(
    api: Api, merchant: Keys, card: str, status: str
) -> None:
    payment = await api.pay(merchant, card=card)
    assert payment["status"] == status
    before = await api.counts()

    full = await api.refund(merchant, payment["payment_no"])
    partial = await api.refund(merchant, payment["payment_no"], {"amount": 100})

    assert_error(full, 409, "invalid_status")
    assert_error(partial, 409, "invalid_status")
    assert await api.counts() == before


async def test_a_refund_the_channel_declines_is_failed_and_frees_the_amount(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant, amount=1_000)

    declined = await api.refund(merchant, payment["payment_no"], {"amount": 13})
    retried = await api.refund(merchant, payment["payment_no"])

    assert declined.status_code == 201, declined.text
    assert (declined.json()["status"], declined.json()["failure_code"]) == (
        "failed",
        "refund_declined",
    )
    assert retried.json()["amount"] == 1_000
    assert await payment_status(api, merchant, payment["payment_no"]) == ("refunded", 1_000)


async def test_a_refund_is_read_back_and_listed_under_its_payment(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=9_000)
    other = await api.pay(merchant, "ORDER-OTHER", amount=500)
    made = [
        (await api.refund(merchant, payment["payment_no"], {"amount": a})).json()
        for a in (1_000, 2_000, 3_000)
    ]
    await api.refund(merchant, other["payment_no"])

    one = await api.call(merchant, "GET", f"/api/v1/refunds/{made[0]['refund_no']}")
    listed = await api.call(merchant, "GET", f"/api/v1/payments/{payment['payment_no']}/refunds")

    assert one.status_code == 200, one.text
    assert one.json() == made[0]
    assert listed.status_code == 200, listed.text
    assert sorted(r["refund_no"] for r in listed.json()["data"]) == sorted(
        r["refund_no"] for r in made
    )
    assert listed.json()["next_cursor"] is None


async def test_the_refunds_of_a_payment_are_paged(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=9_000)
    for i in range(3):
        await api.refund(merchant, payment["payment_no"], {"amount": 100, "reason": f"r{i}"})
    target = f"/api/v1/payments/{payment['payment_no']}/refunds"

    first = (await api.call(merchant, "GET", f"{target}?limit=2")).json()
    rest = (
        await api.call(merchant, "GET", f"{target}?limit=2&cursor={first['next_cursor']}")
    ).json()

    assert len(first["data"]) == 2
    assert first["next_cursor"]
    assert len(rest["data"]) == 1
    assert rest["next_cursor"] is None
    assert len({r["refund_no"] for r in first["data"] + rest["data"]}) == 3


async def test_unknown_refunds_and_the_refunds_of_unknown_payments_are_not_found(
    api: Api, merchant: Keys
) -> None:
    assert_error(await api.call(merchant, "GET", "/api/v1/refunds/ref_nope"), 404, "not_found")
    assert_error(
        await api.call(merchant, "GET", "/api/v1/payments/pay_nope/refunds"), 404, "not_found"
    )
    assert_error(await api.refund(merchant, "pay_nope", {"amount": 1}), 404, "not_found")


async def test_a_payment_still_pending_cannot_be_refunded(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    held = HeldChannel(SandboxChannel(secret=SANDBOX_SECRET))
    api = await open_api(
        http_sqlite_url,
        adapt=lambda c: c.gateways.channels.override(providers.Object({"sandbox": held})),
    )
    keys = await api.new_merchant()
    charging = asyncio.create_task(api.call(keys, "POST", "/api/v1/payments", payment_body()))
    await asyncio.wait_for(held.entered.wait(), timeout=10)
    pending = (await api.call(keys, "GET", "/api/v1/payments")).json()["data"][0]
    before = await api.counts()

    refused = await api.refund(keys, pending["payment_no"], {"amount": 100})
    held.gate.set()
    finished = await asyncio.wait_for(charging, timeout=10)

    assert pending["status"] == "pending"
    assert_error(refused, 409, "invalid_status")
    assert (await api.counts())["refunds"] == before["refunds"] == 0
    assert finished.json()["status"] == "succeeded"

"""Idempotency-Key: run once, replay after, refuse a different body or a running request."""

from __future__ import annotations

import asyncio

import pytest
from dependency_injector import providers
from http_fakes import DownRisk, HeldChannel
from http_harness import (
    SANDBOX_SECRET,
    Api,
    ApiFactory,
    Keys,
    assert_error,
    encode,
    payment_body,
)

from adapters.channel.sandbox import SandboxChannel
from adapters.persistence.idempotency import SqlIdempotencyStore
from application.errors import Unavailable

PAYMENTS = "/api/v1/payments"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_the_same_key_and_body_replays_the_first_response_and_creates_nothing(
    api: Api, merchant: Keys
) -> None:
    body = encode(payment_body("ORDER-IDEM"))
    first = await api.call(merchant, "POST", PAYMENTS, body, headers=key("k-1"))
    after_first = await api.counts()

    again = await api.call(merchant, "POST", PAYMENTS, body, headers=key("k-1"))

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert await api.counts() == after_first
    assert after_first["payments"] == 1


async def test_the_same_key_with_another_body_is_idempotency_key_reused(
    api: Api, merchant: Keys
) -> None:
    await api.call(merchant, "POST", PAYMENTS, payment_body("ORDER-1"), headers=key("k-2"))
    before = await api.counts()

    response = await api.call(
        merchant, "POST", PAYMENTS, payment_body("ORDER-1", 999), headers=key("k-2")
    )

    assert_error(response, 422, "idempotency_key_reused")
    assert await api.counts() == before


async def test_the_same_key_on_another_route_is_idempotency_key_reused(
    api: Api, merchant: Keys
) -> None:
    payment = await api.pay(merchant, amount=1_000)
    await api.call(merchant, "POST", PAYMENTS, payment_body("ORDER-2"), headers=key("k-3"))

    response = await api.refund(merchant, payment["payment_no"], headers=key("k-3"))

    assert_error(response, 422, "idempotency_key_reused")
    assert (await api.counts())["refunds"] == 0


async def test_an_error_response_is_replayed_too(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=1_000)
    target = f"{PAYMENTS}/{payment['payment_no']}/refunds"

    first = await api.call(merchant, "POST", target, {"amount": 1_001}, headers=key("k-4"))
    again = await api.call(merchant, "POST", target, {"amount": 1_001}, headers=key("k-4"))

    assert_error(first, 422, "amount_exceeded")
    assert_error(again, 422, "amount_exceeded")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content


async def test_a_refund_with_a_key_is_made_once(api: Api, merchant: Keys) -> None:
    payment = await api.pay(merchant, amount=1_000)

    first = await api.refund(merchant, payment["payment_no"], {"amount": 300}, headers=key("r"))
    again = await api.refund(merchant, payment["payment_no"], {"amount": 300}, headers=key("r"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert (await api.counts())["refunds"] == 1


async def test_keys_belong_to_one_merchant(api: Api, merchant: Keys, other_merchant: Keys) -> None:
    body = encode(payment_body("ORDER-SAME"))

    mine = await api.call(merchant, "POST", PAYMENTS, body, headers=key("shared"))
    theirs = await api.call(other_merchant, "POST", PAYMENTS, body, headers=key("shared"))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["payment_no"] != theirs.json()["payment_no"]


@pytest.mark.parametrize("length", [1, 255])
async def test_keys_of_1_to_255_characters_are_accepted(
    api: Api, merchant: Keys, length: int
) -> None:
    response = await api.call(merchant, "POST", PAYMENTS, payment_body(), headers=key("k" * length))

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("value", ["k" * 256, "k" * 1_000])
async def test_a_key_longer_than_255_is_a_validation_error(
    api: Api, merchant: Keys, value: str
) -> None:
    response = await api.call(merchant, "POST", PAYMENTS, payment_body(), headers=key(value))

    assert_error(response, 422, "validation_error")
    counts = await api.counts()
    assert (counts["payments"], counts["idempotency_keys"]) == (0, 0)


async def test_a_request_refused_with_503_is_not_remembered(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(
        http_sqlite_url, adapt=lambda c: c.gateways.risk.override(providers.Object(DownRisk()))
    )
    merchant = await api.new_merchant()

    response = await api.call(merchant, "POST", PAYMENTS, payment_body(), headers=key("k-5"))

    assert_error(response, 503, "unavailable")
    counts = await api.counts()
    assert (counts["payments"], counts["idempotency_keys"]) == (0, 0)


async def test_the_same_key_while_the_first_request_runs_is_idempotency_key_in_use(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    held = HeldChannel(SandboxChannel(secret=SANDBOX_SECRET))
    api = await open_api(
        http_sqlite_url,
        adapt=lambda c: c.gateways.channels.override(providers.Object({"sandbox": held})),
    )
    merchant = await api.new_merchant()
    body = encode(payment_body("ORDER-SLOW"))

    first = asyncio.create_task(api.call(merchant, "POST", PAYMENTS, body, headers=key("slow")))
    await asyncio.wait_for(held.entered.wait(), timeout=10)
    meanwhile = await api.call(merchant, "POST", PAYMENTS, body, headers=key("slow"))
    held.gate.set()
    finished = await asyncio.wait_for(first, timeout=10)
    afterwards = await api.call(merchant, "POST", PAYMENTS, body, headers=key("slow"))

    assert_error(meanwhile, 409, "idempotency_key_in_use")
    assert finished.status_code == 201, finished.text
    assert finished.json()["status"] == "succeeded"
    assert afterwards.headers["idempotent-replayed"] == "true"
    assert afterwards.content == finished.content
    assert (await api.counts())["payments"] == 1


async def test_a_refund_whose_response_was_not_stored_is_made_once_however_late_the_retry(
    api: Api, merchant: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database blips as the response is stored: the merchant still gets its 201, the
    claim stays in flight, and a retry after the 60 s lease runs the request again; the
    refund made under the key answers it, and no second refund is made."""
    payment = await api.pay(merchant, amount=1_000)
    stored = SqlIdempotencyStore.complete

    async def blip(*args: object) -> None:
        monkeypatch.setattr(SqlIdempotencyStore, "complete", stored)
        raise Unavailable("the database went away")

    monkeypatch.setattr(SqlIdempotencyStore, "complete", blip)
    first = await api.refund(merchant, payment["payment_no"], {"amount": 300}, headers=key("r"))
    soon = await api.refund(merchant, payment["payment_no"], {"amount": 300}, headers=key("r"))
    await api.age_idempotency_claims(seconds=61)
    late = await api.refund(merchant, payment["payment_no"], {"amount": 300}, headers=key("r"))

    assert first.status_code == 201, first.text
    assert_error(soon, 409, "idempotency_key_in_use")
    assert late.status_code == 201, late.text
    assert late.json()["refund_no"] == first.json()["refund_no"]
    assert late.json()["status"] == "succeeded"
    assert (await api.counts())["refunds"] == 1
    shown = await api.call(merchant, "GET", f"{PAYMENTS}/{payment['payment_no']}")
    assert shown.json()["refunded_amount"] == 300

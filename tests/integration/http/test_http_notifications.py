"""Channel notifications: a good sandbox signature moves a payment; anything else does not."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from http_harness import (
    CARD_OK,
    CARD_UNKNOWN,
    SANDBOX_SECRET,
    Api,
    ApiFactory,
    Keys,
    assert_error,
)

from adapters.channel.sandbox import SandboxChannel
from adapters.channel.sandbox_notifications import sign_sandbox_notification
from application.ports.channel import ChannelEvent, Outcome, RefundRequest, RefundResult

SANDBOX = "/api/v1/channels/sandbox/notifications"


def signed(
    kind: str,
    payment_no: str,
    *,
    refund_no: str | None = None,
    failure_code: str | None = None,
    secret: str = SANDBOX_SECRET,
    at: int | None = None,
    event_id: str = "evt_1",
) -> tuple[bytes, dict[str, str]]:
    event = ChannelEvent(event_id, kind, payment_no, refund_no, failure_code=failure_code)
    return sign_sandbox_notification(event, secret, int(time.time()) if at is None else at)


async def notify(api: Api, body: bytes, headers: dict[str, Any]) -> httpx.Response:
    return await api.client.post(SANDBOX, content=body, headers=headers)


async def snapshot(api: Api, keys: Keys, payment_no: str) -> tuple[dict[str, Any], dict[str, int]]:
    payment = (await api.call(keys, "GET", f"/api/v1/payments/{payment_no}")).json()
    return payment, await api.counts()


@pytest.fixture
async def processing(api: Api, merchant: Keys) -> str:
    """A payment whose charge outcome was lost: it waits for the channel to tell."""
    payment = await api.pay(merchant, card=CARD_UNKNOWN, amount=4_000)
    assert payment["status"] == "processing"
    return str(payment["payment_no"])


async def test_a_signed_success_captures_the_payment_and_posts_the_ledger(
    api: Api, merchant: Keys, processing: str
) -> None:
    response = await notify(api, *signed("charge.succeeded", processing))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True}
    payment, counts = await snapshot(api, merchant, processing)
    assert payment["status"] == "succeeded"
    assert counts["ledger_entries"] > 0
    debits, credits = (await api.ledger_balance())["USD"]
    assert debits == credits


async def test_a_signed_failure_fails_the_payment_with_the_channels_code(
    api: Api, merchant: Keys, processing: str
) -> None:
    response = await notify(
        api, *signed("charge.failed", processing, failure_code="insufficient_funds")
    )

    assert response.status_code == 200, response.text
    payment, counts = await snapshot(api, merchant, processing)
    assert (payment["status"], payment["failure_code"]) == ("failed", "insufficient_funds")
    assert counts["ledger_entries"] == 0


async def test_a_repeated_notification_is_accepted_and_changes_nothing(
    api: Api, merchant: Keys, processing: str
) -> None:
    body, headers = signed("charge.succeeded", processing)
    await notify(api, body, headers)
    before = await snapshot(api, merchant, processing)

    again = await notify(api, body, headers)

    assert again.status_code == 200, again.text
    assert await snapshot(api, merchant, processing) == before


async def test_a_late_contrary_notification_is_accepted_and_changes_nothing(
    api: Api, merchant: Keys, processing: str
) -> None:
    await notify(api, *signed("charge.succeeded", processing, event_id="evt_a"))
    before = await snapshot(api, merchant, processing)

    late = await notify(api, *signed("charge.failed", processing, event_id="evt_b"))

    assert late.status_code == 200, late.text
    assert await snapshot(api, merchant, processing) == before


async def test_a_notification_about_a_settled_payment_changes_nothing(
    api: Api, merchant: Keys
) -> None:
    paid = (await api.pay(merchant, card=CARD_OK))["payment_no"]
    before = await snapshot(api, merchant, paid)

    response = await notify(api, *signed("charge.failed", paid, failure_code="card_declined"))

    assert response.status_code == 200, response.text
    assert await snapshot(api, merchant, paid) == before


def _tampered(processing: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed("charge.failed", processing)
    return body.replace(b"charge.failed", b"charge.succeeded"), headers


def _header(value: Any) -> Any:
    def make(processing: str) -> tuple[bytes, dict[str, Any]]:
        body, headers = signed("charge.succeeded", processing)
        return body, {**headers, "X-Channel-Signature": value}

    return make


BAD_NOTIFICATIONS = {
    "another secret": lambda p: signed("charge.succeeded", p, secret="not-the-sandbox-secret"),
    "stale by 301 s": lambda p: signed("charge.succeeded", p, at=int(time.time()) - 301),
    "from the future": lambda p: signed("charge.succeeded", p, at=int(time.time()) + 301),
    "body changed after signing": _tampered,
    "no signature header": lambda p: (signed("charge.succeeded", p)[0], {}),
    "empty header": _header(""),
    "header without v1": _header(f"t={int(time.time())}"),
    "header without t": _header("v1=" + "0" * 64),
    "garbage header": _header("let me in"),
    "non-numeric t": _header("t=soon,v1=" + "0" * 64),
}
NON_ASCII_HEADERS = [
    pytest.param(_header(b"t=\xb9\xb2,v1=" + b"0" * 64), id="superscript t"),
    pytest.param(_header(f"t={int(time.time())},v1=".encode() + b"\xe9" * 64), id="non-ascii v1"),
]


@pytest.mark.parametrize(
    "make",
    [pytest.param(make, id=name) for name, make in BAD_NOTIFICATIONS.items()] + NON_ASCII_HEADERS,
)
async def test_a_badly_signed_notification_is_refused_and_changes_nothing(
    api: Api, merchant: Keys, processing: str, make: Any
) -> None:
    before = await snapshot(api, merchant, processing)

    response = await notify(api, *make(processing))

    assert_error(response, 400, "malformed_request")
    assert await snapshot(api, merchant, processing) == before


@pytest.mark.parametrize("body", [
    b"{not json",
    b"[]",
    b'{"id": "evt_1", "type": "charge.paid"}',
    b'{"id": "evt_1", "type": "charge.succeeded", "payment_no": "\xff"}',
])
async def test_a_well_signed_body_that_is_not_a_notification_is_refused(
    api: Api, merchant: Keys, processing: str, body: bytes
) -> None:
    from adapters.channel.signature import signature_header

    before = await snapshot(api, merchant, processing)
    headers = {"X-Channel-Signature": signature_header(SANDBOX_SECRET, body, int(time.time()))}

    response = await notify(api, body, headers)

    assert_error(response, 400, "malformed_request")
    assert await snapshot(api, merchant, processing) == before


async def test_a_notification_for_an_unknown_channel_is_not_found(
    api: Api, processing: str
) -> None:
    body, headers = signed("charge.succeeded", processing)

    response = await api.client.post(
        "/api/v1/channels/paypal/notifications", content=body, headers=headers
    )

    assert_error(response, 404, "not_found")


async def test_a_notification_about_an_unknown_payment_is_not_found(api: Api) -> None:
    response = await notify(api, *signed("charge.succeeded", "pay_never_made"))

    assert_error(response, 404, "not_found")


class RefundAnswerLost(SandboxChannel):
    """The sandbox, except that every refund's answer is lost on the way back."""

    async def refund(self, request: RefundRequest) -> RefundResult:
        await super().refund(request)
        return RefundResult(Outcome.UNKNOWN)


async def test_a_signed_refund_success_completes_a_pending_refund(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    channel = RefundAnswerLost(secret=SANDBOX_SECRET)
    api = await open_api(
        http_sqlite_url,
        adapt=lambda c: c.gateways.channels.override(providers.Object({"sandbox": channel})),
    )
    keys = await api.new_merchant()
    payment = await api.pay(keys, amount=3_000)
    refund = (await api.refund(keys, payment["payment_no"], {"amount": 1_000})).json()
    assert refund["status"] == "pending"

    response = await notify(
        api, *signed("refund.succeeded", payment["payment_no"], refund_no=refund["refund_no"])
    )

    assert response.status_code == 200, response.text
    now = (await api.call(keys, "GET", f"/api/v1/refunds/{refund['refund_no']}")).json()
    paid = (await api.call(keys, "GET", f"/api/v1/payments/{payment['payment_no']}")).json()
    assert now["status"] == "succeeded"
    assert (paid["status"], paid["refunded_amount"]) == ("partially_refunded", 1_000)


PUBLIC_SECRETS = ["sandbox-secret", "change-me-sandbox-secret", ""]


@pytest.mark.parametrize("guess", PUBLIC_SECRETS)
async def test_without_a_sandbox_secret_no_notification_is_accepted(
    open_api: ApiFactory, http_sqlite_url: str, guess: str
) -> None:
    """Unset, the secret is one nobody knows (ADR 0039): not the public value it once
    defaulted to, so no one can settle a payment by guessing it."""
    api = await open_api(http_sqlite_url, sandbox_secret=None)
    keys = await api.new_merchant("No Secret Ltd")
    payment = await api.pay(keys, card=CARD_UNKNOWN, amount=4_000)
    assert payment["status"] == "processing"
    before = await snapshot(api, keys, payment["payment_no"])

    response = await notify(api, *signed(
        "charge.failed", payment["payment_no"], failure_code="card_declined", secret=guess))

    assert_error(response, 400, "malformed_request")
    assert await snapshot(api, keys, payment["payment_no"]) == before

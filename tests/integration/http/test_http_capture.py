"""Authorize now, capture or cancel later, through the merchant and admin APIs, on SQLite
and PostgreSQL; every bad request gets its 4xx and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from http_harness import CARD_OK, CARD_REVIEW, Api, ApiFactory, FakeClock, Keys, assert_error

from adapters.persistence import SqlUnitOfWorkFactory

PAYMENTS = "/api/v1/payments"
HOLD_FIELDS = ("capture_method", "amount_capturable", "amount_captured", "capture_before",
               "cancellation_reason")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(open_api: ApiFactory, any_db_url: str, clock: FakeClock) -> Api:
    return await open_api(
        any_db_url, adapt=lambda c: c.core.clock.override(providers.Object(clock))
    )


@pytest.fixture
async def keys(api: Api) -> Keys:
    return await api.new_merchant("Shipping Ltd")


async def authorize(
    api: Api, keys: Keys, order_no: str = "ORDER-M", **fields: Any
) -> dict[str, Any]:
    return await api.pay(keys, order_no, capture_method="manual", **fields)


async def capture(api: Api, keys: Keys, payment_no: str, body: Any = None, **options: Any) -> Any:
    return await api.call(keys, "POST", f"{PAYMENTS}/{payment_no}/capture", body, **options)


async def cancel(api: Api, keys: Keys, payment_no: str, body: Any = None) -> Any:
    return await api.call(keys, "POST", f"{PAYMENTS}/{payment_no}/cancel", body)


async def read(api: Api, keys: Keys, payment_no: str) -> dict[str, Any]:
    return dict((await api.call(keys, "GET", f"{PAYMENTS}/{payment_no}")).json())


def held_until(payment: dict[str, Any]) -> datetime:
    """The payment's `capture_before`: when the sandbox, on its own clock, lets it lapse."""
    return datetime.fromisoformat(payment["capture_before"].replace("Z", "+00:00"))


class TestAuthorizeAndCapture:
    async def test_a_manual_payment_is_authorized_only_and_the_ledger_stays_empty(
        self, api: Api, keys: Keys, clock: FakeClock
    ) -> None:
        asked = datetime.now(UTC)
        held = await authorize(api, keys)

        assert held["status"] == "requires_capture"
        assert [held[f] for f in HOLD_FIELDS if f != "capture_before"] == [
            "manual", 10_000, 0, None]
        week = timedelta(days=7)
        assert asked + week - timedelta(seconds=1) <= held_until(held)
        assert held_until(held) <= datetime.now(UTC) + week
        assert (await api.counts())["ledger_entries"] == 0

    async def test_an_automatic_payment_shows_its_whole_amount_captured(
        self, api: Api, keys: Keys
    ) -> None:
        paid = await api.pay(keys, "ORDER-A")
        assert [paid[f] for f in HOLD_FIELDS] == ["automatic", 0, 10_000, None, None]

    async def test_a_capture_of_less_takes_that_much_and_the_ledger_posts_exactly_it(
        self, api: Api, keys: Keys
    ) -> None:
        held = await authorize(api, keys)

        response = await capture(api, keys, held["payment_no"], {"amount_to_capture": 6_000})

        assert response.status_code == 200, response.text
        captured = response.json()
        assert (captured["status"], captured["amount_captured"]) == ("succeeded", 6_000)
        assert captured["amount_capturable"] == 0
        assert await read(api, keys, held["payment_no"]) == captured
        assert await api.ledger_balance() == {"USD": (6_000, 6_000)}

    async def test_a_capture_without_a_body_takes_everything_held(
        self, api: Api, keys: Keys
    ) -> None:
        held = await authorize(api, keys)
        response = await capture(api, keys, held["payment_no"])
        assert response.json()["amount_captured"] == 10_000

    async def test_only_captured_money_is_refundable(self, api: Api, keys: Keys) -> None:
        held = await authorize(api, keys)
        await capture(api, keys, held["payment_no"], {"amount_to_capture": 6_000})

        too_much = await api.refund(keys, held["payment_no"], {"amount": 6_001})
        the_rest = await api.refund(keys, held["payment_no"])

        assert_error(too_much, 422, "amount_exceeded")
        assert (the_rest.status_code, the_rest.json()["amount"]) == (201, 6_000)
        assert (await read(api, keys, held["payment_no"]))["status"] == "refunded"
        debits, credits = (await api.ledger_balance())["USD"]
        assert debits == credits == 12_000

    async def test_a_capture_with_an_idempotency_key_is_replayed_not_repeated(
        self, api: Api, keys: Keys
    ) -> None:
        held = await authorize(api, keys)
        key = {"Idempotency-Key": "ship-1"}

        first = await capture(api, keys, held["payment_no"], {"amount_to_capture": 100},
                              headers=key)
        again = await capture(api, keys, held["payment_no"], {"amount_to_capture": 100},
                              headers=key)
        other = await capture(api, keys, held["payment_no"], {"amount_to_capture": 200},
                              headers=key)

        assert (first.status_code, again.status_code) == (200, 200)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert_error(other, 422, "idempotency_key_reused")
        assert (await api.counts())["ledger_entries"] == 2


class TestCancel:
    async def test_cancelling_an_authorization_voids_it_with_its_reason(
        self, api: Api, keys: Keys
    ) -> None:
        held = await authorize(api, keys)

        response = await cancel(api, keys, held["payment_no"], {"reason": "out of stock"})

        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["cancellation_reason"]) == (
            "canceled", "out of stock")
        assert (await api.counts())["ledger_entries"] == 0

    async def test_a_payment_in_review_can_be_cancelled(self, api: Api, keys: Keys) -> None:
        review = await api.pay(keys, "ORDER-R", card=CARD_REVIEW)
        response = await cancel(api, keys, review["payment_no"])
        assert (response.json()["status"], response.json()["cancellation_reason"]) == (
            "canceled", "requested")

    async def test_a_cancelled_order_can_be_paid_again(
        self, api: Api, keys: Keys, clock: FakeClock
    ) -> None:
        held = await authorize(api, keys, "ORDER-AGAIN")
        await cancel(api, keys, held["payment_no"])
        clock.moment += timedelta(seconds=1)

        again = await api.pay(keys, "ORDER-AGAIN")

        listed = await api.call(keys, "GET", f"{PAYMENTS}?order_no=ORDER-AGAIN")
        assert [p["status"] for p in listed.json()["data"]] == ["succeeded", "canceled"]
        assert again["status"] == "succeeded"


class TestExpiry:
    async def test_an_authorization_not_captured_in_time_is_voided_and_announced(
        self, api: Api, keys: Keys, clock: FakeClock
    ) -> None:
        held = await authorize(api, keys, notify_url="https://shop.example/hooks")
        clock.moment = held_until(held) - timedelta(milliseconds=1)
        assert await api.container.use_cases.expire_authorizations()() == {}
        clock.moment = held_until(held)

        done = await api.container.use_cases.expire_authorizations()()

        assert done == {"authorizations_expired": 1}
        expired = await read(api, keys, held["payment_no"])
        assert (expired["status"], expired["cancellation_reason"]) == ("canceled", "expired")
        async with SqlUnitOfWorkFactory(api._engine)(read_only=True) as uow:
            entries = await uow.outbox.oldest(100)
        types = [e.type for entry in entries if entry.notify_url
                 for e in entry.events if e.notify]
        assert sorted(types) == ["payment.canceled", "payment.requires_capture"]
        late = await capture(api, keys, held["payment_no"])
        assert_error(late, 409, "authorization_expired")

    async def test_a_capture_at_capture_before_is_authorization_expired(
        self, api: Api, keys: Keys, clock: FakeClock
    ) -> None:
        held = await authorize(api, keys)
        clock.moment = held_until(held)

        error = assert_error(await capture(api, keys, held["payment_no"]), 409,
                             "authorization_expired")
        assert await read(api, keys, held["payment_no"]) == held
        # the payment's own timestamp, byte for byte: RFC 3339 UTC with milliseconds
        assert error["details"] == [{"capture_before": held["capture_before"]}]
        assert error["message"].endswith(f"expired at {held['capture_before']}")
        assert held["capture_before"].endswith("Z")

    async def test_another_merchants_payment_is_not_found(self, api: Api, keys: Keys) -> None:
        held = await authorize(api, keys)
        other = await api.new_merchant("Globex")

        assert_error(await capture(api, other, held["payment_no"]), 404, "not_found")
        assert_error(await cancel(api, other, held["payment_no"]), 404, "not_found")
        assert await read(api, keys, held["payment_no"]) == held


class TestRefusals:
    """Refused before the database is asked to change anything: SQLite is enough."""

    @pytest.fixture
    async def api(self, open_api: ApiFactory, http_sqlite_url: str, clock: FakeClock) -> Api:
        return await open_api(
            http_sqlite_url, adapt=lambda c: c.core.clock.override(providers.Object(clock))
        )

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"amount_to_capture": 10_001}, 422, "amount_exceeded"),
            ({"amount_to_capture": 0}, 422, "invalid_amount"),
            ({"amount_to_capture": -1}, 422, "invalid_amount"),
            ({"amount_to_capture": "all"}, 400, "malformed_request"),
            ({"amount_to_capture": 1.5}, 400, "malformed_request"),
            ({"amount": 100}, 422, "validation_error"),
        ],
    )
    async def test_a_bad_capture_amount_is_refused_and_changes_nothing(
        self, api: Api, keys: Keys, body: Any, status: int, code: str
    ) -> None:
        held = await authorize(api, keys)
        before = await api.counts()

        assert_error(await capture(api, keys, held["payment_no"], body), status, code)

        assert await read(api, keys, held["payment_no"]) == held
        assert await api.counts() == before

    async def test_capturing_an_automatic_payment_is_invalid_status(
        self, api: Api, keys: Keys
    ) -> None:
        paid = await api.pay(keys, "ORDER-A")
        assert_error(await capture(api, keys, paid["payment_no"]), 409, "invalid_status")
        assert await read(api, keys, paid["payment_no"]) == paid

    @pytest.mark.parametrize("manual", [True, False])
    async def test_cancelling_a_captured_payment_is_invalid_status(
        self, api: Api, keys: Keys, manual: bool
    ) -> None:
        if manual:
            payment_no = (await authorize(api, keys))["payment_no"]
            await capture(api, keys, payment_no)
        else:
            payment_no = (await api.pay(keys, "ORDER-A"))["payment_no"]
        before = await read(api, keys, payment_no)

        assert_error(await cancel(api, keys, payment_no), 409, "invalid_status")
        assert await read(api, keys, payment_no) == before

    async def test_a_second_capture_is_invalid_status(self, api: Api, keys: Keys) -> None:
        held = await authorize(api, keys)
        await capture(api, keys, held["payment_no"], {"amount_to_capture": 1})
        assert_error(await capture(api, keys, held["payment_no"]), 409, "invalid_status")
        assert (await api.ledger_balance())["USD"] == (1, 1)

    async def test_an_unknown_capture_method_is_refused(self, api: Api, keys: Keys) -> None:
        before = await api.counts()
        response = await api.call(
            keys, "POST", PAYMENTS,
            {"order_no": "O", "amount": 1, "currency": "USD", "channel": "sandbox",
             "capture_method": "later", "payment_method": {
                 "type": "card", "number": CARD_OK, "exp_month": 12, "exp_year": 2030,
                 "cvc": "123"}})
        assert response.status_code in (400, 422), response.text
        assert await api.counts() == before


class TestOperators:
    @pytest.fixture
    async def api(self, open_api: ApiFactory, http_sqlite_url: str) -> Api:
        return await open_api(http_sqlite_url)

    async def test_an_operator_captures_and_cancels_any_merchants_payment(
        self, api: Api, keys: Keys
    ) -> None:
        first = await authorize(api, keys, "ORDER-1")
        second = await authorize(api, keys, "ORDER-2")

        captured = await api.admin(
            "POST", f"/admin/v1/payments/{first['payment_no']}/capture", {"amount_to_capture": 5})
        canceled = await api.admin(
            "POST", f"/admin/v1/payments/{second['payment_no']}/cancel", {"reason": "fraud"})

        assert (captured.status_code, captured.json()["amount_captured"]) == (200, 5)
        assert (canceled.status_code, canceled.json()["cancellation_reason"]) == (200, "fraud")

    async def test_approving_a_manual_payment_in_review_authorizes_it(
        self, api: Api, keys: Keys
    ) -> None:
        review = await authorize(api, keys, card=CARD_REVIEW)
        assert review["status"] == "requires_review"

        approved = await api.admin(
            "POST", f"/admin/v1/payments/{review['payment_no']}/review", {"decision": "approve"})

        assert (approved.json()["status"], approved.json()["amount_captured"]) == (
            "requires_capture", 0)
        assert (await api.counts())["ledger_entries"] == 0

    async def test_without_the_admin_token_nothing_is_captured(
        self, api: Api, keys: Keys
    ) -> None:
        held = await authorize(api, keys)
        response = await api.admin(
            "POST", f"/admin/v1/payments/{held['payment_no']}/capture", None, token="wrong")
        assert_error(response, 401, "unauthenticated")
        assert await read(api, keys, held["payment_no"]) == held

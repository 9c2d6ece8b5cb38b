"""The admin API: merchants, manual review, operator refunds and settlement."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from dependency_injector import providers
from http_harness import (
    CARD_DECLINED,
    CARD_OK,
    CARD_REVIEW,
    Api,
    ApiFactory,
    FakeClock,
    Keys,
    assert_error,
)
from sqlalchemy.engine import make_url

SETTLEMENT_FIELDS = {
    "settlement_id",
    "merchant_id",
    "currency",
    "date",
    "gross",
    "refunds",
    "fees",
    "net",
    "payment_count",
    "refund_count",
    "created_at",
}


class TestMerchants:
    async def test_a_new_merchant_gets_keys_that_sign_requests(self, api: Api) -> None:
        response = await api.admin("POST", "/admin/v1/merchants", {"name": "Initech"})

        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {"merchant_id", "api_key", "api_secret", "webhook_secret"}
        assert len({created["api_secret"], created["webhook_secret"], created["api_key"]}) == 3
        keys = Keys(**created)
        assert (await api.call(keys, "GET", "/api/v1/payments")).status_code == 200

    async def test_secrets_are_stored_sealed_and_no_route_shows_them_again(
        self, api: Api, http_sqlite_url: str
    ) -> None:
        keys = await api.new_merchant("Initech")
        await api.pay(keys)

        database = Path(str(make_url(http_sqlite_url).database))
        stored = b"".join(
            p.read_bytes() for p in database.parent.glob(f"{database.name}*") if p.is_file()
        )
        assert keys.api_key.encode() in stored
        assert keys.api_secret.encode() not in stored
        assert keys.webhook_secret.encode() not in stored
        for path in ("/admin/v1/merchants", f"/admin/v1/merchants/{keys.merchant_id}"):
            response = await api.admin("GET", path)
            assert response.status_code in (404, 405), response.text
            assert keys.api_secret not in response.text

    async def test_merchant_creation_refuses_an_idempotency_key_rather_than_keep_secrets(
        self, api: Api
    ) -> None:
        """A replay would have to store the secrets in plain text to show them again."""
        before = await api.counts()

        response = await api.admin(
            "POST",
            "/admin/v1/merchants",
            {"name": "Initech"},
            headers={"Idempotency-Key": "onboard-initech"},
        )

        assert_error(response, 422, "validation_error")
        assert "Idempotency-Key" in response.json()["error"]["message"]
        assert await api.counts() == before

    async def test_two_merchants_never_share_keys(self, api: Api) -> None:
        first, second = await api.new_merchant("A"), await api.new_merchant("B")

        assert first.merchant_id != second.merchant_id
        assert first.api_key != second.api_key
        assert first.api_secret != second.api_secret

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"name": ""}, 422, "validation_error"),
            ({"name": "x" * 201}, 422, "validation_error"),
            ({}, 422, "validation_error"),
            ({"name": "A", "owner": "me"}, 422, "validation_error"),
            ({"name": "A", "fee_basis_points": 10_001}, 422, "validation_error"),
            ({"name": "A", "fee_fixed": -1}, 422, "validation_error"),
            ({"name": 7}, 400, "malformed_request"),
            (b"{not json", 400, "malformed_request"),
        ],
    )
    async def test_a_bad_merchant_is_refused_and_nothing_is_written(
        self, api: Api, body: object, status: int, code: str
    ) -> None:
        before = await api.counts()

        response = await api.admin("POST", "/admin/v1/merchants", body)

        assert_error(response, status, code)
        assert await api.counts() == before


class TestReview:
    async def test_an_approved_payment_is_charged(self, api: Api, merchant: Keys) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)
        assert payment["status"] == "requires_review"

        response = await api.admin(
            "POST",
            f"/admin/v1/payments/{payment['payment_no']}/review",
            {"decision": "approve", "note": "known customer"},
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "succeeded"
        seen = await api.call(merchant, "GET", f"/api/v1/payments/{payment['payment_no']}")
        assert seen.json()["status"] == "succeeded"
        debits, credits = (await api.ledger_balance())["USD"]
        assert debits == credits > 0

    async def test_a_rejected_payment_ends_rejected_with_the_note(
        self, api: Api, merchant: Keys
    ) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)

        response = await api.admin(
            "POST",
            f"/admin/v1/payments/{payment['payment_no']}/review",
            {"decision": "reject", "note": "stolen card"},
        )

        assert response.status_code == 200, response.text
        rejected = response.json()
        assert rejected["status"] == "rejected"
        assert rejected["failure_message"] == "stolen card"
        assert (await api.counts())["ledger_entries"] == 0

    @pytest.mark.parametrize("card", [CARD_OK, CARD_DECLINED])
    async def test_a_payment_not_in_review_cannot_be_reviewed(
        self, api: Api, merchant: Keys, card: str
    ) -> None:
        payment = await api.pay(merchant, card=card)
        before = await api.counts()

        response = await api.admin(
            "POST", f"/admin/v1/payments/{payment['payment_no']}/review", {"decision": "reject"}
        )

        assert_error(response, 409, "invalid_status")
        assert await api.counts() == before

    async def test_a_decided_payment_cannot_be_decided_again(
        self, api: Api, merchant: Keys
    ) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)
        path = f"/admin/v1/payments/{payment['payment_no']}/review"
        await api.admin("POST", path, {"decision": "reject"})

        response = await api.admin("POST", path, {"decision": "approve"})

        assert_error(response, 409, "invalid_status")

    async def test_reviewing_an_unknown_payment_is_not_found(self, api: Api) -> None:
        response = await api.admin(
            "POST", "/admin/v1/payments/pay_nope/review", {"decision": "approve"}
        )

        assert_error(response, 404, "not_found")

    @pytest.mark.parametrize("body", [{"decision": "maybe"}, {}, {"decision": "approve", "x": 1}])
    async def test_a_bad_decision_is_a_validation_error(
        self, api: Api, merchant: Keys, body: dict[str, object]
    ) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)

        response = await api.admin(
            "POST", f"/admin/v1/payments/{payment['payment_no']}/review", body
        )

        assert_error(response, 422, "validation_error")


class TestOperatorRefunds:
    async def test_the_operator_refunds_any_merchants_payment_under_the_same_rules(
        self, api: Api, merchant: Keys
    ) -> None:
        payment = await api.pay(merchant, amount=5_000)
        path = f"/admin/v1/payments/{payment['payment_no']}/refunds"

        partial = await api.admin("POST", path, {"amount": 1_500, "reason": "goodwill"})
        too_much = await api.admin("POST", path, {"amount": 3_501})
        zero = await api.admin("POST", path, {"amount": 0})
        rest = await api.admin("POST", path)
        again = await api.admin("POST", path, {"amount": 1})

        assert partial.status_code == 201, partial.text
        assert (partial.json()["amount"], partial.json()["reason"]) == (1_500, "goodwill")
        assert assert_error(too_much, 422, "amount_exceeded")["details"] == [{"remaining": 3_500}]
        assert_error(zero, 422, "invalid_amount")
        assert rest.json()["amount"] == 3_500
        assert_error(again, 409, "invalid_status")
        seen = await api.call(merchant, "GET", f"/api/v1/payments/{payment['payment_no']}")
        assert (seen.json()["status"], seen.json()["refunded_amount"]) == ("refunded", 5_000)
        listed = await api.call(
            merchant, "GET", f"/api/v1/payments/{payment['payment_no']}/refunds"
        )
        assert len(listed.json()["data"]) == 2

    async def test_refunding_an_unknown_payment_is_not_found(self, api: Api) -> None:
        assert_error(
            await api.admin("POST", "/admin/v1/payments/pay_nope/refunds", {"amount": 1}),
            404,
            "not_found",
        )


class TestSettlement:
    @pytest.fixture
    def clock(self) -> FakeClock:
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        return FakeClock(datetime.combine(yesterday, time(12), tzinfo=UTC))

    @pytest.fixture
    async def api(self, open_api: ApiFactory, http_sqlite_url: str, clock: FakeClock) -> Api:
        return await open_api(
            http_sqlite_url, adapt=lambda c: c.core.clock.override(providers.Object(clock))
        )

    async def yesterdays_business(self, api: Api, clock: FakeClock) -> tuple[Keys, str]:
        """Two USD captures, one JPY capture, a decline and a USD refund, all yesterday."""
        keys = await api.new_merchant("Settled Ltd")
        first = await api.pay(keys, "O-1", amount=10_000)
        await api.pay(keys, "O-2", amount=5_000)
        await api.pay(keys, "O-3", amount=1_000, currency="JPY")
        await api.pay(keys, "O-4", amount=9_999, card=CARD_DECLINED)
        refund = await api.refund(keys, first["payment_no"], {"amount": 2_000})
        assert refund.status_code == 201, refund.text
        day = clock.moment.date().isoformat()
        clock.moment = datetime.now(UTC)
        await api.pay(keys, "O-TODAY", amount=777)
        return keys, day

    async def test_a_past_day_settles_per_currency_gross_minus_refunds_minus_fees(
        self, api: Api, clock: FakeClock
    ) -> None:
        keys, day = await self.yesterdays_business(api, clock)

        response = await api.admin(
            "POST", "/admin/v1/settlements", {"merchant_id": keys.merchant_id, "date": day}
        )

        assert response.status_code == 200, response.text
        settled = {s["currency"]: s for s in response.json()["data"]}
        assert set(settled) == {"JPY", "USD"}
        assert all(set(s) == SETTLEMENT_FIELDS for s in settled.values())
        usd, jpy = settled["USD"], settled["JPY"]
        assert (usd["merchant_id"], usd["date"]) == (keys.merchant_id, day)
        assert (usd["gross"], usd["refunds"], usd["fees"]) == (15_000, 2_000, 320 + 175)
        assert (usd["net"], usd["payment_count"], usd["refund_count"]) == (12_505, 2, 1)
        assert (jpy["gross"], jpy["refunds"], jpy["fees"], jpy["net"]) == (1_000, 0, 59, 941)
        for currency, (debits, credits) in (await api.ledger_balance()).items():
            assert debits == credits, currency

    async def test_settling_a_day_twice_settles_nothing_new(
        self, api: Api, clock: FakeClock
    ) -> None:
        keys, day = await self.yesterdays_business(api, clock)
        body = {"merchant_id": keys.merchant_id, "date": day}
        first = await api.admin("POST", "/admin/v1/settlements", body)
        before = await api.counts()

        again = await api.admin("POST", "/admin/v1/settlements", body)

        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        assert await api.counts() == before

    async def test_settlements_are_listed_by_merchant_and_date(
        self, api: Api, clock: FakeClock
    ) -> None:
        keys, day = await self.yesterdays_business(api, clock)
        other = await api.new_merchant("Quiet Ltd")
        made = await api.admin(
            "POST", "/admin/v1/settlements", {"merchant_id": keys.merchant_id, "date": day}
        )

        everything = await api.admin("GET", "/admin/v1/settlements")
        mine = await api.admin("GET", f"/admin/v1/settlements?merchant_id={keys.merchant_id}")
        on_day = await api.admin("GET", f"/admin/v1/settlements?date={day}")
        theirs = await api.admin("GET", f"/admin/v1/settlements?merchant_id={other.merchant_id}")
        other_day = await api.admin("GET", "/admin/v1/settlements?date=2001-01-01")

        ids = sorted(s["settlement_id"] for s in made.json()["data"])
        for listed in (everything, mine, on_day):
            assert listed.status_code == 200, listed.text
            assert sorted(s["settlement_id"] for s in listed.json()["data"]) == ids
        assert theirs.json() == {"data": []}
        assert other_day.json() == {"data": []}

    async def test_a_day_without_business_settles_to_nothing(self, api: Api) -> None:
        keys = await api.new_merchant("Idle Ltd")

        response = await api.admin(
            "POST", "/admin/v1/settlements", {"merchant_id": keys.merchant_id, "date": "2020-01-01"}
        )

        assert response.status_code == 200, response.text
        assert response.json() == {"data": []}

    @pytest.mark.parametrize(
        ("date", "status", "code"),
        [
            ("today", 422, "validation_error"),
            ("tomorrow", 422, "validation_error"),
            ("2026-13-45", 422, "validation_error"),
            ("23/11/2026", 422, "validation_error"),
        ],
    )
    async def test_a_day_that_is_not_over_or_not_a_date_is_refused(
        self, api: Api, clock: FakeClock, date: str, status: int, code: str
    ) -> None:
        keys = await api.new_merchant("Eager Ltd")
        clock.moment = datetime.now(UTC)
        named = {
            "today": clock.moment.date().isoformat(),
            "tomorrow": (clock.moment + timedelta(days=1)).date().isoformat(),
        }
        before = await api.counts()

        response = await api.admin(
            "POST",
            "/admin/v1/settlements",
            {"merchant_id": keys.merchant_id, "date": named.get(date, date)},
        )

        assert_error(response, status, code)
        assert await api.counts() == before

    async def test_settling_an_unknown_merchant_is_not_found(self, api: Api) -> None:
        response = await api.admin(
            "POST", "/admin/v1/settlements", {"merchant_id": "mch_nope", "date": "2020-01-01"}
        )

        assert_error(response, 404, "not_found")

    async def test_listing_with_a_bad_date_is_a_validation_error(self, api: Api) -> None:
        assert_error(
            await api.admin("GET", "/admin/v1/settlements?date=yesterday"), 422, "validation_error"
        )

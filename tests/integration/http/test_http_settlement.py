"""Settlement through the admin API, of business done on a past day under a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from dependency_injector import providers
from http_harness import CARD_DECLINED, Api, ApiFactory, FakeClock, Keys, assert_error

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

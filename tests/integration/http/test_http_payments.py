"""Creating, reading and listing payments through the merchant API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from dependency_injector import providers
from http_harness import (
    CARD_DECLINED,
    CARD_ERROR,
    CARD_NO_FUNDS,
    CARD_OK,
    CARD_REVIEW,
    CARD_RISK_REJECT,
    CARD_UNKNOWN,
    Api,
    ApiFactory,
    FakeClock,
    Keys,
    assert_error,
    assert_trace_id,
    payment_body,
)

PAYMENT_FIELDS = {
    "payment_no",
    "order_no",
    "amount",
    "currency",
    "channel",
    "status",
    "refunded_amount",
    "risk",
    "card",
    "failure_code",
    "failure_message",
    "metadata",
    "created_at",
    "updated_at",
}


async def test_a_good_card_creates_a_succeeded_payment_that_keeps_only_brand_and_last4(
    api: Api, merchant: Keys
) -> None:
    response = await api.call(
        merchant,
        "POST",
        "/api/v1/payments",
        payment_body(
            "ORDER-001",
            10_000,
            customer={"id": "cus_1", "email": "a@example.com", "ip": "203.0.113.7"},
            description="two coffees",
            notify_url="https://merchant.example/hooks",
            metadata={"cart": "42"},
        ),
    )

    assert response.status_code == 201, response.text
    assert_trace_id(response)
    payment = response.json()
    assert set(payment) >= PAYMENT_FIELDS
    assert payment["payment_no"].startswith("pay_")
    assert payment["order_no"] == "ORDER-001"
    assert (payment["amount"], payment["currency"], payment["channel"]) == (
        10_000,
        "USD",
        "sandbox",
    )
    assert (payment["status"], payment["refunded_amount"]) == ("succeeded", 0)
    assert payment["risk"]["decision"] == "approve"
    assert payment["card"] == {"brand": "visa", "last4": "4242"}
    assert payment["failure_code"] is None
    assert payment["failure_message"] is None
    assert payment["metadata"] == {"cart": "42"}
    assert payment["created_at"].endswith("Z")
    assert payment["updated_at"].endswith("Z")
    assert CARD_OK not in response.text
    assert '"123"' not in response.text
    assert (await api.counts())["payments"] == 1


@pytest.mark.parametrize(
    ("card", "status", "failure_code"),
    [
        (CARD_DECLINED, "failed", "card_declined"),
        (CARD_NO_FUNDS, "failed", "insufficient_funds"),
        (CARD_ERROR, "failed", "processing_error"),
        (CARD_UNKNOWN, "processing", None),
        (CARD_REVIEW, "requires_review", None),
        (CARD_RISK_REJECT, "rejected", "risk_rejected"),
    ],
)
async def test_every_sandbox_test_card_gives_the_contract_outcome_and_still_creates_a_payment(
    api: Api, merchant: Keys, card: str, status: str, failure_code: str | None
) -> None:
    response = await api.call(
        merchant, "POST", "/api/v1/payments", payment_body("ORDER-CARD", card=card)
    )

    assert response.status_code == 201, response.text
    payment = response.json()
    assert (payment["status"], payment["failure_code"]) == (status, failure_code)
    assert payment["card"]["last4"] == card[-4:]
    assert (await api.counts())["payments"] == 1


async def test_a_payment_is_read_back_as_it_was_created(api: Api, merchant: Keys) -> None:
    created = await api.pay(merchant, "ORDER-READ", metadata={"k": "v"})

    response = await api.call(merchant, "GET", f"/api/v1/payments/{created['payment_no']}")

    assert response.status_code == 200, response.text
    assert response.json() == created


async def test_an_unknown_payment_is_not_found(api: Api, merchant: Keys) -> None:
    response = await api.call(merchant, "GET", "/api/v1/payments/pay_does_not_exist")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    "order_no",
    [
        "'; DROP TABLE payments; --",
        "订单-Ω-💳",
        'quote" and back\\slash',
        "x" * 64,
    ],
)
async def test_unusual_but_valid_order_numbers_and_metadata_round_trip_unchanged(
    api: Api, merchant: Keys, order_no: str
) -> None:
    metadata = {"note": "1' OR '1'='1", "名前": "Ωμέγα 💳", "html": "<script>x</script>"}

    created = await api.pay(merchant, order_no, metadata=metadata)
    listed = await api.call(
        merchant, "GET", "/api/v1/payments?" + urlencode({"order_no": order_no})
    )

    assert (created["order_no"], created["metadata"]) == (order_no, metadata)
    assert listed.status_code == 200, listed.text
    assert [p["payment_no"] for p in listed.json()["data"]] == [created["payment_no"]]
    assert listed.json()["data"][0]["metadata"] == metadata
    assert (await api.counts())["payments"] == 1


async def test_the_same_order_no_for_two_merchants_is_two_payments(
    api: Api, merchant: Keys, other_merchant: Keys
) -> None:
    first = await api.pay(merchant, "ORDER-SHARED")
    second = await api.pay(other_merchant, "ORDER-SHARED")

    assert first["payment_no"] != second["payment_no"]


async def test_a_second_payment_for_a_used_order_no_is_a_duplicate_order(
    api: Api, merchant: Keys
) -> None:
    first = await api.pay(merchant, "ORDER-DUP")
    before = await api.counts()

    response = await api.call(merchant, "POST", "/api/v1/payments", payment_body("ORDER-DUP", 500))

    assert_error(response, 409, "duplicate_order")
    assert response.json()["error"]["details"] == [
        {"order_no": "ORDER-DUP", "payment_no": first["payment_no"]}
    ]
    assert await api.counts() == before


class TestListing:
    async def test_lists_only_the_callers_payments_newest_first(
        self, api: Api, merchant: Keys, other_merchant: Keys
    ) -> None:
        mine = [(await api.pay(merchant, f"ORDER-{i}"))["payment_no"] for i in range(3)]
        await api.pay(other_merchant, "ORDER-THEIRS")

        response = await api.call(merchant, "GET", "/api/v1/payments")

        assert response.status_code == 200, response.text
        page = response.json()
        assert [p["payment_no"] for p in page["data"]] == mine[::-1]
        assert page["next_cursor"] is None

    async def test_cursor_pagination_walks_every_payment_once_newest_first(
        self, api: Api, merchant: Keys
    ) -> None:
        created = [(await api.pay(merchant, f"ORDER-{i:02}"))["payment_no"] for i in range(7)]

        seen, target, pages = [], "/api/v1/payments?limit=3", 0
        while target:
            response = await api.call(merchant, "GET", target)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["data"]) <= 3
            seen += [p["payment_no"] for p in page["data"]]
            pages += 1
            cursor = page["next_cursor"]
            target = (
                "/api/v1/payments?" + urlencode({"limit": 3, "cursor": cursor}) if cursor else ""
            )

        assert seen == created[::-1]
        assert pages == 3

    async def test_filters_by_status_and_order_no(self, api: Api, merchant: Keys) -> None:
        ok = await api.pay(merchant, "ORDER-OK")
        failed = await api.pay(merchant, "ORDER-FAIL", card=CARD_DECLINED)

        by_status = await api.call(merchant, "GET", "/api/v1/payments?status=failed")
        by_order = await api.call(merchant, "GET", "/api/v1/payments?order_no=ORDER-OK")
        both = await api.call(merchant, "GET", "/api/v1/payments?status=failed&order_no=ORDER-OK")

        assert [p["payment_no"] for p in by_status.json()["data"]] == [failed["payment_no"]]
        assert [p["payment_no"] for p in by_order.json()["data"]] == [ok["payment_no"]]
        assert both.json() == {"data": [], "next_cursor": None}

    async def test_filters_by_creation_time_from_inclusive_to_exclusive(
        self, open_api: ApiFactory, http_sqlite_url: str
    ) -> None:
        day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        clock = FakeClock(day)
        api = await open_api(
            http_sqlite_url, adapt=lambda c: c.core.clock.override(providers.Object(clock))
        )
        merchant = await api.new_merchant()
        made = []
        for hour in (1, 2, 3):
            clock.moment = day + timedelta(hours=hour)
            made.append((await api.pay(merchant, f"ORDER-H{hour}"))["payment_no"])

        query = urlencode(
            {
                "created_from": (day + timedelta(hours=2)).isoformat(),
                "created_to": (day + timedelta(hours=3)).isoformat(),
            }
        )
        window = await api.call(merchant, "GET", f"/api/v1/payments?{query}")
        since = await api.call(
            merchant,
            "GET",
            "/api/v1/payments?"
            + urlencode({"created_from": (day + timedelta(hours=2)).isoformat()}),
        )

        assert window.status_code == 200, window.text
        assert [p["payment_no"] for p in window.json()["data"]] == [made[1]]
        assert [p["payment_no"] for p in since.json()["data"]] == [made[2], made[1]]

    @pytest.mark.parametrize("limit", ["1", "100"])
    async def test_limit_bounds_are_accepted(self, api: Api, merchant: Keys, limit: str) -> None:
        await api.pay(merchant, "ORDER-A")
        await api.pay(merchant, "ORDER-B")

        response = await api.call(merchant, "GET", f"/api/v1/payments?limit={limit}")

        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == min(int(limit), 2)

    async def test_the_default_limit_is_20(self, api: Api, merchant: Keys) -> None:
        for i in range(21):
            await api.pay(merchant, f"ORDER-{i}")

        page = (await api.call(merchant, "GET", "/api/v1/payments")).json()

        assert len(page["data"]) == 20
        assert page["next_cursor"] is not None

    @pytest.mark.parametrize(
        ("query", "status", "code"),
        [
            ("limit=0", 422, "validation_error"),
            ("limit=101", 422, "validation_error"),
            ("limit=-1", 422, "validation_error"),
            ("limit=ten", 400, "malformed_request"),
            ("status=paid", 422, "validation_error"),
            ("created_from=yesterday", 422, "validation_error"),
            ("created_to=2026-11-23T00%3A00%3A00", 422, "validation_error"),
            ("created_from=0001-01-01T00%3A00%3A00%2B14%3A00", 422, "validation_error"),
            ("created_to=9999-12-31T23%3A59%3A59-14%3A00", 422, "validation_error"),
            ("created_from=20261124T180000Z", 422, "validation_error"),
            ("created_from=2026-11-24%2018%3A00%3A00Z", 422, "validation_error"),
            ("created_from=2026-11-24", 422, "validation_error"),
            ("cursor=not-a-cursor", 422, "validation_error"),
        ],
    )
    async def test_bad_query_parameters_are_refused(
        self, api: Api, merchant: Keys, query: str, status: int, code: str
    ) -> None:
        response = await api.call(merchant, "GET", f"/api/v1/payments?{query}")

        assert_error(response, status, code)

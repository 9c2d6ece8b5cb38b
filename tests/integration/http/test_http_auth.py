"""Who may call what: merchant signatures, the admin token, isolation and the rate limit."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from http_harness import ADMIN_TOKEN, Api, ApiFactory, Keys, assert_error, encode, payment_body

from entrypoints.cli.signing import signed_headers

PAYMENTS = "/api/v1/payments"


async def test_a_correctly_signed_request_is_accepted(api: Api, merchant: Keys) -> None:
    response = await api.call(merchant, "GET", f"{PAYMENTS}?limit=5")

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("missing", ["X-API-Key", "X-Timestamp", "X-Signature"])
async def test_a_missing_auth_header_is_unauthenticated_and_writes_nothing(
    api: Api, merchant: Keys, missing: str
) -> None:
    body = encode(payment_body())
    headers = signed_headers(merchant.api_key, merchant.api_secret, "POST", PAYMENTS, body)
    del headers[missing]
    before = await api.counts()

    response = await api.client.post(
        PAYMENTS, content=body, headers={**headers, "Content-Type": "application/json"}
    )

    assert_error(response, 401, "unauthenticated")
    assert await api.counts() == before


async def test_an_unknown_api_key_is_unauthenticated(api: Api, merchant: Keys) -> None:
    stranger = replace(merchant, api_key="key_unknown")

    assert_error(await api.call(stranger, "GET", PAYMENTS), 401, "unauthenticated")


async def test_a_signature_made_with_another_secret_is_unauthenticated(
    api: Api, merchant: Keys, other_merchant: Keys
) -> None:
    forged = replace(merchant, api_secret=other_merchant.api_secret)

    assert_error(await api.call(forged, "GET", PAYMENTS), 401, "unauthenticated")


async def test_a_body_changed_after_signing_is_unauthenticated_and_writes_nothing(
    api: Api, merchant: Keys
) -> None:
    signed = encode(payment_body(amount=100))
    sent = encode(payment_body(amount=100_000))
    headers = signed_headers(merchant.api_key, merchant.api_secret, "POST", PAYMENTS, signed)
    before = await api.counts()

    response = await api.client.post(
        PAYMENTS, content=sent, headers={**headers, "Content-Type": "application/json"}
    )

    assert_error(response, 401, "unauthenticated")
    assert await api.counts() == before


async def test_a_replayed_signed_payment_is_refused_as_already_used_and_charges_once(
    api: Api, merchant: Keys
) -> None:
    body = encode(payment_body())
    headers = {
        **signed_headers(merchant.api_key, merchant.api_secret, "POST", PAYMENTS, body),
        "Content-Type": "application/json",
    }
    before = await api.counts()

    first = await api.client.post(PAYMENTS, content=body, headers=headers)
    replayed = await api.client.post(PAYMENTS, content=body, headers=headers)

    assert first.status_code == 201, first.text
    assert "signature already used" in assert_error(replayed, 401, "unauthenticated")["message"]
    assert (await api.counts())["payments"] == before["payments"] + 1


async def test_a_query_changed_after_signing_is_unauthenticated(api: Api, merchant: Keys) -> None:
    headers = signed_headers(
        merchant.api_key, merchant.api_secret, "GET", f"{PAYMENTS}?limit=5", b""
    )

    response = await api.client.get(f"{PAYMENTS}?limit=50", headers=headers)

    assert_error(response, 401, "unauthenticated")


async def test_a_signature_for_another_method_is_unauthenticated(api: Api, merchant: Keys) -> None:
    headers = signed_headers(merchant.api_key, merchant.api_secret, "POST", PAYMENTS, b"")

    assert_error(await api.client.get(PAYMENTS, headers=headers), 401, "unauthenticated")


@pytest.mark.parametrize("skew", [-301, 301, -3_600, 86_400])
async def test_a_timestamp_more_than_300_seconds_off_is_unauthenticated(
    api: Api, merchant: Keys, skew: int
) -> None:
    before = await api.counts()

    response = await api.call(
        merchant, "POST", PAYMENTS, payment_body(), timestamp=int(time.time()) + skew
    )

    assert_error(response, 401, "unauthenticated")
    assert await api.counts() == before


@pytest.mark.parametrize("skew", [-290, 290])
async def test_a_timestamp_within_300_seconds_is_accepted(
    api: Api, merchant: Keys, skew: int
) -> None:
    response = await api.call(merchant, "GET", PAYMENTS, timestamp=int(time.time()) + skew)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "stamp",
    [b"", b"abc", b"1.5e9", b"-1", b"+1700000000", b" 1700000000", b"\xb9", b"\xb2\xb3"],
)
async def test_a_timestamp_that_is_not_unix_seconds_is_unauthenticated(
    api: Api, merchant: Keys, stamp: bytes
) -> None:
    headers: dict[str, str | bytes] = {
        **signed_headers(merchant.api_key, merchant.api_secret, "GET", PAYMENTS, b""),
        "X-Timestamp": stamp,
    }

    response = await api.client.get(PAYMENTS, headers=headers)

    assert_error(response, 401, "unauthenticated")


@pytest.mark.parametrize("header", ["X-Signature", "X-API-Key"])
@pytest.mark.parametrize("value", [b"\xe9\xe9", b"\xff" * 64, "é".encode() * 32])
async def test_non_ascii_credentials_are_unauthenticated(
    api: Api, merchant: Keys, header: str, value: bytes
) -> None:
    headers: dict[str, str | bytes] = {
        **signed_headers(merchant.api_key, merchant.api_secret, "GET", PAYMENTS, b""),
        header: value,
    }

    response = await api.client.get(PAYMENTS, headers=headers)

    assert_error(response, 401, "unauthenticated")


class TestMerchantsAreIsolated:
    """Another merchant's payment or refund is a 404 on every route that names it."""

    @pytest.fixture
    async def theirs(self, api: Api, other_merchant: Keys) -> tuple[str, str]:
        payment = await api.pay(other_merchant, "THEIR-ORDER", amount=5_000)
        refund = await api.refund(other_merchant, payment["payment_no"], {"amount": 1_000})
        assert refund.status_code == 201, refund.text
        return payment["payment_no"], refund.json()["refund_no"]

    async def test_reading_their_payment(
        self, api: Api, merchant: Keys, theirs: tuple[str, str]
    ) -> None:
        response = await api.call(merchant, "GET", f"{PAYMENTS}/{theirs[0]}")

        assert_error(response, 404, "not_found")

    async def test_listing_their_payments_refunds(
        self, api: Api, merchant: Keys, theirs: tuple[str, str]
    ) -> None:
        response = await api.call(merchant, "GET", f"{PAYMENTS}/{theirs[0]}/refunds")

        assert_error(response, 404, "not_found")

    async def test_refunding_their_payment_writes_nothing(
        self, api: Api, merchant: Keys, other_merchant: Keys, theirs: tuple[str, str]
    ) -> None:
        before = await api.counts()

        partial = await api.refund(merchant, theirs[0], {"amount": 1})
        full = await api.refund(merchant, theirs[0])

        assert_error(partial, 404, "not_found")
        assert_error(full, 404, "not_found")
        assert await api.counts() == before
        still = (await api.call(other_merchant, "GET", f"{PAYMENTS}/{theirs[0]}")).json()
        assert (still["status"], still["refunded_amount"]) == ("partially_refunded", 1_000)

    async def test_reading_their_refund(
        self, api: Api, merchant: Keys, theirs: tuple[str, str]
    ) -> None:
        response = await api.call(merchant, "GET", f"/api/v1/refunds/{theirs[1]}")

        assert_error(response, 404, "not_found")

    async def test_their_payments_never_appear_in_a_listing(
        self, api: Api, merchant: Keys, theirs: tuple[str, str]
    ) -> None:
        everything = await api.call(merchant, "GET", PAYMENTS)
        by_order = await api.call(merchant, "GET", f"{PAYMENTS}?order_no=THEIR-ORDER")

        assert everything.json()["data"] == []
        assert by_order.json()["data"] == []


class TestAdminToken:
    ROUTES = (
        ("POST", "/admin/v1/merchants", {"name": "x"}),
        ("POST", "/admin/v1/payments/pay_x/review", {"decision": "approve"}),
        ("POST", "/admin/v1/payments/pay_x/refunds", {"amount": 1}),
        ("POST", "/admin/v1/settlements", {"merchant_id": "mch_x", "date": "2020-01-01"}),
        ("GET", "/admin/v1/settlements", None),
        ("GET", "/admin/v1/audit", None),
        ("POST", "/admin/v1/payments/pay_x/capture", {}),
        ("POST", "/admin/v1/payments/pay_x/cancel", {}),
    )

    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    async def test_without_a_configured_token_no_unknown_token_opens_the_admin_api(
        self,
        open_api: ApiFactory,
        http_sqlite_url: str,
        method: str,
        path: str,
        body: dict[str, object] | None,
    ) -> None:
        api = await open_api(http_sqlite_url, admin_token=None)
        before = await api.counts()

        with_any = await api.admin(method, path, body, token="anything")
        without = await api.admin(method, path, body, token=None)

        # named operators' tokens still work (tests/integration/http/test_http_operators.py)
        assert_error(with_any, 401, "unauthenticated")
        assert_error(without, 401, "unauthenticated")
        assert await api.counts() == before

    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    async def test_a_missing_or_wrong_token_is_unauthenticated(
        self, api: Api, method: str, path: str, body: dict[str, object] | None
    ) -> None:
        before = await api.counts()

        for token in (None, "", "wrong-token", f"{ADMIN_TOKEN}x", ADMIN_TOKEN[:-1]):
            response = await api.admin(method, path, body, token=token)
            assert_error(response, 401, "unauthenticated")
        assert await api.counts() == before

    async def test_a_merchant_signature_does_not_open_the_admin_api(
        self, api: Api, merchant: Keys
    ) -> None:
        response = await api.call(merchant, "GET", "/admin/v1/settlements")

        assert_error(response, 401, "unauthenticated")


class TestRateLimit:
    async def test_requests_beyond_the_burst_are_rate_limited_per_merchant(
        self, open_api: ApiFactory, http_sqlite_url: str
    ) -> None:
        api = await open_api(http_sqlite_url, rate_limit_per_second=1, rate_limit_burst=2)
        busy, calm = await api.new_merchant("Busy"), await api.new_merchant("Calm")

        allowed = [await api.call(busy, "GET", PAYMENTS) for _ in range(2)]
        limited = await api.call(busy, "GET", PAYMENTS)
        other = await api.call(calm, "GET", PAYMENTS)

        assert [r.status_code for r in allowed] == [200, 200]
        assert_error(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert other.status_code == 200, other.text

    async def test_a_rate_limited_payment_writes_nothing(
        self, open_api: ApiFactory, http_sqlite_url: str
    ) -> None:
        api = await open_api(http_sqlite_url, rate_limit_per_second=1, rate_limit_burst=1)
        merchant = await api.new_merchant()
        await api.pay(merchant, "ORDER-1")
        before = await api.counts()

        response = await api.call(merchant, "POST", PAYMENTS, payment_body("ORDER-2"))

        assert_error(response, 429, "rate_limited")
        assert await api.counts() == before


@pytest.mark.parametrize(
    "body",
    [b'{"order_no": "ord_1", "amount": "100"}', b'{"order_no": "ord\\u0000"}', b"not json"],
)
async def test_an_unsigned_request_is_unauthenticated_before_its_body_is_looked_at(
    api: Api, body: bytes
) -> None:
    # a caller who cannot sign learns nothing about what the API accepts
    response = await api.client.post(
        PAYMENTS, content=body, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 401, "unauthenticated")

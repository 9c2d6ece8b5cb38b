"""Bad input gets the contract's 4xx and code, never a 500, and writes nothing at all.

Each case is sent correctly signed (unless the case is about the signature), so what is
refused is the input itself, and the row counts are compared before and after.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from http_harness import Api, ApiFactory, Keys, assert_error, encode, payment_body

from entrypoints.cli.signing import signed_headers

PAYMENTS = "/api/v1/payments"


def card(**changes: Any) -> dict[str, Any]:
    body = payment_body()
    return {**body, "payment_method": {**body["payment_method"], **changes}}


def spliced(body: dict[str, Any], old: bytes, new: bytes) -> bytes:
    """The encoded body with `old` replaced: bytes no JSON encoder would write."""
    encoded = encode(body)
    assert old in encoded, (old, encoded)
    return encoded.replace(old, new, 1)


def without(field: str) -> dict[str, Any]:
    return {k: v for k, v in payment_body().items() if k != field}


MALFORMED = "malformed_request"
INVALID = "validation_error"

PAYMENT_CASES: list[tuple[str, bytes, int, str]] = [
    ("not json", b"{bad", 400, MALFORMED),
    ("truncated json", encode(payment_body())[:-1], 400, MALFORMED),
    ("empty body", b"", 400, MALFORMED),
    ("json null", b"null", 400, MALFORMED),
    ("json array", b"[]", 400, MALFORMED),
    ("json string", b'"pay me"', 400, MALFORMED),
    ("not utf-8", b"\xff\xfe{}", 400, MALFORMED),
    ("lone surrogate", b'{"order_no": "\\ud800"}', 400, MALFORMED),
    ("latin-1 byte in a string", spliced(payment_body(order_no="cafX"), b"X", b"\xe9"), 400,
     MALFORMED),
    ("invalid utf-8 in a string", spliced(payment_body(order_no="XY"), b"XY", b"\xff\xfe"), 400,
     MALFORMED),
    ("duplicate key", spliced(payment_body(amount=1), b'"amount":1', b'"amount":1,"amount":9000'),
     400, MALFORMED),
    ("duplicate nested key", spliced(card(), b'"cvc":', b'"cvc":"999","cvc":'), 400, MALFORMED),
    ("amount as string", encode(payment_body(amount="100")), 400, MALFORMED),
    ("amount as float", encode(payment_body(amount=10.5)), 400, MALFORMED),
    ("amount as whole float", encode(payment_body(amount=100.0)), 400, MALFORMED),
    ("amount in exponent form", b'{"amount": 1e3}', 400, MALFORMED),
    ("amount as true", encode(payment_body(amount=True)), 400, MALFORMED),
    ("amount as null", encode(payment_body(amount=None)), 400, MALFORMED),
    ("order_no as number", encode({**payment_body(), "order_no": 123}), 400, MALFORMED),
    (
        "payment_method as string",
        encode({**payment_body(), "payment_method": "card"}),
        400,
        MALFORMED,
    ),
    ("exp_month as string", encode(card(exp_month="12")), 400, MALFORMED),
    ("metadata as list", encode(payment_body(metadata=["a"])), 400, MALFORMED),
    ("metadata value as number", encode(payment_body(metadata={"a": 1})), 400, MALFORMED),
    ("amount zero", encode(payment_body(amount=0)), 422, "invalid_amount"),
    ("amount negative", encode(payment_body(amount=-1)), 422, "invalid_amount"),
    ("amount very negative", encode(payment_body(amount=-(2**64))), 422, "invalid_amount"),
    ("amount of 13 digits", encode(payment_body(amount=10**12, currency="CHF")), 422,
     "invalid_amount"),
    ("amount 2**63 - 1", encode(payment_body(amount=2**63 - 1, currency="CHF")), 422,
     "invalid_amount"),
    ("amount 2**63", encode(payment_body(amount=2**63)), 422, "invalid_amount"),
    ("amount 2**64", encode(payment_body(amount=2**64)), 422, "invalid_amount"),
    ("amount 10**40", encode(payment_body(amount=10**40)), 422, "invalid_amount"),
    ("unknown top-level field", encode(payment_body(extra=1)), 422, INVALID),
    ("unknown card field", encode(card(pin="0000")), 422, INVALID),
    ("unknown customer field", encode(payment_body(customer={"name": "x"})), 422, INVALID),
    ("missing order_no", encode(without("order_no")), 422, INVALID),
    ("missing amount", encode(without("amount")), 422, INVALID),
    ("missing payment_method", encode(without("payment_method")), 422, INVALID),
    ("empty object", b"{}", 422, INVALID),
    ("empty order_no", encode(payment_body(order_no="")), 422, INVALID),
    ("order_no of 65", encode(payment_body(order_no="x" * 65)), 422, INVALID),
    ("order_no of 65 non-ascii", encode(payment_body(order_no="订" * 65)), 422, INVALID),
    (
        "51 metadata keys",
        encode(payment_body(metadata={f"k{i}": "v" for i in range(51)})),
        422,
        INVALID,
    ),
    ("metadata key of 41", encode(payment_body(metadata={"k" * 41: "v"})), 422, INVALID),
    ("empty metadata key", encode(payment_body(metadata={"": "v"})), 422, INVALID),
    ("metadata value of 501", encode(payment_body(metadata={"k": "v" * 501})), 422, INVALID),
    ("description of 501", encode(payment_body(description="d" * 501)), 422, INVALID),
    (
        "notify_url not http",
        encode(payment_body(notify_url="ftp://merchant.example")),
        422,
        INVALID,
    ),
    ("notify_url not a url", encode(payment_body(notify_url="merchant hooks")), 422, INVALID),
    ("customer ip not an address", encode(payment_body(customer={"ip": "999.1.1.1"})), 422,
     INVALID),
    ("customer ip with a port", encode(payment_body(customer={"ip": "203.0.113.7:443"})), 422,
     INVALID),
    ("customer email without @", encode(payment_body(customer={"email": "nope"})), 422,
     INVALID),
    ("customer email without a domain dot", encode(payment_body(customer={"email": "a@b"})),
     422, INVALID),
    ("card type not card", encode(card(type="bank")), 422, INVALID),
    ("card number letters", encode(card(number="4242abcd42424242")), 422, INVALID),
    ("card number fails luhn", encode(card(number="4242424242424241")), 422, INVALID),
    ("card number too long", encode(card(number="4" * 20)), 422, INVALID),
    ("exp_month 13", encode(card(exp_month=13)), 422, INVALID),
    ("exp_month 0", encode(card(exp_month=0)), 422, INVALID),
    ("cvc letters", encode(card(cvc="12a")), 422, INVALID),
    ("cvc of 5", encode(card(cvc="12345")), 422, INVALID),
    ("unknown currency", encode(payment_body(currency="XXX")), 422, "invalid_currency"),
    ("lowercase currency", encode(payment_body(currency="usd")), 422, "invalid_currency"),
    ("empty currency", encode(payment_body(currency="")), 422, "invalid_currency"),
    ("unknown channel", encode(payment_body(channel="paypal")), 422, "invalid_channel"),
    ("empty channel", encode(payment_body(channel="")), 422, "invalid_channel"),
]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [pytest.param(body, status, code, id=name) for name, body, status, code in PAYMENT_CASES],
)
async def test_a_bad_payment_is_refused_with_its_code_and_writes_nothing(
    api: Api, merchant: Keys, body: bytes, status: int, code: str
) -> None:
    before = await api.counts()

    response = await api.call(merchant, "POST", PAYMENTS, body)

    assert_error(response, status, code)
    assert await api.counts() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(b"{bad", 400, MALFORMED, id="not json"),
        pytest.param(b"[]", 400, MALFORMED, id="json array"),
        pytest.param(b'{"amount": "100"}', 400, MALFORMED, id="amount as string"),
        pytest.param(b'{"amount": 1.5}', 400, MALFORMED, id="amount as float"),
        pytest.param(b'{"amount": true}', 400, MALFORMED, id="amount as true"),
        pytest.param(b'{"amount": 0}', 422, "invalid_amount", id="amount zero"),
        pytest.param(b'{"amount": -5}', 422, "invalid_amount", id="amount negative"),
        pytest.param(encode({"amount": 2**63}), 422, "invalid_amount", id="amount 2**63"),
        pytest.param(encode({"amount": 2**64}), 422, "invalid_amount", id="amount 2**64"),
        pytest.param(b'{"amount": 100, "currency": "USD"}', 422, INVALID, id="unknown field"),
        pytest.param(b"null", 400, MALFORMED, id="json null"),
        pytest.param(b'"all"', 400, MALFORMED, id="json string"),
        pytest.param(b'{"amount": 1, "amount": 500}', 400, MALFORMED, id="duplicate key"),
        pytest.param(b'{"reason": "\xff"}', 400, MALFORMED, id="invalid utf-8 in a string"),
        pytest.param(encode({"reason": "r" * 501}), 422, INVALID, id="reason of 501"),
    ],
)
async def test_a_bad_refund_is_refused_with_its_code_and_writes_nothing(
    api: Api, merchant: Keys, body: bytes, status: int, code: str
) -> None:
    payment = await api.pay(merchant, amount=1_000)
    before = await api.counts()

    response = await api.refund(merchant, payment["payment_no"], body)

    assert_error(response, status, code)
    assert await api.counts() == before


@pytest.mark.parametrize(
    ("auth", "status", "code"),
    [("missing", 401, "unauthenticated"), ("stale", 401, "unauthenticated")],
)
async def test_a_good_payment_with_bad_auth_is_refused_and_writes_nothing(
    api: Api, merchant: Keys, auth: str, status: int, code: str
) -> None:
    body = encode(payment_body())
    stamp = int(time.time()) - 3_600
    headers = (
        {}
        if auth == "missing"
        else signed_headers(merchant.api_key, merchant.api_secret, "POST", PAYMENTS, body, stamp)
    )
    before = await api.counts()

    response = await api.client.post(
        PAYMENTS, content=body, headers={**headers, "Content-Type": "application/json"}
    )

    assert_error(response, status, code)
    assert await api.counts() == before


async def test_a_body_over_the_limit_is_payload_too_large_and_writes_nothing(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(http_sqlite_url, body_limit=2_048)
    merchant = await api.new_merchant()
    big = encode(
        payment_body(description="d" * 400, metadata={f"k{i}": "v" * 100 for i in range(30)})
    )
    small = encode(payment_body("ORDER-SMALL"))
    before = await api.counts()

    refused = await api.call(merchant, "POST", PAYMENTS, big)
    accepted = await api.call(merchant, "POST", PAYMENTS, small)

    assert len(big) > 2_048 > len(small)
    assert_error(refused, 413, "payload_too_large")
    assert accepted.status_code == 201, accepted.text
    assert (await api.counts())["payments"] == before["payments"] + 1


async def test_the_default_limit_refuses_a_megabyte(api: Api, merchant: Keys) -> None:
    before = await api.counts()

    response = await api.call(merchant, "POST", PAYMENTS, b'{"order_no": "' + b"x" * 2**20 + b'"}')

    assert_error(response, 413, "payload_too_large")
    assert await api.counts() == before


async def test_an_oversized_admin_body_is_payload_too_large(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(http_sqlite_url, body_limit=1_024)
    before = await api.counts()

    response = await api.admin("POST", "/admin/v1/merchants", {"name": "n" * 2_000})

    assert_error(response, 413, "payload_too_large")
    assert await api.counts() == before


NUL_BODIES = {
    "order_no": payment_body("ORDER-\x00"),
    "metadata value": payment_body(metadata={"k": "v\x00"}),
    "metadata key": payment_body(metadata={"k\x00": "v"}),
    "description": payment_body(description="\x00"),
    "customer id": payment_body(customer={"id": "cus\x00"}),
}


@pytest.mark.parametrize("body", NUL_BODIES.values(), ids=NUL_BODIES.keys())
async def test_a_nul_character_in_a_payment_is_a_validation_error_on_every_database(
    open_api: ApiFactory, any_db_url: str, body: dict[str, Any]
) -> None:
    """PostgreSQL cannot store U+0000: it must be refused at the edge, not fail in a write."""
    api = await open_api(any_db_url)
    merchant = await api.new_merchant()
    before = await api.counts()

    response = await api.call(merchant, "POST", PAYMENTS, body)

    assert_error(response, 422, INVALID)
    assert await api.counts() == before


async def test_a_nul_character_anywhere_else_is_a_validation_error_on_every_database(
    open_api: ApiFactory, any_db_url: str
) -> None:
    api = await open_api(any_db_url)
    merchant = await api.new_merchant()
    payment = await api.pay(merchant)
    before = await api.counts()

    responses = [
        await api.refund(merchant, payment["payment_no"], {"reason": "\x00"}),
        await api.call(merchant, "GET", f"{PAYMENTS}?order_no=%00"),
        await api.call(merchant, "GET", f"{PAYMENTS}/pay_%00"),
        await api.admin("POST", "/admin/v1/merchants", {"name": "Nul\x00 Ltd"}),
        await api.admin(
            "POST", "/admin/v1/settlements", {"merchant_id": "m\x00", "date": "2020-01-01"}
        ),
    ]

    for response in responses:
        assert_error(response, 422, INVALID)
    assert await api.counts() == before


async def test_an_escaped_backslash_before_u0000_is_plain_text_that_round_trips(
    open_api: ApiFactory, any_db_url: str
) -> None:
    api = await open_api(any_db_url)
    merchant = await api.new_merchant()

    created = await api.pay(merchant, "ORDER-\\u0000", metadata={"path": "C:\\u0000\\"})

    assert created["order_no"] == "ORDER-\\u0000"
    assert created["metadata"] == {"path": "C:\\u0000\\"}


async def test_a_forged_cursor_holding_a_nul_is_a_validation_error(
    open_api: ApiFactory, any_db_url: str
) -> None:
    api = await open_api(any_db_url)
    merchant = await api.new_merchant()
    forged = base64.urlsafe_b64encode(b"2026-11-23T00:00:00+00:00|pay_\x00").decode()

    response = await api.call(merchant, "GET", f"{PAYMENTS}?cursor={forged.rstrip('=')}")

    assert_error(response, 422, INVALID)

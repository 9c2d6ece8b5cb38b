"""An order_no or Idempotency-Key that would not read as itself (spaces only, zero-width
or direction-override characters, or text not in Unicode NFC that reads the same as
another) is `422 validation_error` and writes nothing."""

from __future__ import annotations

import pytest
from http_harness import Api, Keys, assert_error, encode, payment_body

from entrypoints.cli.signing import signed_headers

PAYMENTS = "/api/v1/payments"


@pytest.mark.parametrize("order_no", ["   ", "ORDER\u200b1", "\u202e100-REDRO", " ORDER-1",
                                      "ORDER\u00a01", "\u200b"])
async def test_an_order_no_that_does_not_read_as_itself_is_422_and_writes_nothing(
    api: Api, merchant: Keys, order_no: str
) -> None:
    before = await api.counts()

    response = await api.call(merchant, "POST", PAYMENTS, payment_body(order_no))

    error = assert_error(response, 422, "validation_error")
    assert "order_no" in error["message"]
    assert await api.counts() == before


@pytest.mark.parametrize("order_no", ["CAFe\u0301-7", "\u212b-7"])
async def test_an_order_no_not_in_unicode_nfc_is_422_and_writes_nothing(
    api: Api, merchant: Keys, order_no: str
) -> None:
    """NFD `e` + U+0301 reads as NFC `é`: taken, they would be two live orders that look
    the same. It is refused, not rewritten: the merchant's number comes back as sent."""
    before = await api.counts()

    error = assert_error(
        await api.call(merchant, "POST", PAYMENTS, payment_body(order_no)), 422,
        "validation_error")

    assert "order_no" in error["message"]
    assert "NFC" in error["message"]
    assert await api.counts() == before


async def test_an_nfc_order_no_comes_back_as_sent_and_its_nfd_twin_is_refused(
    api: Api, merchant: Keys
) -> None:
    paid = await api.pay(merchant, "CAF\u00e9-8")
    assert paid["order_no"].encode() == "CAF\u00e9-8".encode()
    before = await api.counts()

    twin = await api.call(merchant, "POST", PAYMENTS, payment_body("CAFe\u0301-8"))

    assert_error(twin, 422, "validation_error")
    assert await api.counts() == before


async def test_an_order_no_with_spaces_inside_is_taken(api: Api, merchant: Keys) -> None:
    assert (await api.pay(merchant, "ORDER 17 / B"))["order_no"] == "ORDER 17 / B"


@pytest.mark.parametrize("key", ["\u202ekey".encode(), "key\u200b".encode(), b"k\x01y"])
async def test_an_idempotency_key_that_does_not_read_as_itself_is_422_and_writes_nothing(
    api: Api, merchant: Keys, key: bytes
) -> None:
    raw = encode(payment_body("ORDER-KEYED"))
    headers = [(k, v) for k, v in signed_headers(
        merchant.api_key, merchant.api_secret, "POST", PAYMENTS, raw).items()]
    headers += [("Content-Type", "application/json"), ("Idempotency-Key", key)]
    before = await api.counts()

    response = await api.client.post(PAYMENTS, content=raw, headers=headers)

    assert_error(response, 422, "validation_error")
    assert await api.counts() == before

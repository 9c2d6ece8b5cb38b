"""A body must be JSON: anything else is 415 unsupported_media_type and writes nothing;
a request without a body is not refused for its Content-Type. And the body is decoded
once, by paygate: Litestar's own JSON decoder is never asked for it."""

from __future__ import annotations

from typing import Any

import pytest
from http_harness import Api, Keys, assert_error, encode, payment_body
from litestar.connection import request as litestar_request

from entrypoints.cli.signing import signed_headers

PAYMENTS = "/api/v1/payments"


async def send(api: Api, keys: Keys, target: str, body: bytes, content_type: str | None) -> Any:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return await api.call(keys, "POST", target, body, headers=headers)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1",
     "application/jsonx", "multipart/form-data; boundary=x"],
)
async def test_a_payment_body_that_is_not_json_is_refused_with_415(
    api: Api, merchant: Keys, content_type: str
) -> None:
    before = await api.counts()

    response = await send(api, merchant, PAYMENTS, encode(payment_body()), content_type)

    error = assert_error(response, 415, "unsupported_media_type")
    assert content_type in error["message"]
    assert await api.counts() == before


async def test_a_body_without_a_content_type_is_refused_with_415(
    api: Api, merchant: Keys
) -> None:
    body = encode(payment_body())
    before = await api.counts()

    response = await api.client.post(
        PAYMENTS, content=body, headers=api_headers(merchant, body)
    )

    assert_error(response, 415, "unsupported_media_type")
    assert await api.counts() == before


def api_headers(keys: Keys, body: bytes) -> dict[str, str]:
    return signed_headers(keys.api_key, keys.api_secret, "POST", PAYMENTS, body)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=\"UTF-8\""],
)
async def test_json_with_or_without_a_utf8_charset_is_accepted(
    api: Api, merchant: Keys, content_type: str
) -> None:
    response = await send(api, merchant, PAYMENTS, encode(payment_body()), content_type)

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("content_type", [None, "text/plain"])
async def test_a_refund_without_a_body_refunds_the_rest_whatever_its_content_type(
    api: Api, merchant: Keys, content_type: str | None
) -> None:
    payment = await api.pay(merchant, amount=1_000)

    response = await send(
        api, merchant, f"{PAYMENTS}/{payment['payment_no']}/refunds", b"", content_type
    )

    assert response.status_code == 201, response.text
    assert response.json()["amount"] == 1_000


async def test_a_payment_without_a_body_or_content_type_is_malformed(
    api: Api, merchant: Keys
) -> None:
    before = await api.counts()

    response = await send(api, merchant, PAYMENTS, b"", None)

    assert_error(response, 400, "malformed_request")
    assert await api.counts() == before


async def test_an_admin_body_that_is_not_json_is_refused_with_415(api: Api) -> None:
    before = await api.counts()

    response = await api.admin(
        "POST", "/admin/v1/merchants", {"name": "Acme"}, headers={"Content-Type": "text/plain"}
    )

    assert_error(response, 415, "unsupported_media_type")
    assert await api.counts() == before


async def test_litestar_never_decodes_the_body_itself(
    api: Api, merchant: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was decoded a second time")

    monkeypatch.setattr(litestar_request, "decode_json", refuse)

    created = await api.pay(merchant)
    refund = await api.refund(merchant, created["payment_no"], {"amount": 1})

    assert created["status"] == "succeeded"
    assert refund.status_code == 201, refund.text

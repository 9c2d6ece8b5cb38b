"""A body is decoded once, strictly, whichever of the two decoders reads it."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from litestar.exceptions import ValidationException

from entrypoints.http.body import decode_body
from entrypoints.http.schemas import CreatePaymentIn, CreateRefundIn

CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2030,
        "cvc": "123"}
PAYMENT = {"order_no": "ORDER-1", "amount": 100, "currency": "USD", "channel": "sandbox",
           "payment_method": CARD}


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


def refusal(body: bytes, kind: Any = CreatePaymentIn) -> str:
    with pytest.raises(ValidationException) as refused:
        decode_body(body, kind)
    return " ".join(str(item["message"]) for item in refused.value.extra)  # type: ignore[union-attr]


def test_a_body_with_distinct_keys_and_one_repeating_a_name_across_objects_decode_alike() -> None:
    plain = decode_body(encoded(PAYMENT), CreatePaymentIn)
    # "type" is a key of the card and of the metadata: two objects, one key each
    repeated = decode_body(encoded({**PAYMENT, "metadata": {"type": "gift"}}), CreatePaymentIn)

    assert msgspec.structs.replace(repeated, metadata={}) == plain
    assert repeated.metadata == {"type": "gift"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"amount": 1, "amount": 100000}',
        encoded(PAYMENT)[:-1] + b', "amount": 100000}',
        encoded({**PAYMENT, "payment_method": CARD}).replace(b'"cvc"', b'"cvc": "999", "cvc"'),
        b'{"amount": 1, "amo\\u0075nt": 100000}',
        encoded({**PAYMENT, "metadata": {"k": "a"}}).replace(b'"k": "a"', b'"k": "a", "k": "b"'),
    ],
    ids=["top level", "after a whole payment", "in the card", "spelt with an escape",
         "in the metadata"],
)
def test_a_key_twice_in_one_object_is_refused(body: bytes) -> None:
    kind = CreateRefundIn if body.startswith(b'{"amount": 1,') else CreatePaymentIn
    assert "a key appears twice" in refusal(body, kind)


@pytest.mark.parametrize("escaped", [False, True], ids=["fast decoder", "pairs decoder"])
@pytest.mark.parametrize(
    ("amount", "message"),
    [("100", "Expected `int`, got `str`"), (100.0, "Expected `int`, got `float`"),
     (True, "Expected `int`, got `bool`")],
)
def test_a_wrong_type_is_refused_not_converted(escaped: bool, amount: Any, message: str) -> None:
    # an escaped "/" in the description sends the body to the pairs decoder
    body = encoded({**PAYMENT, "amount": amount, "description": "a/b"})
    if escaped:
        body = body.replace(b"a/b", b"a\\/b")

    assert refusal(body) == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"amount": NaN}', "not valid JSON"),
        (b'{"amount": Infinity}', "not valid JSON"),
        (b'{"reason": "\\ud800"}', "not valid UTF-8"),
        (b'{"reason": "\xff"}', "not valid UTF-8"),
        (b'{"reason": "\\u00ff\xff"}', "not valid UTF-8"),
        (b'{"reason": "x"', "not valid JSON"),
        (b"\xef\xbb\xbf{}", "not valid JSON"),
        (b'{"reason": "\\/", "amount": ' + b"[" * 100_000, "not valid JSON"),
    ],
    ids=["NaN", "Infinity", "lone surrogate", "not utf-8", "not utf-8 after an escape",
         "truncated", "byte order mark", "nested too deep"],
)
def test_what_is_not_json_text_is_malformed(body: bytes, message: str) -> None:
    assert message in refusal(body, CreateRefundIn)


def test_a_surrogate_pair_is_one_character_not_a_lone_surrogate() -> None:
    decoded = decode_body(b'{"reason": "\\ud83d\\ude00"}', CreateRefundIn)

    assert decoded.reason == "\U0001f600"


def test_a_nul_escaped_in_a_string_is_refused_and_an_escaped_backslash_is_not() -> None:
    assert "NUL" in refusal(b'{"reason": "a\\u0000"}', CreateRefundIn)
    assert decode_body(b'{"reason": "a\\\\u0000"}', CreateRefundIn).reason == "a\\u0000"

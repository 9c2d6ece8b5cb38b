"""Properties of what parses untrusted input: channel signatures, merchant HMACs, money.

Each parser either accepts or raises its one documented error; nothing else escapes.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.channel.signature import signature_header, verify_signature
from application.errors import InvalidSignature
from domain.errors import DomainError
from domain.money import MAX_PAYMENT_MINOR_UNITS, Money, is_currency
from entrypoints.http.auth import request_target, signature

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())
FAST = settings(max_examples=150, deadline=None)

header_parts = st.one_of(
    st.text(max_size=40),
    st.builds(lambda d: f"t={d}", st.from_regex(r"[0-9]{1,600}", fullmatch=True)),
    st.builds(lambda d: f"v1={d}", st.from_regex(r"[0-9a-f]{0,64}", fullmatch=True)),
)
headers = st.lists(header_parts, max_size=5).map(",".join)


@FAST
@given(header=headers, body=st.binary(max_size=200), secret=st.text(min_size=1, max_size=20))
def test_verify_signature_only_ever_raises_invalid_signature(
    header: str, body: bytes, secret: str
) -> None:
    with contextlib.suppress(InvalidSignature):
        verify_signature(header, secret, body, NOW)


@FAST
@given(
    body=st.binary(max_size=200),
    secret=st.text(min_size=1, max_size=20),
    skew=st.integers(-300, 300),
)
def test_verify_signature_accepts_what_signature_header_made(
    body: bytes, secret: str, skew: int
) -> None:
    verify_signature(signature_header(secret, body, STAMP + skew), secret, body, NOW)


@FAST
@given(body=st.binary(max_size=100), other=st.binary(min_size=1, max_size=5))
def test_verify_signature_refuses_a_changed_body(body: bytes, other: bytes) -> None:
    header = signature_header("secret", body, STAMP)
    with pytest.raises(InvalidSignature):
        verify_signature(header, "secret", body + other, NOW)


@pytest.mark.parametrize("digits", [13, 400, 5_000])
def test_an_absurdly_long_timestamp_is_an_invalid_signature(digits: int) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature(f"t={'9' * digits},v1=ab", "secret", b"", NOW)


ascii_path = st.from_regex(r"/[A-Za-z0-9_/\-.%]{0,40}", fullmatch=True)


@FAST
@given(
    path=ascii_path,
    query=st.binary(max_size=40),
    secret=st.binary(min_size=1, max_size=32),
    method=st.sampled_from(["GET", "POST"]),
    body=st.binary(max_size=100),
)
def test_the_merchant_signature_covers_the_exact_target(
    path: str, query: bytes, secret: bytes, method: str, body: bytes
) -> None:
    scope = {"raw_path": path.encode(), "path": path, "query_string": query}
    target = request_target(scope)

    assert target == (f"{path}?{query.decode('latin-1')}" if query else path)
    mac = signature(secret, str(STAMP), method, target, body)
    assert len(mac) == 64
    assert mac == mac.lower()
    assert mac != signature(secret, str(STAMP), method, target, body + b"x")
    assert mac != signature(secret, str(STAMP + 1), method, target, body)


currencies = st.one_of(st.sampled_from(["USD", "JPY", "KWD", "EUR"]), st.text(max_size=4))
amounts: st.SearchStrategy[Any] = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@FAST
@given(amount=amounts, currency=currencies)
def test_money_positive_accepts_exactly_ints_in_range_of_a_known_currency(
    amount: Any, currency: str
) -> None:
    valid = type(amount) is int and 0 < amount <= MAX_PAYMENT_MINOR_UNITS and is_currency(currency)
    try:
        money = Money.positive(amount, currency)
    except DomainError:
        assert not valid, (amount, currency)
    else:
        assert valid, (amount, currency)
        assert (money.amount, money.currency) == (amount, currency)

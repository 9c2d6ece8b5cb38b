"""Redaction of log data: card numbers whatever their type, and values under card-ish names."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest

from observability.logging import json_handler
from observability.redaction import REDACTED, redact_text, redact_value

PAN = 4242424242424242
NOT_LUHN = 4242424242424241


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    output = io.StringIO()
    logger = logging.getLogger("paygate.test.redaction")
    handler = json_handler(output)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield output
    logger.removeHandler(handler)


class TestIntegerCardNumbers:
    @pytest.mark.parametrize("value", [PAN, 378282246310005, -PAN, float(PAN)])
    def test_a_number_that_is_a_card_number_is_hidden(self, value: object) -> None:
        assert redact_value(value) == REDACTED
        assert redact_value({"amounts": [1, value]}) == {"amounts": [1, REDACTED]}

    @pytest.mark.parametrize("value", [
        0, 1050, 2026, NOT_LUHN,
        1_700_000_000_001,  # a timestamp in ms: 13 digits, fails Luhn
        1234567890123456789012,  # 22 digits: longer than any card number
        1.5, True, None,
    ])
    def test_other_numbers_are_kept(self, value: object) -> None:
        assert redact_value(value) == value
        assert redact_value({"n": value}) == {"n": value}

    def test_extra_fields_as_integers_never_reach_the_output(self, stream: io.StringIO) -> None:
        log = logging.getLogger("paygate.test.redaction")
        log.info("x", extra={"pan": PAN})
        log.info("x", extra={"payment_method": {"number": PAN, "cvc": 987}, "amount": 1050})
        log.info("x", extra={"ids": [PAN, 7]})
        output = stream.getvalue()
        assert str(PAN) not in output
        assert "987" not in output
        pan, body, ids = (json.loads(line) for line in output.splitlines())
        assert pan["pan"] == REDACTED
        assert body["payment_method"] == {"number": REDACTED, "cvc": REDACTED}
        assert body["amount"] == 1050
        assert ids["ids"] == [REDACTED, 7]


class TestSensitiveNames:
    @pytest.mark.parametrize("key", [
        "pan", "PAN", "number", "card_number", "cardNumber", "card-number", "cvc", "cvv",
        "cvv2", "security_code", "api_secret", "webhook_secret", "signature", "X-Signature",
        "password", "token",
    ])
    @pytest.mark.parametrize("value", [NOT_LUHN, "4242424242424241", 987, "987", 1.5,
                                       ["4242", "4242"], {"a": 1}, None])
    def test_a_value_under_a_sensitive_name_is_hidden_whatever_its_type(
        self, key: str, value: object
    ) -> None:
        assert redact_value({key: value}) == {key: REDACTED}
        assert redact_value([(key, value)]) == [[key, REDACTED]]

    @pytest.mark.parametrize("key", [
        "payment_no", "phone_number", "order_number", "attempt_number", "span_id", "company",
        "expand", "amount", "brand", "last4",
    ])
    def test_ordinary_names_are_not_sensitive(self, key: str) -> None:
        assert redact_value({key: 1050}) == {key: 1050}
        assert redact_value({key: "visa"}) == {key: "visa"}


class TestCvcInMessages:
    @pytest.mark.parametrize(("text", "expected"), [
        ("cvc 987", "cvc [REDACTED]"),
        ("charging with CVC 987 now", "charging with CVC [REDACTED] now"),
        ("cvv 1234", "cvv [REDACTED]"),
        ("cvv2 987", "cvv2 [REDACTED]"),
        ("card_cvc\t987", "card_cvc\t[REDACTED]"),
        ("security code 987", "security code [REDACTED]"),
        ("security code: 987", "security code: [REDACTED]"),
        ("security_code 987", "security_code [REDACTED]"),
        ("cvc - 987", "cvc - [REDACTED]"),
        ("cvc (987)", "cvc ([REDACTED])"),
        ('cvc "987"', 'cvc "[REDACTED]"'),
        ("cvc=987", "cvc=[REDACTED]"),
        ("cvc: 987", "cvc: [REDACTED]"),
    ])
    def test_a_cvc_after_its_name_is_hidden_whatever_the_separator(
        self, text: str, expected: str
    ) -> None:
        assert redact_text(text) == expected

    @pytest.mark.parametrize("text", [
        "order 987 for 1050 cents",
        "retry 3 of 5 after 1000 ms",
        "listening on port 8080",
        "cvc check failed",
        "invalid cvc for card ending 4242",
        "cvc 12345 is not a cvc",
        "security check 987",
    ])
    def test_numbers_without_a_cvc_name_before_them_are_kept(self, text: str) -> None:
        assert redact_text(text) == text

    def test_a_cvc_in_a_message_or_an_extra_never_reaches_the_output(
        self, stream: io.StringIO
    ) -> None:
        log = logging.getLogger("paygate.test.redaction")
        log.info("declined: cvc %s", "987")
        log.info("x", extra={"note": "customer typed security code 987"})
        assert "987" not in stream.getvalue()


@pytest.mark.parametrize("text", [
    "a" * 20_000,
    "x-" * 10_000,
    "token" + "a" * 20_000,
    "cvc" + "a" * 20_000,
    "token" * 4_000,
    "cvc" * 7_000,
    "security " * 3_000,
])
def test_a_long_word_is_scrubbed_in_one_pass(text: str) -> None:
    """A base64 blob or a long id in a message must not stall the logging thread: these
    took 20 seconds each when a name was searched for at every offset of the word, and take
    milliseconds now; the bound is a thousand times that, so only the quadratic scan fails."""
    started = time.perf_counter()
    assert redact_text(text) == text
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(("text", "expected"), [
    ("security code: 98765", "security code: [REDACTED]"),
    ("SECURITY-CODE 987", "SECURITY-CODE [REDACTED]"),
    ("x-api-token=abc def", "x-api-token=[REDACTED] def"),
    ('{"card_number": "4111"}', '{"card_number": "[REDACTED]"}'),
    ("my_cvc2=12", "my_cvc2=[REDACTED]"),
    ("cvc check failed", "cvc check failed"),
])
def test_names_inside_and_across_words_are_still_found(text: str, expected: str) -> None:
    assert redact_text(text) == expected

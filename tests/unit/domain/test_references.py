"""Order numbers and Idempotency-Keys read as what they are."""

from __future__ import annotations

import pytest

from domain.errors import InvalidReference
from domain.references import check_reference, is_readable


@pytest.mark.parametrize("text", [
    "ORDER-001", "a", "order 17/B", "注文-42", "x" * 300, "é",
    "CAF\u00e9-1",  # é composed: Unicode NFC
    "q\u0307",  # a combining mark with no composed form is NFC as it is
    "\u1e0d\u0307",  # NFC orders marks below before marks above
    "\ud55c",  # a composed Hangul syllable
    "\u00c5",  # Å, the letter
])
def test_printable_references_are_readable(text: str) -> None:
    assert is_readable(text)


@pytest.mark.parametrize("text", [
    "",
    " ",
    "   ",
    "\t",
    " ORDER-1",
    "ORDER-1 ",
    "ORDER\u200b1",  # zero-width space
    "\u200b",
    "ORDER\u202e1-REDRO",  # right-to-left override
    "ORDER\u2066-1",  # left-to-right isolate
    "ORDER\u00a01",  # no-break space
    "ORDER\n1",
    "ORDER\x001",
    "ORDER\ufeff",  # byte order mark
    # not in Unicode NFC: canonically the same as another text, so two "different" order
    # numbers would read the same
    "CAFe\u0301-1",  # e + combining acute: é decomposed (NFD)
    "e\u0301",
    "\u212b",  # ANGSTROM SIGN, canonically Å
    "\u1e0b\u0323",  # marks in the order NFC does not keep
    "\u1112\u1161\u11ab",  # Hangul jamo that compose to one syllable
])
def test_blank_padded_invisible_or_decomposed_text_is_not_readable(text: str) -> None:
    assert not is_readable(text)


def test_check_reference_returns_a_readable_one_as_it_is() -> None:
    assert check_reference("order_no", "ORDER-001") == "ORDER-001"


def test_check_reference_names_the_field_it_refuses() -> None:
    with pytest.raises(InvalidReference) as refused:
        check_reference("order_no", "ORDER\u202e1")

    assert refused.value.code == "validation_error"
    assert refused.value.details == {"field": "order_no"}
    assert "order_no" in refused.value.message


def test_a_reference_not_in_nfc_is_refused_saying_so_and_not_normalised() -> None:
    with pytest.raises(InvalidReference) as refused:
        check_reference("order_no", "CAFe\u0301")

    assert refused.value.details == {"field": "order_no"}
    assert "NFC" in refused.value.message
    assert check_reference("order_no", "CAF\u00e9") == "CAF\u00e9"  # as it was sent

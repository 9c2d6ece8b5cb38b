"""Order numbers and Idempotency-Keys read as what they are."""

from __future__ import annotations

import pytest

from domain.errors import InvalidReference
from domain.references import check_reference, is_readable


@pytest.mark.parametrize("text", ["ORDER-001", "a", "order 17/B", "注文-42", "x" * 300, "é"])
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
])
def test_blank_padded_or_invisible_characters_are_not_readable(text: str) -> None:
    assert not is_readable(text)


def test_check_reference_returns_a_readable_one_as_it_is() -> None:
    assert check_reference("order_no", "ORDER-001") == "ORDER-001"


def test_check_reference_names_the_field_it_refuses() -> None:
    with pytest.raises(InvalidReference) as refused:
        check_reference("order_no", "ORDER\u202e1")

    assert refused.value.code == "validation_error"
    assert refused.value.details == {"field": "order_no"}
    assert "order_no" in refused.value.message

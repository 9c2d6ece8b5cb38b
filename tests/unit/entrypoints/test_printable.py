"""`printable`: what the CLI's human-readable output shows of a stored string."""

from __future__ import annotations

import pytest

from entrypoints.cli.common import printable


@pytest.mark.parametrize(("stored", "shown"), [
    ("evil\x1b[31mRED\x1b]0;t\x07", r"evil\x1b[31mRED\x1b]0;t\x07"),  # C0: CSI, OSC, BEL
    ("a\x9b31mb\x85c", r"a\u009b31mb\u0085c"),  # C1: a one-character CSI, NEL
    ("del\x7f nul\x00", r"del\x7f nul\x00"),
    ("line1\nline2\r\tend", r"line1\nline2\r\tend"),
    ("abc\u202edcba \u2066x\u2069 \u2028", r"abc\u202edcba \u2066x\u2069 \u2028"),  # bidi, LS
])
def test_every_character_a_terminal_obeys_is_shown_as_its_escape(
    stored: str, shown: str
) -> None:
    assert printable(stored) == shown


@pytest.mark.parametrize("text", [
    "Caf\u00e9 \u00fcn\u00ef c\u00f8d\u00e9", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "[bold]not markup[/bold]", "C:\\path\\x1b", "",
])
def test_printable_text_is_left_as_it_is(text: str) -> None:
    assert printable(text) == text

"""A merchant's own references (an order number, an Idempotency-Key) as people read them.

They end up in dashboards, logs, CSV exports and support tickets, and two of them must
never look alike while being different: an order number of spaces, one with a zero-width
space in it, or one that a right-to-left override turns around on screen would each pass
for another (or for none). So a reference is printable characters only (no control,
format, separator or unassigned character but the ASCII space), not blank, has no
space at either end, and is in Unicode NFC: `é` decomposed (`e` and U+0301) reads as `é`
composed, so only the composed form, the one keyboards and most systems send, is taken.
A reference is refused, never normalised: the merchant's own text comes back byte for
byte.
"""

from __future__ import annotations

import unicodedata

from domain.errors import InvalidReference


def is_readable(text: str) -> bool:
    """True when `text` reads as what it is, and as no other text does."""
    return (bool(text) and text.isprintable() and text.strip() == text
            and unicodedata.is_normalized("NFC", text))


def check_reference(name: str, text: str) -> str:
    """`text`, or `InvalidReference` naming `name` when it does not read as what it is."""
    if not is_readable(text):
        raise InvalidReference(
            f"{name} must be printable characters in Unicode NFC (composed: é as one "
            "character, not e and a combining accent), not blank, with no space at either "
            "end (no zero-width, direction-override or control characters)",
            field=name,
        )
    return text

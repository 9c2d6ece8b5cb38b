"""Header lookup that does not depend on how a framework spelled the names."""

from __future__ import annotations

from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive: HTTP header names are, whatever the mapping we were handed."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None

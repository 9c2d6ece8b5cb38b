"""Random public identifiers: 96 random bits are unique across processes and hosts."""

from __future__ import annotations

import secrets


class RandomIds:
    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)

"""Card fingerprints: how risk recognises a card again without ever keeping its number."""

from __future__ import annotations

import hashlib
import hmac


class CardFingerprinter:
    """Keyed HMAC-SHA256 of the card number.

    A bare hash of a 16-digit number is reversible by enumeration (the BIN and last4 are
    public, leaving ~10^6 candidates); with a secret key it is not. Every process that
    compares fingerprints (the gateway and a remote risk service) shares the key.
    """

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode() if isinstance(key, str) else key
        if len(raw) < 16:
            raise ValueError("the card fingerprint key must be at least 16 bytes")
        self._key = raw

    def __repr__(self) -> str:
        return "CardFingerprinter(key=<hidden>)"

    def of(self, number: str) -> str:
        """Lowercase hex; the same number always gives the same fingerprint under one key."""
        return hmac.new(self._key, number.encode("ascii"), hashlib.sha256).hexdigest()

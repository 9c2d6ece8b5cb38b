"""Merchant secrets sealed with AES-256-GCM under one master key, opened under it or the
key it replaces.

The HMAC check needs the secret itself, so a one-way hash cannot work; the database holds
only ciphertext, and the master key lives outside it (environment or a key file). Each
sealed value names the key that sealed it (`v2:{key id}:{nonce + ciphertext}`), so a
process holding the new key and the previous one opens either while `paygate keys rotate`
re-seals the database under the new one (docs/adr/0022). Values written before key ids
(`v1:`) are tried under each key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LEGACY, _VERSION = "v1", "v2"
KEY_ID_LENGTH = 16  # hex characters of the fingerprint that a sealed value carries
_FINGERPRINT_LABEL = b"paygate master key fingerprint"


class UnknownSealingKey(ValueError):
    """A sealed value this vault holds no key for: it was sealed under another master key."""


def key_fingerprint(key: bytes) -> str:
    """What the database records of a key (lowercase hex): an HMAC of a fixed label keyed
    with it, which names the key without revealing it."""
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def decode_key(text: str) -> bytes:
    """The 32 bytes of a base64 key (standard or URL-safe alphabet, padding optional)."""
    cleaned = text.strip().replace("+", "-").replace("/", "_")
    try:
        key = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except ValueError as error:
        raise ValueError("the master key is not base64") from error
    if len(key) != 32:
        raise ValueError("the master key must be 32 bytes (base64 of 32 random bytes)")
    return key


def read_key_file(path: Path) -> str:
    """The key a file holds; it must exist (only the quickstart creates one)."""
    return path.read_text().strip()


def create_key_file(path: Path) -> None:
    """A new random key in a file only its owner may read; an existing file is kept."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


class AesGcmVault:
    """Seals under the first key; opens under any of them."""

    def __init__(self, key: bytes, *previous: bytes) -> None:
        keys = (key, *previous)
        if any(len(k) != 32 for k in keys):
            raise ValueError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self.fingerprints = tuple(key_fingerprint(k) for k in keys)
        self._by_id = {
            fp[:KEY_ID_LENGTH]: AESGCM(k) for fp, k in zip(self.fingerprints, keys, strict=True)
        }
        self._sealing_id = self.fingerprints[0][:KEY_ID_LENGTH]

    @classmethod
    def from_base64(cls, text: str, *previous: str) -> AesGcmVault:
        return cls(decode_key(text), *(decode_key(p) for p in previous))

    @property
    def fingerprint(self) -> str:
        """The fingerprint of the key this vault seals with."""
        return self.fingerprints[0]

    def seal(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._by_id[self._sealing_id].encrypt(nonce, plaintext.encode(), None)
        payload = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{_VERSION}:{self._sealing_id}:{payload}"

    def open(self, sealed: str) -> str:
        return self._open_under(self._by_id, sealed)

    @property
    def sealing_prefix(self) -> str:
        """How every value this vault seals begins."""
        return f"{_VERSION}:{self._sealing_id}:"

    def key_of(self, sealed: str) -> str | None:
        """The fingerprint of the key (of this vault's) that opens `sealed`, else None."""
        for fingerprint in self.fingerprints:
            key_id = fingerprint[:KEY_ID_LENGTH]
            try:
                self._open_under({key_id: self._by_id[key_id]}, sealed)
            except (UnknownSealingKey, InvalidTag):
                continue
            return fingerprint
        return None

    @staticmethod
    def _open_under(keys: dict[str, AESGCM], sealed: str) -> str:
        version, _, rest = sealed.partition(":")
        if version == _VERSION:
            key_id, _, payload = rest.partition(":")
            aead = keys.get(key_id)
            if aead is None:
                raise UnknownSealingKey(f"sealed under key {key_id}, which this process lacks")
            return _decrypt(aead, payload)
        if version != _LEGACY:
            raise ValueError("unknown sealed-secret format")
        for aead in keys.values():
            try:
                return _decrypt(aead, rest)
            except InvalidTag:
                continue
        raise UnknownSealingKey("sealed under a master key this process lacks")


def _decrypt(aead: AESGCM, payload: str) -> str:
    raw = base64.urlsafe_b64decode(payload)
    return aead.decrypt(raw[:12], raw[12:], None).decode()

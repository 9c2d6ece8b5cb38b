"""Merchant secrets sealed with AES-256-GCM under one master key.

The HMAC check needs the secret itself, so a one-way hash cannot work; the database holds
only ciphertext, and the master key lives outside it (environment or a key file).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"


class AesGcmVault:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(key)

    @classmethod
    def from_base64(cls, text: str) -> AesGcmVault:
        return cls(base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4)))

    @classmethod
    def from_key_file(cls, path: Path) -> AesGcmVault:
        """Read the key file, creating it (mode 0600) on first use."""
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        return cls.from_base64(path.read_text())

    def seal(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> str:
        version, _, payload = sealed.partition(":")
        if version != _VERSION:
            raise ValueError("unknown sealed-secret format")
        raw = base64.urlsafe_b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()

"""The vault seals under one master key and opens under it or the key it replaces."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from adapters.platform.vault import (
    AesGcmVault,
    UnknownSealingKey,
    create_key_file,
    decode_key,
    key_fingerprint,
    read_key_file,
)

OLD, NEW = os.urandom(32), os.urandom(32)


def test_a_sealed_value_opens_under_its_vault_and_holds_no_plain_text() -> None:
    vault = AesGcmVault(NEW)

    sealed = vault.seal("whsec_plain")

    assert "whsec_plain" not in sealed
    assert vault.open(sealed) == "whsec_plain"


def test_a_sealed_value_names_the_key_that_sealed_it() -> None:
    vault = AesGcmVault(NEW, OLD)

    assert vault.seal("s").startswith(f"v2:{key_fingerprint(NEW)[:16]}:")
    assert vault.seal("s").startswith(vault.sealing_prefix)


def test_a_vault_with_the_previous_key_opens_what_the_previous_key_sealed() -> None:
    sealed_before = AesGcmVault(OLD).seal("secret")

    assert AesGcmVault(NEW, OLD).open(sealed_before) == "secret"


def test_a_vault_without_the_sealing_key_refuses_with_unknown_sealing_key() -> None:
    sealed = AesGcmVault(OLD).seal("secret")

    with pytest.raises(UnknownSealingKey):
        AesGcmVault(NEW).open(sealed)


def test_values_sealed_before_key_ids_open_under_whichever_key_sealed_them() -> None:
    legacy = "v1:" + AesGcmVault(OLD).seal("secret").split(":", 2)[2]

    assert AesGcmVault(NEW, OLD).open(legacy) == "secret"
    with pytest.raises(UnknownSealingKey):
        AesGcmVault(NEW).open(legacy)


def test_key_of_names_the_key_that_opens_a_value_and_none_for_a_stranger() -> None:
    vault = AesGcmVault(NEW, OLD)

    assert vault.key_of(AesGcmVault(OLD).seal("s")) == key_fingerprint(OLD)
    assert vault.key_of(vault.seal("s")) == key_fingerprint(NEW)
    assert vault.key_of(AesGcmVault(os.urandom(32)).seal("s")) is None


def test_the_fingerprint_names_the_sealing_key_without_containing_it() -> None:
    vault = AesGcmVault(NEW, OLD)

    assert vault.fingerprint == key_fingerprint(NEW) != key_fingerprint(OLD)
    assert vault.fingerprints == (key_fingerprint(NEW), key_fingerprint(OLD))
    assert NEW.hex() not in vault.fingerprint
    assert base64.urlsafe_b64encode(NEW).decode() not in vault.fingerprint


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_a_key_decodes_from_either_base64_alphabet(encode: object) -> None:
    text = encode(NEW).decode()  # type: ignore[operator]

    assert decode_key(text.rstrip("=")) == NEW


@pytest.mark.parametrize("text", ["c2hvcnQ=", base64.b64encode(bytes(range(33))).decode()])
def test_a_key_of_other_than_32_bytes_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        decode_key(text)


def test_create_key_file_writes_a_key_only_its_owner_reads_and_keeps_an_existing_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "paygate.key"

    create_key_file(path)
    first = read_key_file(path)
    create_key_file(path)

    assert len(decode_key(first)) == 32
    assert read_key_file(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reading_a_key_file_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_key_file(tmp_path / "paygate.key")

    assert not (tmp_path / "paygate.key").exists()

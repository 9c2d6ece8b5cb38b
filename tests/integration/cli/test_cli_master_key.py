"""The master key from the operator's side: no command but the quickstart makes one, a key
that is not the database's is refused in one line, and `paygate keys rotate` re-seals."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cli_harness import Paygate, assert_clean_failure

from adapters.platform.vault import AesGcmVault

NEW = base64.b64encode(os.urandom(32)).decode()
WITHOUT_A_KEY = [
    ("payments", "list"),
    ("merchants", "create", "--name", "A"),
    ("db", "upgrade"),
    ("keys", "rotate"),
    ("keys", "show"),
    ("reconcile",),
    ("serve",),
    ("worker",),
    ("serve-risk",),
]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `uvicorn.run` was asked to serve, instead of serving it."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append(options))
    return calls


@pytest.mark.parametrize("args", WITHOUT_A_KEY, ids=lambda a: " ".join(a))
def test_a_command_without_a_master_key_exits_2_in_one_line_and_makes_no_key(
    paygate: Paygate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]], args: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "paygate.key").unlink()
    keyless = Paygate({k: v for k, v in paygate.env.items() if "MASTER_KEY" not in k})

    result = keyless(*args)

    assert_clean_failure(result, 2, "no master key", "PAYGATE_MASTER_KEY")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "paygate.key").exists()
    assert served == []


def test_a_key_file_that_does_not_exist_is_named_and_not_created(
    paygate: Paygate, tmp_path: Path
) -> None:
    missing = tmp_path / "elsewhere.key"

    result = Paygate({**paygate.env, "PAYGATE_MASTER_KEY_FILE": str(missing)})("payments", "list")

    assert_clean_failure(result, 2, "PAYGATE_MASTER_KEY_FILE", str(missing))
    assert not missing.exists()


@pytest.mark.parametrize("args", [("payments", "list"), ("serve",), ("worker",),
                                  ("db", "upgrade"), ("keys", "rotate")],
                         ids=lambda a: " ".join(a))
def test_a_process_whose_key_is_not_the_databases_refuses_to_start_in_one_line(
    paygate: Paygate, merchant: dict[str, Any], served: list[dict[str, Any]],
    args: tuple[str, ...],
) -> None:
    stranger = Paygate({**paygate.env, "PAYGATE_MASTER_KEY": NEW})

    result = stranger(*args)

    assert_clean_failure(result, 2, "configuration", "not the key")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert served == []


def test_quickstart_makes_its_key_file_once_owner_only_and_says_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PAYGATE_MASTER_KEY_FILE", raising=False)
    env = {"PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'paygate.db'}",
           "PAYGATE_TRACING": "off", "PAYGATE_METRICS": "off"}
    key = tmp_path / "paygate.key"

    first = Paygate(env)("quickstart")
    kept = key.read_text()
    monkeypatch.delenv("PAYGATE_MASTER_KEY_FILE")  # what it exported for its own server
    second = Paygate(env)("quickstart")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"master key: {key} (created now)" in first.stdout
    assert f"master key: {key} (kept from an earlier run)" in second.stdout
    assert key.read_text() == kept
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(served) == 2


def test_quickstart_with_a_configured_key_uses_it_and_says_so(
    paygate: Paygate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    served: list[dict[str, Any]],
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    key = paygate.env["PAYGATE_MASTER_KEY_FILE"]

    result = paygate("quickstart")

    assert result.exit_code == 0, result.output
    assert f"master key: {key} (PAYGATE_MASTER_KEY_FILE)" in result.stdout
    assert list(elsewhere.iterdir()) == []
    assert len(served) == 1


def test_keys_rotate_reseals_every_merchant_then_only_the_new_key_is_accepted(
    paygate: Paygate, merchant: dict[str, Any], tmp_path: Path
) -> None:
    old = (tmp_path / "paygate.key").read_text()
    both = Paygate({**paygate.env, "PAYGATE_MASTER_KEY": NEW, "PAYGATE_PREVIOUS_MASTER_KEY": old})
    new_only = Paygate({**paygate.env, "PAYGATE_MASTER_KEY": NEW})
    before = new_only("payments", "list")

    rotated = both.json("keys", "rotate")
    shown = new_only.json("keys", "show")

    assert_clean_failure(before, 2, "not the key")
    assert rotated["resealed"]["merchants.api_secret_sealed"] == 1
    assert rotated["sealed_with"] == shown["database_sealed_with"]
    assert shown["this_process_holds"] == [AesGcmVault.from_base64(NEW).fingerprint[:16]]
    assert new_only("payments", "list").exit_code == 0
    assert_clean_failure(paygate("payments", "list"), 2, "not the key")


@pytest.mark.parametrize("env", [
    {},  # the key the database has, and no other: the new one was never given
    {"PAYGATE_PREVIOUS_MASTER_KEY": NEW},  # the two swapped: the new one given as previous
], ids=["current-key-only", "keys-swapped"])
def test_keys_rotate_with_nothing_to_rotate_says_so_and_exits_1(
    paygate: Paygate, merchant: dict[str, Any], tmp_path: Path, env: dict[str, str]
) -> None:
    """It said "master key rotated", exit 0, and an operator who had forgotten to give the
    new key believed the rotation done."""
    old = (tmp_path / "paygate.key").read_text().strip()
    same = Paygate({**paygate.env, **env})

    result = same("keys", "rotate")
    as_json = same("keys", "rotate", "--json")

    for refused in (result, as_json):
        assert_clean_failure(
            refused, 1, "nothing_to_rotate", AesGcmVault.from_base64(old).fingerprint[:16],
            "PAYGATE_MASTER_KEY", "PAYGATE_PREVIOUS_MASTER_KEY")
        assert "rotated" not in refused.stdout
    assert paygate.json("audit", "list")["data"][0]["action"] != "keys.rotate"
    assert paygate.json("keys", "show")["database_sealed_with"] == (
        AesGcmVault.from_base64(old).fingerprint[:16])


def test_keys_rotate_run_again_with_both_keys_still_reseals_what_is_left(
    paygate: Paygate, merchant: dict[str, Any], tmp_path: Path
) -> None:
    old = (tmp_path / "paygate.key").read_text().strip()
    both = Paygate({**paygate.env, "PAYGATE_MASTER_KEY": NEW, "PAYGATE_PREVIOUS_MASTER_KEY": old})
    new_only = Paygate({**paygate.env, "PAYGATE_MASTER_KEY": NEW})

    first = both("keys", "rotate")
    again = both("keys", "rotate")
    after_dropping_the_old_key = new_only("keys", "rotate")

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "master key rotated" in again.stdout
    assert_clean_failure(after_dropping_the_old_key, 1, "nothing_to_rotate")

"""`paygate merchants routing show|set`: the admin API's rules, from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_harness import Paygate, assert_clean_failure

RULES = {"rules": [{"currency": "EUR", "max_amount": 50000, "channels": ["sandbox"]},
                   {"card_brand": "visa", "min_amount": 100, "channels": ["sandbox"]}]}
SHOWN = [
    {"currency": "EUR", "min_amount": None, "max_amount": 50000, "card_brand": None,
     "channels": ["sandbox"]},
    {"currency": None, "min_amount": 100, "max_amount": None, "card_brand": "visa",
     "channels": ["sandbox"]},
]


def test_set_from_a_file_then_show(
    paygate: Paygate, merchant: dict[str, Any], tmp_path: Path
) -> None:
    mid = merchant["merchant_id"]
    assert paygate.json("merchants", "routing", "show", mid) == {"merchant_id": mid, "rules": []}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))

    done = paygate.json("merchants", "routing", "set", mid, "--file", str(path))

    assert done == {"merchant_id": mid, "rules": SHOWN}
    assert paygate.json("merchants", "routing", "show", mid) == done
    table = paygate("merchants", "routing", "show", mid)
    assert table.exit_code == 0
    assert "[100, no limit)" in table.output
    assert "[0, 50000)" in table.output


def test_set_inline(paygate: Paygate, merchant: dict[str, Any]) -> None:
    mid = merchant["merchant_id"]
    done = paygate.json("merchants", "routing", "set", mid, "--rules", json.dumps(RULES))
    assert done["rules"] == SHOWN


def test_bad_rules_fail_cleanly_and_change_nothing(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    mid = merchant["merchant_id"]
    paygate.json("merchants", "routing", "set", mid, "--rules", json.dumps(RULES))
    before = paygate.counts()

    unknown = paygate("merchants", "routing", "set", mid,
                      "--rules", '{"rules": [{"channels": ["adyen"]}]}')
    backwards = paygate("merchants", "routing", "set", mid, "--rules",
                        '{"rules": [{"min_amount": 10, "max_amount": 5, "channels": ["sandbox"]}]}')
    not_json = paygate("merchants", "routing", "set", mid, "--rules", "rules please")

    assert_clean_failure(unknown, 1, "invalid_channel", "adyen")
    assert_clean_failure(backwards, 1, "min_amount")
    assert not_json.exit_code == 2
    assert "rules" in not_json.output
    assert paygate.counts() == before
    assert paygate.json("merchants", "routing", "show", mid)["rules"] == SHOWN


def test_an_unknown_merchant_fails_cleanly(paygate: Paygate) -> None:
    assert_clean_failure(paygate("merchants", "routing", "show", "mch_nobody"), 1, "mch_nobody")


def test_set_names_the_channels_it_checked_against_this_shell_s_own(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    """The CLI checks the rules against the channels its own settings make, which may not be
    the serving deployment's: it says which ones, so an operator can tell."""
    mid = merchant["merchant_id"]
    shell = Paygate({**paygate.env, "PAYGATE_CHANNEL_URLS": "backup=http://127.0.0.1:9"})
    rules = {"rules": [{"currency": "EUR", "channels": ["backup"]}]}

    done = shell("merchants", "routing", "set", mid, "--rules", json.dumps(rules), "--json")
    table = shell("merchants", "routing", "set", mid, "--rules", json.dumps(rules))
    refused = paygate("merchants", "routing", "set", mid, "--rules", json.dumps(rules))
    helped = paygate("merchants", "routing", "set", "--help")

    note = "checked against this shell's channels: sandbox, backup (PAYGATE_CHANNEL_URLS"
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["rules"][0]["channels"] == ["backup"]
    assert note in done.stderr
    assert table.exit_code == 0, table.output
    assert note in table.stderr
    assert_clean_failure(refused, 1, "invalid_channel", "'backup'",
                         "checked against this shell's channels: sandbox")
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "deployment's settings" in " ".join(helped.output.split())

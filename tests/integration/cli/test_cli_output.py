"""What the CLI prints of text a merchant chose: never a control character the operator's
terminal would obey (ESC[2J clears the screen, an OSC sequence retitles the window), and
never rich markup it would render (a `[link=...]` is a hyperlink the merchant chose)."""

from __future__ import annotations

import json
import re
from typing import Any

from cli_harness import Paygate

HOSTILE = "desc\x1b[2J\x1b[31mX\x9b31m\x07\x7f"
HOSTILE_REASON = "evil\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\nline2"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # what a terminal obeys (\n aside)


def _assert_no_control_characters(text: str) -> None:
    assert not CONTROL.search(text), repr(text)


class TestMerchantTextInHumanOutput:
    def test_payments_show_escapes_a_description_s_control_characters(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        payment = paygate.take_payment(merchant["merchant_id"], "ESC-1", description=HOSTILE)

        result = paygate("payments", "show", payment["payment_no"])

        assert result.exit_code == 0, result.output
        _assert_no_control_characters(result.stdout)
        assert r"desc\x1b[2J\x1b[31mX\u009b31m\x07\x7f" in result.stdout

    def test_refunds_show_and_list_escape_a_reason_s_control_characters(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        payment = paygate.take_payment(merchant["merchant_id"], "ESC-2")
        refund = paygate.refund_at(payment["payment_no"], 1, reason=HOSTILE_REASON)

        shown = paygate("refunds", "show", refund["refund_no"])
        listed = paygate("refunds", "list", "--payment", payment["payment_no"])

        for result in (shown, listed):
            assert result.exit_code == 0, result.output
            _assert_no_control_characters(result.stdout)
        assert r"evil\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\nline2" in shown.stdout

    def test_merchant_text_is_not_read_as_markup(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        """Rich would have made a hyperlink of it, or refused `[/x]` with a traceback."""
        text = "[link=https://e.x]a[/link][/x]"
        payment = paygate.take_payment(merchant["merchant_id"], "MARKUP-1", description=text)

        result = paygate("payments", "show", payment["payment_no"])

        assert result.exit_code == 0, result.output
        assert text in result.stdout

    def test_an_error_naming_operator_text_prints_it_escaped(self, paygate: Paygate) -> None:
        result = paygate("payments", "show", "pay_\x1b]0;x\x07[/x]")

        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        _assert_no_control_characters(result.stderr)
        assert r"pay_\x1b]0;x\x07[/x]" in result.stderr


class TestMerchantTextInJson:
    def test_json_output_escapes_every_control_character_and_stays_the_same_data(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        payment = paygate.take_payment(merchant["merchant_id"], "ESC-3", description=HOSTILE)

        result = paygate("payments", "show", payment["payment_no"], "--json")

        assert result.exit_code == 0, result.output
        _assert_no_control_characters(result.stdout.replace("\n", ""))
        assert json.loads(result.stdout)["description"] == HOSTILE

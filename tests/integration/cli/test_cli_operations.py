"""Settlement and reconciliation from the CLI, with business done on a past day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from cli_harness import CARD_UNKNOWN, Paygate, assert_clean_failure

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date()
NOON_YESTERDAY = datetime.combine(YESTERDAY, time(12), tzinfo=UTC)


class TestSettle:
    @pytest.fixture
    def business(self, paygate: Paygate, merchant: dict[str, Any]) -> str:
        """Yesterday: 10 000 and 5 000 USD captured, 2 000 refunded; today: 777 captured."""
        mid = merchant["merchant_id"]
        first = paygate.take_payment(mid, "O-1", 10_000, at=NOON_YESTERDAY)
        paygate.take_payment(mid, "O-2", 5_000, at=NOON_YESTERDAY)
        paygate.take_payment(mid, "O-TODAY", 777)
        refund = paygate.refund_at(first["payment_no"], 2_000, NOON_YESTERDAY)
        assert refund["status"] == "succeeded"
        return str(mid)

    def test_settle_a_past_day_for_one_merchant(self, paygate: Paygate, business: str) -> None:
        settled = paygate.json("settle", "--merchant", business, "--date", YESTERDAY.isoformat())

        assert len(settled) == 1
        usd = settled[0]
        assert (usd["merchant_id"], usd["currency"], usd["date"]) == (
            business,
            "USD",
            YESTERDAY.isoformat(),
        )
        assert (usd["gross"], usd["refunds"], usd["fees"], usd["net"]) == (
            15_000,
            2_000,
            320 + 175,
            12_505,
        )
        assert (usd["payment_count"], usd["refund_count"]) == (2, 1)

    def test_settling_again_settles_nothing_new(self, paygate: Paygate, business: str) -> None:
        args = ("settle", "--merchant", business, "--date", YESTERDAY.isoformat())
        first = paygate.json(*args)
        before = paygate.counts()

        again = paygate.json(*args)

        assert again == first
        assert paygate.counts() == before

    def test_settle_without_a_merchant_settles_everyone_for_people(
        self, paygate: Paygate, business: str
    ) -> None:
        paygate.json("merchants", "create", "--name", "Quiet Ltd")

        result = paygate("settle", "--date", YESTERDAY.isoformat())

        assert result.exit_code == 0, result.output
        assert f"settlements for {YESTERDAY.isoformat()}" in result.stdout
        assert paygate.counts()["settlements"] == 1

    def test_settling_a_day_not_over_exits_1(self, paygate: Paygate, business: str) -> None:
        today = datetime.now(UTC).date().isoformat()

        result = paygate("settle", "--merchant", business, "--date", today)

        assert_clean_failure(result, 1, "validation_error")
        assert paygate.counts()["settlements"] == 0

    def test_settling_an_unknown_merchant_exits_1_with_not_found(self, paygate: Paygate) -> None:
        result = paygate("settle", "--merchant", "mch_nope", "--date", "2020-01-01")

        assert_clean_failure(result, 1, "not_found")

    def test_an_unknown_merchant_among_known_ones_settles_none_of_them(
        self, paygate: Paygate, business: str
    ) -> None:
        """The known merchant used to be settled before the unknown one failed the command,
        with exit 1 and nothing printed about what had been settled."""
        result = paygate(
            "settle", "--merchant", business, "--merchant", "mch_nope",
            "--date", YESTERDAY.isoformat(),
        )  # fmt: skip

        assert_clean_failure(result, 1, "not_found", "mch_nope")
        assert paygate.counts()["settlements"] == 0

    def test_a_merchant_named_twice_is_settled_and_printed_once(
        self, paygate: Paygate, business: str
    ) -> None:
        """Printed twice, a script adding up `net` would pay the merchant out twice."""
        settled = paygate.json(
            "settle", "--merchant", business, "--merchant", business,
            "--date", YESTERDAY.isoformat(),
        )  # fmt: skip

        assert [(s["merchant_id"], s["net"]) for s in settled] == [(business, 12_505)]
        assert paygate.counts()["settlements"] == 1


def test_reconcile_resolves_a_payment_whose_outcome_was_lost(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    lost = paygate.take_payment(merchant["merchant_id"], "O-LOST", card=CARD_UNKNOWN, at=long_ago)
    recent = paygate.take_payment(merchant["merchant_id"], "O-NOW", card=CARD_UNKNOWN)
    assert lost["status"] == recent["status"] == "processing"

    counts = paygate.json("reconcile")["reconciled"]
    nothing_left = paygate.json("reconcile")["reconciled"]

    assert counts == {"succeeded": 1}
    assert nothing_left == {}
    assert paygate.json("payments", "show", lost["payment_no"])["status"] == "succeeded"
    assert paygate.json("payments", "show", recent["payment_no"])["status"] == "processing"


def test_reconcile_says_what_it_left_waiting_and_why(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    """It printed `{}` while payments waited out its 60 s grace."""
    for n in range(3):
        paygate.take_payment(merchant["merchant_id"], f"O-WAIT-{n}", card=CARD_UNKNOWN)

    summary = paygate.json("reconcile")

    assert summary["older_than_seconds"] == 60
    assert summary["reconciled"] == {}
    [waiting] = summary["left_waiting"]
    assert (waiting["count"], waiting["what"]) == (3, "processing payments")
    assert "less than 60 s ago" in waiting["why"]
    assert "--older-than" in waiting["why"]


def test_reconcile_older_than_asks_about_recent_processing_payments_now(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    made = paygate.take_payment(merchant["merchant_id"], "O-SOON", card=CARD_UNKNOWN)

    summary = paygate.json("reconcile", "--older-than", "0")

    assert summary["reconciled"] == {"succeeded": 1}
    assert summary["left_waiting"] == []
    assert paygate.json("payments", "show", made["payment_no"])["status"] == "succeeded"


def test_reconcile_for_people_prints_the_waiting_with_its_reason(
    paygate: Paygate, merchant: dict[str, Any]
) -> None:
    paygate.take_payment(merchant["merchant_id"], "O-TABLE", card=CARD_UNKNOWN)

    result = paygate("reconcile", "--older-than", "3600")

    assert result.exit_code == 0, result.output
    assert "left waiting" in result.stdout
    assert "processing payments" in result.stdout


def test_reconcile_refuses_a_negative_age(paygate: Paygate) -> None:
    assert_clean_failure(paygate("reconcile", "--older-than", "-1"), 2, "--older-than")


class TestMerchantSuspension:
    def test_an_operator_disables_a_merchant_and_enables_it_again(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        mid = merchant["merchant_id"]

        disabled = paygate.json("merchants", "disable", mid)
        enabled = paygate.json("merchants", "enable", mid)

        assert (disabled["merchant_id"], disabled["active"]) == (mid, False)
        assert (enabled["merchant_id"], enabled["active"]) == (mid, True)
        assert set(disabled) == {"merchant_id", "name", "active"}  # never a secret

    def test_for_people_it_says_what_it_did(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        result = paygate("merchants", "disable", merchant["merchant_id"])

        assert result.exit_code == 0, result.output
        assert "disabled" in result.stdout

    def test_an_unknown_merchant_exits_1_with_not_found(self, paygate: Paygate) -> None:
        assert_clean_failure(paygate("merchants", "disable", "mch_nope"), 1, "not_found")

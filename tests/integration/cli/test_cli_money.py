"""The operator's commands on a real database: schema, merchants, payments, refunds, review."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_harness import CARD_OK, CARD_REVIEW, Paygate, assert_clean_failure
from sqlalchemy.engine import make_url

from adapters.persistence import upgrade_database

FIRST_REVISION = "0001"


class TestDatabase:
    def test_db_upgrade_creates_the_schema_and_can_run_again(self, fresh: Paygate) -> None:
        first = fresh("db", "upgrade")
        again = fresh("db", "upgrade")

        assert first.exit_code == 0, first.output
        assert again.exit_code == 0, again.output
        assert "newest schema" in first.stdout
        assert fresh.json("db", "upgrade") == {
            "database": fresh.env["PAYGATE_DATABASE_URL"], "revision": "0011"}
        assert fresh.counts() == {
            "payments": 0,
            "refunds": 0,
            "settlements": 0,
            "idempotency_keys": 0,
        }

    def test_db_upgrade_of_an_unreachable_database_fails_cleanly(
        self, tmp_path: Path, master_key_file: Path
    ) -> None:
        """It ended with the Unavailable error's traceback."""
        broken = Paygate(
            {
                "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/gone/paygate.db",
                "PAYGATE_MASTER_KEY_FILE": str(master_key_file),
                "PAYGATE_TRACING": "off",
            }
        )

        result = broken("db", "upgrade")

        assert_clean_failure(result, 1, "unavailable")
        assert not (tmp_path / "gone").exists()

    def test_a_command_on_an_unreachable_database_fails_cleanly(
        self, tmp_path: Path, master_key_file: Path
    ) -> None:
        broken = Paygate(
            {
                "PAYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/gone/paygate.db",
                "PAYGATE_MASTER_KEY_FILE": str(master_key_file),
                "PAYGATE_TRACING": "off",
            }
        )

        result = broken("payments", "list")

        assert_clean_failure(result, 1, "unavailable")

    @pytest.mark.parametrize(
        "args",
        [
            ("payments", "list"),
            ("refunds", "create", "pay_x", "--amount", "1"),
            ("merchants", "create", "--name", "Acme"),
            ("settle", "--date", "2020-01-01"),
        ],
    )
    def test_a_database_that_does_not_exist_is_named_and_not_created(
        self, fresh: Paygate, args: tuple[str, ...]
    ) -> None:
        """It used to be created empty, and the command said the database "did not answer"."""
        database = Path(str(make_url(fresh.env["PAYGATE_DATABASE_URL"]).database))

        result = fresh(*args)

        assert_clean_failure(result, 1, "unavailable", str(database), "paygate db upgrade")
        assert not database.exists()

    def test_a_database_without_the_schema_says_to_upgrade_it(self, fresh: Paygate) -> None:
        database = Path(str(make_url(fresh.env["PAYGATE_DATABASE_URL"]).database))
        sqlite3.connect(database).close()

        result = fresh("refunds", "create", "pay_x", "--amount", "1")

        assert_clean_failure(result, 1, "unavailable", "paygate db upgrade")

    def test_a_database_behind_the_newest_schema_says_to_upgrade_it(
        self, fresh: Paygate
    ) -> None:
        upgrade_database(fresh.env["PAYGATE_DATABASE_URL"], FIRST_REVISION)

        result = fresh("payments", "list")

        assert_clean_failure(result, 1, "unavailable", "paygate db upgrade")

    def test_db_upgrade_of_a_database_from_a_newer_release_says_so_in_one_line(
        self, paygate: Paygate
    ) -> None:
        """What a rolled-back release meets: it printed alembic's 117-line traceback."""
        database = str(make_url(paygate.env["PAYGATE_DATABASE_URL"]).database)
        with sqlite3.connect(database) as conn:
            conn.execute("update alembic_version set version_num = '9999_future'")
        conn.close()

        result = paygate("db", "upgrade")

        assert_clean_failure(
            result, 2, "the database is at revision 9999_future, which this paygate does not "
            "know (newest: 0011); nothing upgraded")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        with sqlite3.connect(database) as conn:
            assert conn.execute("select version_num from alembic_version").fetchall() == [
                ("9999_future",)]
        conn.close()

    @pytest.mark.postgres
    def test_a_postgresql_database_without_the_schema_fails_cleanly(
        self, postgres_url: str, master_key_file: Path
    ) -> None:
        """On PostgreSQL the missing tables ended the command with a traceback."""
        empty = Paygate(
            {
                "PAYGATE_DATABASE_URL": postgres_url,
                "PAYGATE_MASTER_KEY_FILE": str(master_key_file),
                "PAYGATE_TRACING": "off",
                "PAYGATE_OPERATOR": "bootstrap",
            }
        )

        result = empty("refunds", "create", "pay_x", "--amount", "1")

        assert_clean_failure(result, 1, "unavailable", "paygate db upgrade")

    @pytest.mark.postgres
    def test_a_postgresql_database_that_does_not_exist_fails_cleanly(
        self, postgres_server: str, master_key_file: Path
    ) -> None:
        gone = Paygate(
            {
                "PAYGATE_DATABASE_URL": str(
                    make_url(postgres_server).set(database="paygate_no_such_database")
                ),
                "PAYGATE_MASTER_KEY_FILE": str(master_key_file),
                "PAYGATE_TRACING": "off",
            }
        )

        result = gone("payments", "list")

        assert_clean_failure(result, 1, "unavailable")


class TestMerchants:
    def test_merchants_create_prints_the_key_and_both_secrets_once(self, paygate: Paygate) -> None:
        created = paygate.json("merchants", "create", "--name", "Initech")

        assert set(created) == {"merchant_id", "api_key", "api_secret", "webhook_secret"}
        assert created["merchant_id"].startswith("mch_")
        database = Path(str(make_url(paygate.env["PAYGATE_DATABASE_URL"]).database))
        stored = b"".join(p.read_bytes() for p in database.parent.glob(f"{database.name}*"))
        assert created["api_key"].encode() in stored
        assert created["api_secret"].encode() not in stored
        assert created["webhook_secret"].encode() not in stored

    def test_merchants_create_for_people_prints_a_table(self, paygate: Paygate) -> None:
        result = paygate("merchants", "create", "--name", "Initech", "--fee-bps", "150")

        assert result.exit_code == 0, result.output
        assert "secrets shown once" in result.stdout
        assert "api_secret" in result.stdout


class TestPayments:
    def test_payments_list_and_show_what_was_taken(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        other = paygate.json("merchants", "create", "--name", "Globex")
        first = paygate.take_payment(merchant["merchant_id"], "ORDER-1", 1_000)
        second = paygate.take_payment(merchant["merchant_id"], "ORDER-2", 2_000)
        theirs = paygate.take_payment(other["merchant_id"], "ORDER-9", 9_000)

        everything = paygate.json("payments", "list")
        mine = paygate.json("payments", "list", "--merchant", merchant["merchant_id"])
        by_order = paygate.json("payments", "list", "--order-no", "ORDER-2")
        shown = paygate.json("payments", "show", first["payment_no"])

        assert [p["payment_no"] for p in everything["data"]] == [
            theirs["payment_no"],
            second["payment_no"],
            first["payment_no"],
        ]
        assert [p["payment_no"] for p in mine["data"]] == [
            second["payment_no"],
            first["payment_no"],
        ]
        assert [p["payment_no"] for p in by_order["data"]] == [second["payment_no"]]
        assert shown == first

    def test_payments_list_pages_with_a_cursor(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        made = [
            paygate.take_payment(merchant["merchant_id"], f"ORDER-{i}")["payment_no"]
            for i in range(3)
        ]

        first = paygate.json("payments", "list", "--limit", "2")
        rest = paygate.json("payments", "list", "--limit", "2", "--cursor", first["next_cursor"])
        table = paygate("payments", "list", "--limit", "2")

        assert [p["payment_no"] for p in first["data"] + rest["data"]] == made[::-1]
        assert rest["next_cursor"] is None
        assert f"--cursor {first['next_cursor']}" in table.stdout

    def test_showing_an_unknown_payment_exits_1_with_not_found(self, paygate: Paygate) -> None:
        assert_clean_failure(paygate("payments", "show", "pay_nope"), 1, "not_found")


class TestRefunds:
    @pytest.fixture
    def payment(self, paygate: Paygate, merchant: dict[str, Any]) -> dict[str, Any]:
        return paygate.take_payment(merchant["merchant_id"], "ORDER-R", 10_000)

    def test_a_partial_then_an_excessive_refund(
        self, paygate: Paygate, payment: dict[str, Any]
    ) -> None:
        partial = paygate.json(
            "refunds", "create", payment["payment_no"], "--amount", "2500", "--reason", "late"
        )
        before = paygate.counts()

        excessive = paygate(
            "refunds", "create", payment["payment_no"], "--amount", "7501", "--reason", "oops"
        )

        assert (partial["amount"], partial["reason"], partial["status"]) == (
            2_500,
            "late",
            "succeeded",
        )
        assert_clean_failure(excessive, 1, "amount_exceeded", "75.00 USD")
        assert paygate.counts() == before
        shown = paygate.json("payments", "show", payment["payment_no"])
        assert (shown["status"], shown["refunded_amount"]) == ("partially_refunded", 2_500)

    def test_a_refund_without_an_amount_refunds_the_rest(
        self, paygate: Paygate, payment: dict[str, Any]
    ) -> None:
        paygate.json("refunds", "create", payment["payment_no"], "--amount", "1000")

        rest = paygate.json("refunds", "create", payment["payment_no"])

        assert rest["amount"] == 9_000
        assert paygate.json("payments", "show", payment["payment_no"])["status"] == "refunded"

    def test_the_same_idempotency_key_twice_makes_one_refund(
        self, paygate: Paygate, payment: dict[str, Any]
    ) -> None:
        args = ("refunds", "create", payment["payment_no"], "--amount", "300")

        first = paygate.json(*args, "--idempotency-key", "ticket-42")
        again = paygate.json(*args, "--idempotency-key", "ticket-42")
        reused = paygate(
            "refunds", "create", payment["payment_no"], "--amount", "400",
            "--idempotency-key", "ticket-42",
        )  # fmt: skip

        assert again == first
        assert paygate.counts()["refunds"] == 1
        assert_clean_failure(reused, 1, "idempotency_key_reused")

    def test_the_same_key_with_another_reason_is_reused_even_one_that_reads_none(
        self, paygate: Paygate, payment: dict[str, Any]
    ) -> None:
        args = ("refunds", "create", payment["payment_no"], "--amount", "300",
                "--idempotency-key", "ticket-44")
        paygate.json(*args)

        reused = paygate(*args, "--reason", "None")

        assert_clean_failure(reused, 1, "idempotency_key_reused")
        assert paygate.counts()["refunds"] == 1

    def test_a_key_run_again_after_its_record_is_gone_answers_the_same_refund(
        self, paygate: Paygate, payment: dict[str, Any]
    ) -> None:
        """An operator who retries a ticket after a killed command (whose claim was
        released) or the next day gets the refund the key made, not a second one."""
        args = ("refunds", "create", payment["payment_no"], "--amount", "300")
        first = paygate.json(*args, "--idempotency-key", "ticket-43")
        paygate.forget_idempotency_keys()

        again = paygate.json(*args, "--idempotency-key", "ticket-43")

        assert again["refund_no"] == first["refund_no"]
        assert paygate.counts()["refunds"] == 1
        assert paygate.json("payments", "show", payment["payment_no"])["refunded_amount"] == 300

    def test_refunds_list_and_show(
        self, paygate: Paygate, merchant: dict[str, Any], payment: dict[str, Any]
    ) -> None:
        other = paygate.take_payment(merchant["merchant_id"], "ORDER-OTHER", 500)
        made = [
            paygate.json("refunds", "create", payment["payment_no"], "--amount", str(a))
            for a in (100, 200)
        ]
        paygate.json("refunds", "create", other["payment_no"])

        of_payment = paygate.json("refunds", "list", "--payment", payment["payment_no"])
        of_merchant = paygate.json("refunds", "list", "--merchant", merchant["merchant_id"])
        shown = paygate.json("refunds", "show", made[0]["refund_no"])

        assert sorted(r["refund_no"] for r in of_payment) == sorted(r["refund_no"] for r in made)
        assert len(of_merchant) == 3
        assert shown == made[0]

    @pytest.mark.parametrize(
        ("args", "code"),
        [
            (("refunds", "create", "pay_nope", "--amount", "1"), "not_found"),
            (("refunds", "show", "ref_nope"), "not_found"),
            (("refunds", "list", "--payment", "pay_nope"), "not_found"),
        ],
    )
    def test_unknown_objects_exit_1_with_not_found(
        self, paygate: Paygate, args: tuple[str, ...], code: str
    ) -> None:
        assert_clean_failure(paygate(*args), 1, code)

    def test_a_reason_longer_than_the_api_takes_refunds_nothing(
        self, paygate: Paygate, payment: dict[str, Any]
    ) -> None:
        """The API refuses a reason over 500 characters; the CLI stored any length."""
        longest = paygate.json(
            "refunds", "create", payment["payment_no"], "--amount", "100", "--reason", "r" * 500
        )

        result = paygate(
            "refunds", "create", payment["payment_no"], "--amount", "100", "--reason", "r" * 501
        )

        assert len(longest["reason"]) == 500
        assert_clean_failure(result, 2, "--reason", "500")
        assert paygate.counts()["refunds"] == 1

    @pytest.mark.parametrize("amount", ["0", "-5"])
    def test_a_refund_of_zero_or_less_exits_1_with_invalid_amount(
        self, paygate: Paygate, payment: dict[str, Any], amount: str
    ) -> None:
        result = paygate("refunds", "create", payment["payment_no"], f"--amount={amount}")

        assert_clean_failure(result, 1, "invalid_amount")
        assert paygate.counts()["refunds"] == 0


class TestReview:
    @pytest.fixture
    def in_review(self, paygate: Paygate, merchant: dict[str, Any]) -> str:
        payment = paygate.take_payment(merchant["merchant_id"], "ORDER-REV", card=CARD_REVIEW)
        assert payment["status"] == "requires_review"
        return str(payment["payment_no"])

    def test_approve_charges_the_payment(self, paygate: Paygate, in_review: str) -> None:
        approved = paygate.json("payments", "review", in_review, "--approve")

        assert approved["status"] == "succeeded"
        assert paygate.json("payments", "show", in_review)["status"] == "succeeded"

    def test_reject_ends_it_with_the_note(self, paygate: Paygate, in_review: str) -> None:
        rejected = paygate.json("payments", "review", in_review, "--reject", "--note", "stolen")

        assert (rejected["status"], rejected["failure_message"]) == ("rejected", "stolen")

    def test_a_decision_is_required(self, paygate: Paygate, in_review: str) -> None:
        result = paygate("payments", "review", in_review)

        assert_clean_failure(result, 2, "--approve or --reject")
        assert paygate.json("payments", "show", in_review)["status"] == "requires_review"

    @pytest.mark.parametrize("flags", [("--approve", "--reject"), ("--reject", "--approve")])
    def test_both_decisions_at_once_is_a_usage_error_and_decides_nothing(
        self, paygate: Paygate, in_review: str, flags: tuple[str, str]
    ) -> None:
        """Whichever flag came last used to win: a slip charged or rejected the payment."""
        result = paygate("payments", "review", in_review, *flags)

        assert_clean_failure(result, 2, "--approve or --reject")
        assert paygate.json("payments", "show", in_review)["status"] == "requires_review"

    def test_a_payment_not_in_review_exits_1_with_invalid_status(
        self, paygate: Paygate, merchant: dict[str, Any]
    ) -> None:
        paid = paygate.take_payment(merchant["merchant_id"], "ORDER-PAID", card=CARD_OK)

        result = paygate("payments", "review", paid["payment_no"], "--reject")

        assert_clean_failure(result, 1, "invalid_status")

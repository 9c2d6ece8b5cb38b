from datetime import date

import pytest

from domain.errors import UnbalancedPosting
from domain.ledger import (
    ACQUIRER_RECEIVABLE,
    FEE_REVENUE,
    Entry,
    Posting,
    Side,
    balances,
    capture_posting,
    merchant_balance,
    merchant_payout,
    refund_posting,
    settlement_postings,
)
from domain.money import Money
from domain.payment import PaymentStatus
from domain.settlement import Settlement
from tests.unit.domain.builders import T0, authorized, captured, payment_in

D, C = Side.DEBIT, Side.CREDIT


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def a_settlement(gross: int, refunds: int, fees: int) -> Settlement:
    return Settlement("stl_1", "mch_1", "USD", date(2026, 11, 22), gross, refunds, fees, 1, 1, T0)


def shape(postings: list[Posting]) -> list[tuple[str, list[tuple[str, Side, int]]]]:
    return [
        (p.posting_id, [(e.account, e.side, e.amount.amount) for e in p.entries]) for p in postings
    ]


class TestPosting:
    def test_a_posting_without_entries_is_refused(self) -> None:
        with pytest.raises(UnbalancedPosting, match="no entries") as error:
            Posting("p1", "mch_1", (), T0)
        assert error.value.code == "unbalanced_posting"

    def test_a_zero_entry_is_refused(self) -> None:
        with pytest.raises(UnbalancedPosting, match="not positive"):
            Posting("p1", "mch_1", (Entry("a", D, usd(0)), Entry("b", C, usd(0))), T0)

    def test_debits_must_equal_credits(self) -> None:
        with pytest.raises(UnbalancedPosting, match="does not balance"):
            Posting("p1", "mch_1", (Entry("a", D, usd(100)), Entry("b", C, usd(99))), T0)

    def test_balancing_across_currencies_does_not_count(self) -> None:
        entries = (Entry("a", D, usd(100)), Entry("b", C, Money(100, "EUR")))
        with pytest.raises(UnbalancedPosting):
            Posting("p1", "mch_1", entries, T0)
        assert balances(entries) == {"USD": 100, "EUR": -100}

    def test_balanced_currencies_are_left_out_of_balances(self) -> None:
        entries = [
            Entry("a", D, usd(100)),
            Entry("b", C, usd(60)),
            Entry("c", C, usd(40)),
            Entry("d", D, Money(5, "JPY")),
        ]
        assert balances(entries) == {"JPY": 5}


class TestStandardPostings:
    def test_capture_moves_money_from_the_acquirer_to_the_merchant(self) -> None:
        payment = payment_in(PaymentStatus.SUCCEEDED)
        assert shape([capture_posting(payment, T0)]) == [
            (
                "capture:pay_1",
                [(ACQUIRER_RECEIVABLE, D, 10_000), (merchant_balance("mch_1"), C, 10_000)],
            )
        ]

    def test_a_partial_capture_posts_exactly_what_it_captured(self) -> None:
        payment = captured(capture=6_000)
        assert shape([capture_posting(payment, T0)]) == [
            (
                "capture:pay_1",
                [(ACQUIRER_RECEIVABLE, D, 6_000), (merchant_balance("mch_1"), C, 6_000)],
            )
        ]

    def test_an_authorization_alone_cannot_be_posted(self) -> None:
        with pytest.raises(UnbalancedPosting, match="not positive"):
            capture_posting(authorized(), T0)

    def test_refund_moves_money_back_from_the_merchant(self) -> None:
        refund = payment_in(PaymentStatus.SUCCEEDED).reserve_refund("ref_1", 2_500, T0)
        posting = refund_posting(refund, T0)
        assert posting.merchant_id == "mch_1"
        assert shape([posting]) == [
            (
                "refund:ref_1",
                [(merchant_balance("mch_1"), D, 2_500), (ACQUIRER_RECEIVABLE, C, 2_500)],
            )
        ]

    def test_settlement_takes_the_fee_and_pays_out_the_net(self) -> None:
        postings = settlement_postings(a_settlement(10_000, 1_000, 320), T0)
        assert shape(postings) == [
            ("fee:stl_1", [(merchant_balance("mch_1"), D, 320), (FEE_REVENUE, C, 320)]),
            (
                "payout:stl_1",
                [(merchant_balance("mch_1"), D, 8_680), (merchant_payout("mch_1"), C, 8_680)],
            ),
        ]

    def test_settlement_with_more_refunds_than_captures_claims_the_difference_back(self) -> None:
        postings = settlement_postings(a_settlement(1_000, 3_000, 0), T0)
        assert shape(postings) == [
            (
                "payout:stl_1",
                [(merchant_payout("mch_1"), D, 2_000), (merchant_balance("mch_1"), C, 2_000)],
            )
        ]

    def test_settlement_that_nets_to_zero_posts_only_the_fee(self) -> None:
        postings = settlement_postings(a_settlement(1_000, 670, 330), T0)
        assert [p.posting_id for p in postings] == ["fee:stl_1"]

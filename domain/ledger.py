"""Double-entry bookkeeping: every posting balances, per currency, debits against credits.

Accounts:
- `acquirer_receivable`: money the acquirer owes us for captured payments;
- `merchant_balance:{merchant}`: what we owe a merchant before settlement;
- `fee_revenue`: our fees;
- `merchant_payout:{merchant}`: settled money on its way to the merchant's bank.

A posting's id is derived from what it records (`capture:pay_...`), so recording the same
fact twice is refused by the ledger's unique key instead of creating money.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.errors import UnbalancedPosting
from domain.money import Money

if TYPE_CHECKING:
    from domain.payment import Payment
    from domain.refund import Refund
    from domain.settlement import Settlement

ACQUIRER_RECEIVABLE = "acquirer_receivable"
FEE_REVENUE = "fee_revenue"


def merchant_balance(merchant_id: str) -> str:
    return f"merchant_balance:{merchant_id}"


def merchant_payout(merchant_id: str) -> str:
    return f"merchant_payout:{merchant_id}"


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class Entry:
    account: str
    side: Side
    amount: Money


@dataclass(frozen=True, slots=True)
class Posting:
    posting_id: str
    merchant_id: str
    entries: tuple[Entry, ...]
    created_at: datetime

    def __post_init__(self) -> None:
        if not self.entries:
            raise UnbalancedPosting(f"posting {self.posting_id} has no entries")
        if any(entry.amount.amount <= 0 for entry in self.entries):
            raise UnbalancedPosting(f"posting {self.posting_id} has an entry that is not positive")
        if balances(self.entries):
            raise UnbalancedPosting(f"posting {self.posting_id} does not balance")


def balances(entries: tuple[Entry, ...] | list[Entry]) -> dict[str, int]:
    """Debits minus credits per currency, leaving out the currencies that balance."""
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        sign = 1 if entry.side is Side.DEBIT else -1
        totals[entry.amount.currency] += sign * entry.amount.amount
    return {currency: total for currency, total in totals.items() if total}


def _transfer(
    posting_id: str, merchant_id: str, debit: str, credit: str, amount: Money, now: datetime
) -> Posting:
    return Posting(
        posting_id,
        merchant_id,
        (Entry(debit, Side.DEBIT, amount), Entry(credit, Side.CREDIT, amount)),
        now,
    )


def capture_posting(payment: Payment, now: datetime) -> Posting:
    """The money captured, and only that: an authorization alone is never posted, and a
    partial capture posts what it took, not what was held."""
    return _transfer(
        f"capture:{payment.payment_no}",
        payment.merchant_id,
        ACQUIRER_RECEIVABLE,
        merchant_balance(payment.merchant_id),
        Money(payment.amount_captured, payment.currency),
        now,
    )


def refund_posting(refund: Refund, now: datetime) -> Posting:
    return _transfer(
        f"refund:{refund.refund_no}",
        refund.merchant_id,
        merchant_balance(refund.merchant_id),
        ACQUIRER_RECEIVABLE,
        refund.amount,
        now,
    )


def settlement_postings(settlement: Settlement, now: datetime) -> list[Posting]:
    """The fee taken and the net paid out (or owed back, when refunds outweigh captures)."""
    merchant, currency, sid = settlement.merchant_id, settlement.currency, settlement.settlement_id
    postings = []
    if settlement.fees:
        postings.append(
            _transfer(
                f"fee:{sid}",
                merchant,
                merchant_balance(merchant),
                FEE_REVENUE,
                Money(settlement.fees, currency),
                now,
            )
        )
    if settlement.net > 0:
        postings.append(
            _transfer(
                f"payout:{sid}",
                merchant,
                merchant_balance(merchant),
                merchant_payout(merchant),
                Money(settlement.net, currency),
                now,
            )
        )
    elif settlement.net < 0:
        postings.append(
            _transfer(
                f"payout:{sid}",
                merchant,
                merchant_payout(merchant),
                merchant_balance(merchant),
                Money(-settlement.net, currency),
                now,
            )
        )
    return postings

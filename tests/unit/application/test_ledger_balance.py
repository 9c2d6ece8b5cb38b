"""After every operation that posts (capture, refund, settlement) the books still balance."""

from datetime import timedelta

from application.commands import SettleCommand
from domain.ledger import merchant_payout
from domain.payment import CAPTURED
from domain.refund import RefundStatus
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import TIMES_OUT
from tests.unit.fakes.platform import START

CURRENCIES = ("USD", "JPY", "KWD")


def assert_books_balance(gateway: Gateway, merchant_id: str) -> None:
    for currency, (debits, credits) in gateway.debits_and_credits().items():
        assert debits == credits, f"{currency}: debits {debits} != credits {credits}"
    settlements = [s for s in gateway.db.settlements if s.merchant_id == merchant_id]
    for currency in CURRENCIES:
        captured = sum(
            p.amount.amount
            for p in gateway.db.payments.values()
            if p.merchant_id == merchant_id and p.currency == currency and p.status in CAPTURED
        )
        refunded = sum(
            r.amount.amount
            for r in gateway.db.refunds.values()
            if r.merchant_id == merchant_id
            and r.currency == currency
            and r.status is RefundStatus.SUCCEEDED
        )
        fees = sum(s.fees for s in settlements if s.currency == currency)
        payouts = sum(s.net for s in settlements if s.currency == currency)
        assert gateway.merchant_balance(merchant_id, currency) == (
            captured - refunded - fees - payouts
        )
        assert -gateway.db.account_balance(merchant_payout(merchant_id), currency) == payouts


class TestLedgerStaysBalanced:
    async def test_after_every_capture_refund_and_settlement(self, gateway: Gateway) -> None:
        merchant_id = await gateway.onboard(basis_points=290, fixed=30)
        payments = []
        for currency, amount in (("USD", 10_000), ("JPY", 3_333), ("KWD", 1_001), ("USD", 77)):
            payments.append(await gateway.pay(merchant_id, amount=amount, currency=currency))
            assert_books_balance(gateway, merchant_id)

        late = await gateway.pay(merchant_id, TIMES_OUT, amount=5_000)
        await gateway.notify("charge.succeeded", late.payment_no)
        assert_books_balance(gateway, merchant_id)

        for payment, amount in zip(payments, (2_500, None, 1, 77), strict=True):
            await gateway.refund(payment.payment_no, amount, merchant_id)
            assert_books_balance(gateway, merchant_id)

        gateway.clock.set(START + timedelta(days=1))
        settlements = await gateway.settle(SettleCommand(merchant_id=merchant_id, day=START.date()))
        assert {s.currency for s in settlements} == set(CURRENCIES)
        assert_books_balance(gateway, merchant_id)
        for currency in CURRENCIES:
            assert gateway.merchant_balance(merchant_id, currency) == 0

        await gateway.refund(payments[0].payment_no, None, merchant_id)
        assert_books_balance(gateway, merchant_id)
        assert gateway.merchant_balance(merchant_id, "USD") == -7_500

        gateway.clock.advance(days=1)
        await gateway.settle(
            SettleCommand(merchant_id=merchant_id, day=START.date() + timedelta(1))
        )
        assert_books_balance(gateway, merchant_id)
        assert gateway.merchant_balance(merchant_id, "USD") == 0

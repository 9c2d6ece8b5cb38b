"""A declined order can be paid again; a live or paid one cannot, whichever order book."""

from __future__ import annotations

import pytest

from application.ports.storage import PaymentQuery
from domain.errors import DuplicateOrder
from domain.payment import Payment, PaymentStatus
from tests.unit.fakes import FakeOrders, Gateway
from tests.unit.fakes.channel import DECLINED, TIMES_OUT
from tests.unit.fakes.external import REJECT_CARD, REVIEW_CARD

S = PaymentStatus


@pytest.fixture(params=["remote", "local"])
def orders(request: pytest.FixtureRequest, gateway: Gateway) -> FakeOrders:
    """The order book as a remote service, or in the payments' own database."""
    if request.param == "local":
        gateway.orders = FakeOrders(db=gateway.db, shares_database=True)
    return gateway.orders


async def ended(gateway: Gateway, merchant_id: str, how: str) -> Payment:
    if how == "canceled":
        payment = await gateway.authorize(merchant_id, order_no="ORDER-1")
        return await gateway.cancel(payment.payment_no)
    card = {"failed": DECLINED, "rejected": REJECT_CARD}[how]
    return await gateway.pay(merchant_id, card, order_no="ORDER-1")


async def attempts(gateway: Gateway, merchant_id: str) -> list[tuple[str, S]]:
    async with gateway.uow(read_only=True) as uow:
        page = await uow.payments.list(PaymentQuery(merchant_id=merchant_id, order_no="ORDER-1"))
    return sorted((p.payment_no, p.status) for p in page.items)


@pytest.mark.parametrize("how", ["failed", "rejected", "canceled"])
async def test_an_order_whose_payment_ended_unpaid_is_paid_by_another_attempt(
    gateway: Gateway, merchant_id: str, orders: FakeOrders, how: str
) -> None:
    first = await ended(gateway, merchant_id, how)
    assert orders.statuses[(merchant_id, "ORDER-1")] == how

    again = await gateway.pay(merchant_id, order_no="ORDER-1")

    assert again.status is S.SUCCEEDED
    assert await attempts(gateway, merchant_id) == sorted(
        [(first.payment_no, S(how)), (again.payment_no, S.SUCCEEDED)])
    assert orders.orders[(merchant_id, "ORDER-1")].payment_no == again.payment_no
    assert orders.statuses[(merchant_id, "ORDER-1")] == "succeeded"
    assert gateway.merchant_balance(merchant_id, "USD") == 10_000


@pytest.mark.parametrize(
    ("card", "manual", "status"),
    [
        (TIMES_OUT, False, S.PROCESSING),
        (REVIEW_CARD, False, S.REQUIRES_REVIEW),
        ("4242424242424242", True, S.REQUIRES_CAPTURE),
        ("4242424242424242", False, S.SUCCEEDED),
    ],
)
async def test_an_order_with_a_live_or_paid_payment_is_a_duplicate_naming_it(
    gateway: Gateway, merchant_id: str, orders: FakeOrders, card: str, manual: bool, status: S
) -> None:
    await gateway.pay(merchant_id, DECLINED, order_no="ORDER-1")
    pay = gateway.authorize if manual else gateway.pay
    holder = await pay(merchant_id, card, order_no="ORDER-1")
    assert holder.status is status
    before = await attempts(gateway, merchant_id)

    with pytest.raises(DuplicateOrder) as refused:
        await gateway.pay(merchant_id, order_no="ORDER-1")

    assert refused.value.details == {"order_no": "ORDER-1", "payment_no": holder.payment_no}
    assert await attempts(gateway, merchant_id) == before
    assert orders.orders[(merchant_id, "ORDER-1")].payment_no == holder.payment_no


async def test_every_failed_attempt_is_kept_and_the_order_is_paid_once(
    gateway: Gateway, merchant_id: str, orders: FakeOrders
) -> None:
    for _ in range(3):
        await gateway.pay(merchant_id, DECLINED, order_no="ORDER-1")
    paid = await gateway.pay(merchant_id, order_no="ORDER-1")

    assert [status for _, status in await attempts(gateway, merchant_id)].count(S.FAILED) == 3
    with pytest.raises(DuplicateOrder):
        await gateway.pay(merchant_id, order_no="ORDER-1")
    assert sum(gateway.channel.charges.values()) == 4
    assert orders.orders[(merchant_id, "ORDER-1")].payment_no == paid.payment_no


async def test_a_rejection_in_review_frees_the_order_for_another_attempt(
    gateway: Gateway, merchant_id: str, orders: FakeOrders
) -> None:
    first = await gateway.pay(merchant_id, REVIEW_CARD, order_no="ORDER-1")
    await gateway.review(first.payment_no, "reject")
    assert orders.statuses[(merchant_id, "ORDER-1")] == "rejected"

    assert (await gateway.pay(merchant_id, order_no="ORDER-1")).status is S.SUCCEEDED

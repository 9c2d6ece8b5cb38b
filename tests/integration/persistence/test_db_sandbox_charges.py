"""The sandbox keeps its charges in `sandbox_charges` (migration 0009): a sandbox of a new
process, on the same database, answers for the charges of the one that died."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.channel.sandbox import NOT_FOUND, SandboxChannel
from adapters.persistence import SqlUnitOfWorkFactory
from adapters.persistence.sandbox_charges import SqlSandboxCharges
from adapters.persistence.schema import sandbox_charges
from application.ports.channel import ChargeRequest, Outcome
from application.use_cases.reconcile import never_charged
from domain.card import CardDetails
from domain.money import Money
from domain.payment import Payment, PaymentStatus

SECRET = "sandbox-test-secret"


def sandbox_on(uow: SqlUnitOfWorkFactory) -> SandboxChannel:
    return SandboxChannel(SECRET, book=SqlSandboxCharges(uow))


def charge(payment_no: str, number: str) -> ChargeRequest:
    return ChargeRequest(payment_no, "mer_1", Money(1_000, "USD"),
                         card=CardDetails(number, 12, 2030, "123"))


async def test_a_sandbox_after_a_crash_answers_a_declined_card_as_declined(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory,
) -> None:
    await sandbox_on(uow_factory).charge(charge("pay_declined", "4000000000000002"))
    made = await sandbox_on(uow_factory).charge(charge("pay_ok", "4242424242424242"))

    restarted = sandbox_on(uow_factory)  # nothing in its memory
    declined = await restarted.query_charge("pay_declined", None)
    paid = await restarted.query_charge("pay_ok", None)

    assert (declined.outcome, declined.failure_code) == (Outcome.FAILED, "card_declined")
    assert (paid.outcome, paid.reference) == (Outcome.SUCCEEDED, made.reference)


async def test_a_charge_the_sandbox_never_received_is_not_found_and_fails_not_charged(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory,
) -> None:
    answer = await sandbox_on(uow_factory).query_charge("pay_never_sent", None)

    assert (answer.outcome, answer.failure_code) == (Outcome.UNKNOWN, NOT_FOUND)
    now = datetime.now(UTC)
    pending = Payment(payment_no="pay_never_sent", merchant_id="mer_1", order_no="O-1",
                      amount=Money(1_000, "USD"), channel="sandbox", created_at=now,
                      updated_at=now)
    assert pending.status is PaymentStatus.PENDING

    settled = never_charged(pending, answer)
    assert (settled.outcome, settled.failure_code) == (Outcome.FAILED, "not_charged")


async def test_a_charge_is_recorded_once_with_its_first_answer(
    engine: AsyncEngine, uow_factory: SqlUnitOfWorkFactory
) -> None:
    sandbox = sandbox_on(uow_factory)
    first = await sandbox.charge(charge("pay_twice", "4000000000000002"))
    await sandbox_on(uow_factory).charge(charge("pay_twice", "4242424242424242"))  # another process

    async with engine.connect() as conn:
        count = (await conn.execute(select(func.count()).select_from(sandbox_charges))).scalar()
    assert count == 1
    assert await sandbox_on(uow_factory).query_charge("pay_twice", None) == first

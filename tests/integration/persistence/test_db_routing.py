"""Routing rules and payment attempts, on the fakes, SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from db_builders import T0, later, merchant, payment

from application.ports.storage import PaymentQuery, UnitOfWorkFactory
from domain.payment import PaymentStatus
from domain.routing import AttemptOutcome, RoutingRule

RULES = [
    RoutingRule(channels=("stripe", "sandbox"), currency="EUR", max_amount=50_000),
    RoutingRule(channels=("sandbox",), min_amount=0, card_brand="visa"),
]


async def _seed(units: UnitOfWorkFactory, *objects: object) -> None:
    async with units() as uow:
        for obj in objects:
            if hasattr(obj, "api_key"):
                await uow.merchants.add(obj)  # type: ignore[arg-type]
            else:
                await uow.payments.add(obj)  # type: ignore[arg-type]
        await uow.commit()


async def test_rules_read_back_in_order_and_are_replaced_whole(units: UnitOfWorkFactory) -> None:
    await _seed(units, merchant("mer_r"))
    async with units(read_only=True, snapshot=False) as uow:
        assert await uow.routing.get("mer_r") == []
    async with units() as uow:
        await uow.routing.put("mer_r", RULES, T0)
        await uow.commit()
    async with units(read_only=True) as uow:
        assert await uow.routing.get("mer_r") == RULES
    async with units() as uow:
        await uow.routing.put("mer_r", RULES[1:], later(1))
        await uow.commit()
    async with units(read_only=True) as uow:
        assert await uow.routing.get("mer_r") == RULES[1:]


async def test_rules_not_committed_are_not_kept(units: UnitOfWorkFactory) -> None:
    await _seed(units, merchant("mer_u"))
    async with units() as uow:
        await uow.routing.put("mer_u", RULES, T0)
    async with units(read_only=True) as uow:
        assert await uow.routing.get("mer_u") == []


async def test_a_routed_payment_reads_back_with_its_attempts(units: UnitOfWorkFactory) -> None:
    p = payment("mer_a")
    first = p.begin_attempt("sandbox", T0)
    await _seed(units, merchant("mer_a"))
    async with units() as uow:
        await uow.payments.add(p)
        await uow.attempts.add(first)
        await uow.commit()
    async with units() as uow:  # the failover: the first ends, the second is written
        p.end_attempt(AttemptOutcome.FAILED, "channel_unavailable")
        await uow.attempts.update(p.attempts[-1])
        await uow.attempts.add(p.begin_attempt("stripe", later(1)))
        await uow.payments.update(p)
        await uow.commit()

    async with units(read_only=True) as uow:
        loaded = await uow.payments.get(p.payment_no)
        listed = (await uow.payments.list(PaymentQuery(merchant_id="mer_a"))).items
        unresolved = await uow.payments.list_unresolved(later(60), 10)
    assert loaded is not None
    assert (loaded.channel, loaded.attempt, loaded.current_key) == (
        "stripe", 2, f"{p.payment_no}.2")
    for found in (loaded, listed[0], unresolved[0]):
        assert [(a.seq, a.channel, a.outcome, a.failure_code, a.started_at)
                for a in found.attempts] == [
            (1, "sandbox", AttemptOutcome.FAILED, "channel_unavailable", T0),
            (2, "stripe", AttemptOutcome.PENDING, None, later(1)),
        ]


async def test_a_payment_that_named_its_channel_has_no_attempt_rows(
    units: UnitOfWorkFactory,
) -> None:
    p = payment("mer_n")
    await _seed(units, merchant("mer_n"), p)
    async with units(read_only=True) as uow:
        loaded = await uow.payments.get(p.payment_no)
        assert await uow.attempts.of([p.payment_no]) == {}
    assert loaded is not None
    assert (loaded.attempt, loaded.attempts, loaded.status) == (0, [], PaymentStatus.PENDING)


@pytest.mark.parametrize("outcome", list(AttemptOutcome))
async def test_every_attempt_outcome_is_kept(
    units: UnitOfWorkFactory, outcome: AttemptOutcome
) -> None:
    p = payment("mer_o")
    first = p.begin_attempt("sandbox", T0)
    await _seed(units, merchant("mer_o"))
    async with units() as uow:
        await uow.payments.add(p)
        await uow.attempts.add(first)
        first.end(outcome, "processing_error")
        await uow.attempts.update(first)
        await uow.commit()
    async with units(read_only=True) as uow:
        (kept,) = (await uow.attempts.of([p.payment_no]))[p.payment_no]
    assert kept.outcome is outcome
    assert kept.failure_code == ("processing_error" if outcome is AttemptOutcome.FAILED else None)

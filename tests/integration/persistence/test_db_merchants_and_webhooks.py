"""The merchant and webhook-outbox repository contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from db_builders import T0, later, merchant
from opentelemetry.sdk.trace import TracerProvider

from adapters.persistence import SqlUnitOfWorkFactory
from application.ports.storage import WebhookEvent, WebhookStatus
from domain.settlement import FeeSchedule

pytestmark = pytest.mark.usefixtures("migrated_url")


def _event(n: int, due_in: float = 0, merchant_id: str = "mer_1") -> WebhookEvent:
    return WebhookEvent(
        event_id=f"evt_{n:04d}",
        merchant_id=merchant_id,
        type="payment.succeeded",
        url="https://shop.example/hooks",
        body='{"id": "evt"}',
        created_at=later(n),
        next_attempt_at=later(due_in),
    )


async def test_a_merchant_is_found_by_id_and_by_api_key(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    m = merchant(fees=FeeSchedule(basis_points=150, fixed=0), active=False)
    await seed(m)

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.get("mer_1") == m
        assert await uow.merchants.get_by_api_key("key_mer_1") == m
        assert await uow.merchants.get("mer_2") is None
        assert await uow.merchants.get_by_api_key("nope") is None


async def test_a_merchant_is_disabled_and_enabled_again(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant("mer_1"), merchant("mer_2"))

    async with uow_factory() as uow:
        assert await uow.merchants.set_active("mer_1", False)
        assert not await uow.merchants.set_active("mer_nope", False)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert [(await uow.merchants.get(m)).active for m in ("mer_1", "mer_2")] == [False, True]

    async with uow_factory() as uow:
        assert await uow.merchants.set_active("mer_1", True)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert (await uow.merchants.get_by_api_key("key_mer_1")).active


async def test_merchant_ids_are_listed_oldest_first(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant("mer_b", created_at=later(2)), merchant("mer_a", created_at=later(1)))

    async with uow_factory(read_only=True) as uow:
        assert await uow.merchants.list_ids() == ["mer_a", "mer_b"]


async def test_a_webhook_event_reads_back_and_its_delivery_is_written_back(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    event = _event(1)
    async with uow_factory() as uow:
        await uow.webhooks.add(event)
        await uow.commit()

    event.attempts, event.status, event.delivered_at = 1, WebhookStatus.DELIVERED, later(3)
    async with uow_factory() as uow:
        await uow.webhooks.update(event)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert await uow.webhooks.get(event.event_id) == event
        assert await uow.webhooks.list(status=WebhookStatus.DELIVERED) == [event]
        assert await uow.webhooks.list(merchant_id="mer_2") == []


async def test_an_event_is_written_with_the_trace_it_is_written_in(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    tracer = TracerProvider().get_tracer("test")
    traced, untraced = _event(1), _event(2)
    async with uow_factory() as uow:
        with tracer.start_as_current_span("CreatePayment") as span:
            await uow.webhooks.add(traced)
        await uow.webhooks.add(untraced)
        await uow.commit()

    context = span.get_span_context()
    async with uow_factory(read_only=True) as uow:
        stored, bare = await uow.webhooks.get("evt_0001"), await uow.webhooks.get("evt_0002")
    assert stored is not None
    assert bare is not None
    assert stored.traceparent == (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}")
    assert bare.traceparent is None
    [claimed] = [e for e in await _claim_all(uow_factory) if e.event_id == "evt_0001"]
    assert claimed.traceparent == stored.traceparent


async def _claim_all(uow_factory: SqlUnitOfWorkFactory) -> list[WebhookEvent]:
    async with uow_factory() as uow:
        claimed = await uow.webhooks.claim_due(later(10), later(70), 10)
        await uow.commit()
    return claimed


async def test_due_events_are_claimed_once_until_their_lease_runs_out(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    due, not_yet = [_event(1), _event(2)], _event(3, due_in=600)
    async with uow_factory() as uow:
        for event in (*due, not_yet):
            await uow.webhooks.add(event)
        await uow.commit()

    async def claim(now_s: float) -> list[str]:
        async with uow_factory() as uow:
            claimed = await uow.webhooks.claim_due(later(now_s), later(now_s + 60), limit=10)
            await uow.commit()
        return [e.event_id for e in claimed]

    assert await claim(0) == ["evt_0001", "evt_0002"]
    assert await claim(30) == []
    assert await claim(61) == ["evt_0001", "evt_0002"]
    async with uow_factory(read_only=True) as uow:
        stored = await uow.webhooks.get("evt_0001")
    assert stored is not None
    assert stored.next_attempt_at == later(121)


async def test_concurrent_workers_never_claim_the_same_event(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    async with uow_factory() as uow:
        for n in range(30):
            await uow.webhooks.add(_event(n))
        await uow.commit()

    async def worker() -> list[str]:
        async with uow_factory() as uow:
            claimed = await uow.webhooks.claim_due(T0, later(60), limit=4)
            await uow.commit()
        return [e.event_id for e in claimed]

    batches = await asyncio.gather(*(worker() for _ in range(10)))

    claimed = [event_id for batch in batches for event_id in batch]
    assert len(claimed) == len(set(claimed)) == 30

"""The merchant and webhook-delivery repository contracts, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from db_builders import T0, delivery, later, merchant

from adapters.persistence import SqlUnitOfWorkFactory
from application.ports.events import DeliveryStatus, WebhookDelivery
from domain.settlement import FeeSchedule

pytestmark = pytest.mark.usefixtures("migrated_url")


def _delivery(n: int, due_in: float = 0, **fields: Any) -> WebhookDelivery:
    return delivery(n, due_in, **fields)


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


async def test_a_delivery_reads_back_and_its_attempt_is_written_back(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    sent = _delivery(1)
    async with uow_factory() as uow:
        await uow.deliveries.add([sent])
        await uow.commit()

    sent.attempts, sent.status, sent.delivered_at = 1, DeliveryStatus.DELIVERED, later(3)
    sent.last_status_code = 204
    async with uow_factory() as uow:
        await uow.deliveries.update(sent)
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert await uow.deliveries.of_event("evt_0001") == [sent]
        assert await uow.deliveries.list(status=DeliveryStatus.DELIVERED) == [sent]
        assert await uow.deliveries.list(merchant_id="mer_2") == []


async def test_an_events_deliveries_are_listed_oldest_first_and_operators_see_newest_first(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    async with uow_factory() as uow:
        await uow.deliveries.add([_delivery(3, event_id="evt_0001"), _delivery(1), _delivery(2)])
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        assert [d.delivery_id for d in await uow.deliveries.of_event("evt_0001")] == [
            "dlv_0001", "dlv_0003"
        ]
        newest = await uow.deliveries.list(limit=2)
    assert [d.delivery_id for d in newest] == ["dlv_0003", "dlv_0002"]


async def test_an_endpoints_pending_deliveries_stop_and_the_others_stay(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    done = _delivery(1, endpoint_id="we_1")
    done.status = DeliveryStatus.DELIVERED
    async with uow_factory() as uow:
        await uow.deliveries.add(
            [done, _delivery(2, endpoint_id="we_1"), _delivery(3, endpoint_id="we_2")])
        assert await uow.deliveries.stop_pending("we_1", "gone") == 1
        await uow.commit()

    async with uow_factory(read_only=True) as uow:
        rows = await uow.deliveries.list()
    assert sorted((d.delivery_id, d.status.value, d.last_error) for d in rows) == [
        ("dlv_0001", "delivered", None), ("dlv_0002", "dead", "gone"), ("dlv_0003", "pending", None)
    ]


async def test_due_deliveries_are_claimed_once_until_their_lease_runs_out(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    async with uow_factory() as uow:
        await uow.deliveries.add([_delivery(1), _delivery(2), _delivery(3, due_in=600)])
        await uow.commit()

    async def claim(now_s: float) -> list[str]:
        async with uow_factory() as uow:
            claimed = await uow.deliveries.claim_due(later(now_s), later(now_s + 60), limit=10)
            await uow.commit()
        return [d.delivery_id for d in claimed]

    assert await claim(0) == ["dlv_0001", "dlv_0002"]
    assert await claim(30) == []
    assert await claim(61) == ["dlv_0001", "dlv_0002"]
    async with uow_factory(read_only=True) as uow:
        [stored] = await uow.deliveries.of_event("evt_0001")
    assert stored.next_attempt_at == later(121)
    assert stored.traceparent == f"00-{1:032x}-{1:016x}-01"


async def test_concurrent_workers_never_claim_the_same_delivery(
    uow_factory: SqlUnitOfWorkFactory, seed
) -> None:
    await seed(merchant())
    async with uow_factory() as uow:
        await uow.deliveries.add([_delivery(n) for n in range(1, 31)])
        await uow.commit()

    async def worker() -> list[str]:
        async with uow_factory() as uow:
            claimed = await uow.deliveries.claim_due(T0, later(60), limit=4)
            await uow.commit()
        return [d.delivery_id for d in claimed]

    batches = await asyncio.gather(*(worker() for _ in range(10)))

    claimed = [delivery_id for batch in batches for delivery_id in batch]
    assert len(claimed) == len(set(claimed)) == 30

"""The event feed's repositories on SQLite and PostgreSQL: the outbox, the feed with its
per-merchant sequence, webhook endpoints, and the publisher's one turn at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from db_builders import T0, delivery, later, merchant, only_postgres, payment
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import SqlUnitOfWorkFactory
from application.ports.events import Announced, Event, EventQuery, OutboxEntry
from application.use_cases.publish_events import PublishEvents
from domain.events import Subscription
from domain.webhook_endpoint import WebhookEndpoint
from tests.unit.fakes.platform import FakeClock, SequentialIds

pytestmark = pytest.mark.usefixtures("migrated_url")


def entry(n: int, merchant_id: str = "mer_1", *types: str) -> OutboxEntry:
    announced = tuple(
        Announced(f"evt_{n}_{i}", kind, {"n": n, "é": "ü"}, i == 0)
        for i, kind in enumerate(types or ("payment.pending",))
    )
    return OutboxEntry(merchant_id, announced, later(n), "https://m.example/h")


def event(sequence: int, merchant_id: str = "mer_1", kind: str = "payment.pending") -> Event:
    return Event(f"evt_{merchant_id}_{sequence}", merchant_id, sequence, kind, later(sequence),
                 f'{{"sequence":{sequence}}}')


def endpoint(endpoint_id: str, merchant_id: str = "mer_1", at: float = 0) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=endpoint_id,
        merchant_id=merchant_id,
        url="https://hooks.example/in",
        subscription=Subscription.of(["payment.succeeded", "refund.failed"]),
        secret_sealed="sealed-1",
        created_at=later(at),
    )


class TestOutbox:
    """Entries travel on their payment's row (docs/adr/0036)."""

    async def test_entries_come_back_whole_oldest_payment_first_and_go(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        first, second = payment("mer_1", notify_url="https://m.example/h"), payment("mer_2")
        async with uow_factory() as uow:
            await uow.merchants.add(merchant("mer_1"))
            await uow.merchants.add(merchant("mer_2"))
            await uow.payments.add(
                first, announce=entry(2, "mer_1", "payment.processing", "payment.succeeded"))
            await uow.payments.add(second, announce=entry(1, "mer_2"))
            await uow.payments.add(payment("mer_1"))  # announcing nothing
            await uow.commit()

        async with uow_factory(read_only=True) as uow:
            waited_longest, then = await uow.outbox.oldest(10)
            assert await uow.outbox.oldest_created_at() == later(1)
        assert (waited_longest.merchant_id, waited_longest.notify_url) == ("mer_2", None)
        assert then.events == (
            Announced("evt_2_0", "payment.processing", {"n": 2, "é": "ü"}, True),
            Announced("evt_2_1", "payment.succeeded", {"n": 2, "é": "ü"}, False),
        )
        # the merchant and the notify_url are the payment's own
        assert (then.merchant_id, then.created_at, then.notify_url) == (
            "mer_1", later(2), "https://m.example/h"
        )
        assert then.position is not None
        assert then.position[0] == first.payment_no

        async with uow_factory() as uow:
            await uow.outbox.remove([waited_longest])
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            assert [e.events for e in await uow.outbox.oldest(10)] == [then.events]
            assert await uow.outbox.oldest_created_at() == later(2)

    async def test_a_payments_entries_keep_their_order_and_what_came_after_a_read_stays(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        p = payment("mer_1")
        async with uow_factory() as uow:
            await uow.merchants.add(merchant("mer_1"))
            await uow.payments.add(p, announce=entry(1))
            await uow.commit()
        async with uow_factory() as uow:
            await uow.payments.update(p, announce=entry(2, "mer_1", "payment.succeeded"))
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            read = await uow.outbox.oldest(10)
        assert [e.events[0].event_id for e in read] == ["evt_1_0", "evt_2_0"]

        async with uow_factory() as uow:  # a move commits after the publisher read
            await uow.payments.update(p, announce=entry(3, "mer_1", "payment.refunded"))
            await uow.commit()
        async with uow_factory() as uow:
            await uow.outbox.remove(read)
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            (left,) = await uow.outbox.oldest(10)
            # it keeps the place of the payment's first unpublished entry in the queue
            assert await uow.outbox.oldest_created_at() == later(1)
            assert (await uow.payments.get(p.payment_no)) == p
        assert left.events[0].event_id == "evt_3_0"

        async with uow_factory() as uow:
            await uow.outbox.remove([left])
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            assert await uow.outbox.oldest(10) == []
            assert await uow.outbox.oldest_created_at() is None

    async def test_an_entry_is_written_with_the_trace_it_is_written_in(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        tracer = TracerProvider().get_tracer("test")
        async with uow_factory() as uow:
            await uow.merchants.add(merchant("mer_1"))
            with tracer.start_as_current_span("CreatePayment") as span:
                await uow.payments.add(payment(), announce=entry(1))
            await uow.payments.add(payment(), announce=entry(2))
            await uow.commit()

        context = span.get_span_context()
        async with uow_factory(read_only=True) as uow:
            traced, bare = await uow.outbox.oldest(2)
        assert traced.traceparent == (
            f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}")
        assert bare.traceparent is None

    async def test_an_empty_outbox_has_no_oldest(self, uow_factory: SqlUnitOfWorkFactory) -> None:
        async with uow_factory(read_only=True) as uow:
            assert await uow.outbox.oldest_created_at() is None
            assert await uow.outbox.oldest(5) == []


class TestEvents:
    async def test_the_feed_reads_after_a_sequence_by_type_one_row_past_the_limit(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            await uow.events.add([event(s, kind="payment.pending") for s in range(1, 4)])
            await uow.events.add([event(4, kind="payment.succeeded"), event(1, "mer_2")])
            await uow.commit()

        async with uow_factory(read_only=True) as uow:
            feed = await uow.events.list(EventQuery("mer_1", after=1, limit=2))
            typed = await uow.events.list(EventQuery("mer_1", type="payment.succeeded"))
            found = await uow.events.get("evt_mer_1_4", "mer_1")
            assert found == event(4, kind="payment.succeeded")
            assert await uow.events.get("evt_mer_1_4", "mer_2") is None
            assert [e.sequence for e in await uow.events.get_many(["evt_mer_2_1", "x"])] == [1]
        assert [e.sequence for e in feed] == [2, 3, 4]
        assert [e.sequence for e in typed] == [4]

    async def test_a_merchants_sequence_is_never_given_twice(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            await uow.events.add([event(1)])
            await uow.commit()
        with pytest.raises(IntegrityError):
            async with uow_factory() as uow:
                await uow.events.add([Event("evt_other", "mer_1", 1, "payment.pending", T0, "{}")])

    async def test_last_sequences_are_kept_per_merchant(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            await uow.events.set_last_sequences({"mer_1": 3, "mer_2": 1})
            await uow.events.set_last_sequences({"mer_1": 7})
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            assert await uow.events.last_sequences(["mer_1", "mer_2", "mer_3"]) == {
                "mer_1": 7, "mer_2": 1
            }

    async def test_pruning_takes_old_events_and_their_deliveries_a_batch_at_a_time(
        self, uow_factory: SqlUnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            await uow.events.add([event(s) for s in range(1, 5)])
            await uow.deliveries.add([
                delivery(1, event_id="evt_mer_1_1"), delivery(4, event_id="evt_mer_1_4")
            ])
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.events.prune(later(4), limit=2) == 2
            assert await uow.events.prune(later(4), limit=2) == 1
            await uow.commit()
        async with uow_factory(read_only=True) as uow:
            kept = await uow.events.list(EventQuery("mer_1"))
            assert await uow.deliveries.of_event("evt_mer_1_1") == []
            assert len(await uow.deliveries.of_event("evt_mer_1_4")) == 1
        assert [e.sequence for e in kept] == [4]


class TestEndpoints:
    async def test_an_endpoint_reads_back_and_its_changes_are_written_back(
        self, uow_factory: SqlUnitOfWorkFactory, seed: Callable[..., object]
    ) -> None:
        await seed(merchant(), merchant("mer_2"))  # type: ignore[operator]
        hooked = endpoint("we_1")
        async with uow_factory() as uow:
            await uow.endpoints.add(hooked)
            await uow.endpoints.add(endpoint("we_2", at=1))
            await uow.endpoints.add(endpoint("we_3", "mer_2"))
            await uow.commit()

        hooked.rotate("sealed-2", later(5))
        hooked.delete(later(6))
        async with uow_factory() as uow:
            assert await uow.endpoints.get("we_1", "mer_1", for_update=True) is not None
            await uow.endpoints.update(hooked)
            await uow.commit()

        async with uow_factory(read_only=True) as uow:
            assert await uow.endpoints.get("we_1", "mer_1") == hooked
            assert await uow.endpoints.get("we_1", "mer_2") is None
            active = await uow.endpoints.active(["mer_1", "mer_2"])
            both = await uow.endpoints.by_ids(["we_1", "we_3"])
        assert [e.endpoint_id for e in active] == ["we_3", "we_2"]  # oldest first
        assert {e.endpoint_id for e in both} == {"we_1", "we_3"}
        assert active[0].subscription.names == ["payment.succeeded", "refund.failed"]


class TestPublisher:
    @only_postgres
    async def test_a_second_publisher_waits_for_the_first_to_finish(
        self, engine_factory: Callable[..., AsyncEngine]
    ) -> None:
        first, second = SqlUnitOfWorkFactory(engine_factory()), SqlUnitOfWorkFactory(
            engine_factory())
        async with first() as holding:
            await holding.events.lock_publisher(T0)

            async def take_turn() -> None:
                async with second() as waiting:
                    await waiting.events.lock_publisher(later(1))
                    await waiting.commit()

            waiter = asyncio.create_task(take_turn())
            await asyncio.sleep(0.3)
            assert not waiter.done(), "the second publisher ran while the first held its turn"
            await holding.commit()
        await asyncio.wait_for(waiter, timeout=5)

    async def test_concurrent_writers_and_publishers_give_a_reader_every_event_once_in_order(
        self, engine_factory: Callable[..., AsyncEngine], dialect: str
    ) -> None:
        """Entries of 40 "payments" of two moves each, written by 8 writers at once while
        two publishers on engines of their own publish and a reader reads on with `after`:
        the reader never sees a hole, ends with every event once, and each payment's
        moves in the order they were written."""
        factories = [SqlUnitOfWorkFactory(engine_factory()) for _ in range(3)]
        writers, reading = factories[0], factories[2]
        clock, ids = FakeClock(), SequentialIds()
        publishers = [PublishEvents(f, clock, ids, batch=25) for f in factories[:2]]
        done = asyncio.Event()
        seen: list[Event] = []
        async with writers() as uow:
            await uow.merchants.add(merchant("mer_1"))
            await uow.commit()

        async def pay(first: int) -> None:
            """Payments one after another, each move in a transaction of its own."""
            for n in range(first, 40, 8):
                made = payment("mer_1")
                for move in ("payment.pending", "payment.succeeded"):
                    announce = OutboxEntry(
                        "mer_1", (Announced(f"evt_{n}_{move}", move, {"n": n}),), T0)
                    async with writers() as uow:
                        if move == "payment.pending":
                            await uow.payments.add(made, announce=announce)
                        else:
                            await uow.payments.update(made, announce=announce)
                        await uow.commit()

        async def publish(publisher: PublishEvents) -> None:
            while not done.is_set():
                await publisher()
                await asyncio.sleep(0.02)  # entries of both moves of a payment pile up

        async def read() -> None:
            after = 0
            while True:
                async with reading(read_only=True) as uow:
                    page = await uow.events.list(EventQuery("mer_1", after=after, limit=10))
                for found in page[:10]:
                    assert found.sequence == after + 1, f"a hole after {after}: {found.sequence}"
                    seen.append(found)
                    after = found.sequence
                if done.is_set() and not page:
                    return
                await asyncio.sleep(0.005)

        work = [pay(first) for first in range(8)]
        background = [asyncio.create_task(publish(p)) for p in publishers]
        reader = asyncio.create_task(read())
        await asyncio.wait_for(asyncio.gather(*work), timeout=60)
        while (await publishers[0]())["published"]:
            pass
        done.set()
        await asyncio.wait_for(asyncio.gather(*background, reader), timeout=60)

        assert len(seen) == len({e.event_id for e in seen}) == 80
        order = [e.event_id for e in seen]
        for n in range(40):
            assert order.index(f"evt_{n}_payment.pending") < order.index(
                f"evt_{n}_payment.succeeded")

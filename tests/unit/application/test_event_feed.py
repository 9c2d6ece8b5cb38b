"""Reading the feed: a merchant's own events, after a sequence, by type, a page at a time;
one event by id; the age of what is not yet published; and forgetting what is too old."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.errors import NotFound, ValidationFailed
from application.ports.events import EventQuery
from application.use_cases.list_events import MAX_SEQUENCE
from application.use_cases.measure_outbox_lag import MeasureOutboxLag
from application.use_cases.prune_events import PruneEvents
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED


async def published(gateway: Gateway, merchant_id: str, payments: int = 2) -> None:
    for _ in range(payments):
        await gateway.pay(merchant_id)
    await gateway.pay(merchant_id, DECLINED)
    await gateway.publish_events()


class TestListEvents:
    async def test_the_feed_is_in_sequence_order_after_the_sequence_given(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await published(gateway, merchant_id)

        page = await gateway.list_events(EventQuery(merchant_id, after=2, limit=3))

        assert [e.sequence for e in page.events] == [3, 4, 5]
        assert (page.next_after, page.has_more) == (5, True)

    async def test_reading_on_from_next_after_reaches_the_end(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await published(gateway, merchant_id)
        seen: list[int] = []
        after, more = 0, True
        while more:
            page = await gateway.list_events(EventQuery(merchant_id, after=after, limit=4))
            seen += [e.sequence for e in page.events]
            after, more = page.next_after, page.has_more
        assert seen == list(range(1, 10))
        last = await gateway.list_events(EventQuery(merchant_id, after=after))
        assert (last.events, last.next_after, last.has_more) == ([], 9, False)

    async def test_a_full_last_page_says_there_is_no_more(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await published(gateway, merchant_id)
        page = await gateway.list_events(EventQuery(merchant_id, after=6, limit=3))
        assert ([e.sequence for e in page.events], page.has_more) == ([7, 8, 9], False)

    async def test_a_type_keeps_only_those_events(self, gateway: Gateway, merchant_id: str) -> None:
        await published(gateway, merchant_id)
        page = await gateway.list_events(EventQuery(merchant_id, type="payment.succeeded"))
        assert [(e.sequence, e.type) for e in page.events] == [
            (3, "payment.succeeded"), (6, "payment.succeeded")
        ]
        assert page.next_after == 6

    async def test_a_type_of_the_contract_not_yet_seen_is_an_empty_page(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await published(gateway, merchant_id)
        page = await gateway.list_events(EventQuery(merchant_id, type="payment.canceled"))
        assert page.events == []

    async def test_another_merchants_events_are_not_in_the_feed(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        await published(gateway, other)
        assert (await gateway.list_events(EventQuery(merchant_id))).events == []

    async def test_events_not_yet_published_are_not_in_the_feed(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id)
        assert (await gateway.list_events(EventQuery(merchant_id))).events == []

    @pytest.mark.parametrize("limit", [0, 101, -1])
    async def test_a_limit_out_of_range_is_refused(
        self, gateway: Gateway, merchant_id: str, limit: int
    ) -> None:
        with pytest.raises(ValidationFailed, match="limit"):
            await gateway.list_events(EventQuery(merchant_id, limit=limit))

    @pytest.mark.parametrize("limit", [1, 100])
    async def test_a_limit_at_either_bound_is_taken(
        self, gateway: Gateway, merchant_id: str, limit: int
    ) -> None:
        await published(gateway, merchant_id)
        page = await gateway.list_events(EventQuery(merchant_id, limit=limit))
        assert len(page.events) == min(limit, 9)

    @pytest.mark.parametrize("after", [-1, MAX_SEQUENCE + 1])
    async def test_an_after_that_is_no_sequence_is_refused(
        self, gateway: Gateway, merchant_id: str, after: int
    ) -> None:
        with pytest.raises(ValidationFailed, match="after"):
            await gateway.list_events(EventQuery(merchant_id, after=after))

    async def test_the_largest_sequence_is_a_valid_after(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        page = await gateway.list_events(EventQuery(merchant_id, after=MAX_SEQUENCE))
        assert (page.events, page.next_after) == ([], MAX_SEQUENCE)

    async def test_an_unknown_type_is_refused(self, gateway: Gateway, merchant_id: str) -> None:
        with pytest.raises(ValidationFailed, match=r"payment\.created"):
            await gateway.list_events(EventQuery(merchant_id, type="payment.created"))


class TestGetEvent:
    async def test_an_event_by_its_id(self, gateway: Gateway, merchant_id: str) -> None:
        await published(gateway, merchant_id, payments=0)
        [stored] = [e for e in gateway.db.events.values() if e.sequence == 3]
        assert await gateway.get_event(stored.event_id, merchant_id) == stored

    async def test_another_merchants_event_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        await published(gateway, other, payments=0)
        theirs = next(iter(gateway.db.events))
        with pytest.raises(NotFound, match=theirs):
            await gateway.get_event(theirs, merchant_id)


class TestOutboxLag:
    async def test_the_age_of_the_oldest_entry_not_yet_published(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        lag = MeasureOutboxLag(gateway.uow, gateway.clock)
        assert await lag() == 0.0
        await gateway.pay(merchant_id)
        gateway.clock.advance(seconds=30)
        await gateway.pay(merchant_id)
        gateway.clock.advance(seconds=12)
        assert await lag() == 42.0
        await gateway.publish_events()
        assert await lag() == 0.0


class TestPruneEvents:
    async def test_events_past_the_retention_go_with_their_deliveries(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, notify_url="https://m.example/h")
        await gateway.publish_events()
        gateway.clock.advance(days=29, hours=23)
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        gateway.clock.advance(hours=1, microseconds=1)
        prune = PruneEvents(gateway.uow, gateway.clock, retention=timedelta(days=30))

        assert await prune() == {"pruned": 3}

        assert sorted(e.sequence for e in gateway.db.events.values()) == [4, 5, 6]
        assert gateway.db.deliveries == {}
        assert gateway.db.last_sequences == {merchant_id: 6}

    async def test_an_event_exactly_at_the_retention_is_kept(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await published(gateway, merchant_id, payments=0)
        gateway.clock.advance(days=30)
        assert await PruneEvents(gateway.uow, gateway.clock)() == {"pruned": 0}

    async def test_a_run_prunes_one_batch(self, gateway: Gateway, merchant_id: str) -> None:
        await published(gateway, merchant_id)
        gateway.clock.advance(days=31)
        prune = PruneEvents(gateway.uow, gateway.clock, batch=4)
        assert [await prune() for _ in range(4)] == [
            {"pruned": 4}, {"pruned": 4}, {"pruned": 1}, {"pruned": 0}
        ]

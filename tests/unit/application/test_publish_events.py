"""The publisher: committed outbox entries become the feed, each event with its merchant's
next sequence, and fan out to the deliveries that want them."""

from __future__ import annotations

import json
from dataclasses import replace

from application.ports.events import EventQuery
from application.use_cases.publish_events import PublishEvents
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED

HOOK = "https://merchant.example/hooks"


def feed(gateway: Gateway, merchant_id: str) -> list[tuple[int, str]]:
    events = [e for e in gateway.db.events.values() if e.merchant_id == merchant_id]
    return sorted((e.sequence, e.type) for e in events)


class TestPublishEvents:
    async def test_events_get_their_merchants_sequence_in_the_order_written(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        await gateway.pay(merchant_id)
        await gateway.pay(other, DECLINED)

        assert await gateway.publish_events() == {"published": 6, "deliveries": 0}

        assert feed(gateway, merchant_id) == [
            (1, "payment.pending"), (2, "payment.processing"), (3, "payment.succeeded")
        ]
        assert feed(gateway, other) == [
            (1, "payment.pending"), (2, "payment.processing"), (3, "payment.failed")
        ]
        assert gateway.db.outbox == {}
        assert gateway.db.last_sequences == {merchant_id: 3, other: 3}

    async def test_sequences_continue_from_the_last_run(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        assert [s for s, _ in feed(gateway, merchant_id)] == [1, 2, 3, 4, 5, 6]

    async def test_the_body_is_the_event_with_its_sequence_and_the_object(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        await gateway.publish_events()

        last = max(gateway.db.events.values(), key=lambda e: e.sequence)
        body = json.loads(last.body)
        assert list(body) == ["id", "sequence", "type", "created_at", "data"]
        assert (body["id"], body["sequence"], body["type"]) == (
            last.event_id, 3, "payment.succeeded"
        )
        assert body["created_at"] == "2026-11-23T10:00:00.000Z"
        assert body["data"]["payment_no"] == payment.payment_no
        assert last.created_at == gateway.clock.now()

    async def test_with_nothing_written_nothing_is_published_and_nothing_is_locked(
        self, gateway: Gateway
    ) -> None:
        commits = gateway.db.commits
        assert await gateway.publish_events() == {"published": 0, "deliveries": 0}
        assert gateway.db.commits == commits

    async def test_a_run_publishes_batch_after_batch_until_the_outbox_is_empty(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        for _ in range(3):
            await gateway.pay(merchant_id)
        publish = PublishEvents(gateway.uow, gateway.clock, gateway.ids, batch=2)

        assert await publish() == {"published": 9, "deliveries": 0}
        assert [s for s, _ in feed(gateway, merchant_id)] == list(range(1, 10))

    async def test_each_endpoint_that_wants_an_event_gets_a_delivery(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        every = (await gateway.endpoint(merchant_id, "*", url="https://a.example/")).endpoint
        succeeded = (await gateway.endpoint(merchant_id, "payment.succeeded")).endpoint
        await gateway.onboard("Globex")
        await gateway.pay(merchant_id)

        assert await gateway.publish_events() == {"published": 3, "deliveries": 4}

        delivered = sorted((d.type, d.endpoint_id) for d in gateway.db.deliveries.values())
        assert delivered == sorted([
            ("payment.pending", every.endpoint_id),
            ("payment.processing", every.endpoint_id),
            ("payment.succeeded", every.endpoint_id),
            ("payment.succeeded", succeeded.endpoint_id),
        ])
        urls = {d.url for d in gateway.db.deliveries.values() if d.endpoint_id == every.endpoint_id}
        assert urls == {"https://a.example/"}

    async def test_the_notify_url_gets_the_final_states_as_before(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, notify_url=HOOK)
        await gateway.publish_events()

        [delivery] = gateway.db.deliveries.values()
        assert (delivery.type, delivery.url, delivery.endpoint_id) == (
            "payment.succeeded", HOOK, None
        )
        assert delivery.next_attempt_at == gateway.clock.now()

    async def test_another_merchants_endpoint_gets_nothing(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        other = await gateway.onboard("Globex")
        await gateway.endpoint(other, "*")
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        assert gateway.db.deliveries == {}

    async def test_a_deleted_endpoint_gets_nothing_more(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        endpoint = (await gateway.endpoint(merchant_id, "*")).endpoint
        await gateway.delete_endpoint(endpoint.endpoint_id, merchant_id)
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        assert gateway.db.deliveries == {}

    async def test_deliveries_carry_the_trace_that_wrote_the_event(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, notify_url=HOOK)
        last = max(gateway.db.outbox)
        traceparent = f"00-{'ab' * 16}-{'cd' * 8}-01"
        gateway.db.outbox[last] = replace(gateway.db.outbox[last], traceparent=traceparent)
        await gateway.publish_events()
        [delivery] = gateway.db.deliveries.values()
        assert delivery.traceparent == traceparent

    async def test_what_is_published_is_what_the_feed_reads(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        page = await gateway.list_events(EventQuery(merchant_id))
        assert [(e.sequence, e.type) for e in page.events] == feed(gateway, merchant_id)

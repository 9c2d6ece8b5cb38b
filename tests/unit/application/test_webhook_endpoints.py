"""A merchant's webhook endpoints: registered with a secret shown once (sealed at rest),
listed, read, deleted, and rolled over to a new secret; another merchant's are missing."""

from __future__ import annotations

import pytest

from application.errors import NotFound, ValidationFailed
from application.use_cases.create_webhook_endpoint import CreateEndpointCommand
from application.use_cases.delete_webhook_endpoint import STOPPED
from domain.events import UnknownEventType
from domain.webhook_endpoint import ROLLOVER
from tests.unit.fakes import Gateway

URL = "https://hooks.merchant.example/in"


class TestCreateWebhookEndpoint:
    async def test_the_endpoint_is_kept_with_its_secret_sealed_and_the_secret_shown_once(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        new = await gateway.endpoint(merchant_id, "payment.succeeded", "refund.failed", url=URL)

        stored = gateway.db.endpoints[new.endpoint.endpoint_id]
        assert new.endpoint.endpoint_id.startswith("we_")
        assert (stored.merchant_id, stored.url) == (merchant_id, URL)
        assert stored.subscription.names == ["payment.succeeded", "refund.failed"]
        assert new.secret.startswith("whsec_")
        assert stored.secret_sealed != new.secret
        assert gateway.vault.open(stored.secret_sealed) == new.secret
        assert stored.created_at == gateway.clock.now()
        assert gateway.destinations.asked == [URL]

    async def test_a_refused_destination_is_a_validation_error_and_nothing_is_kept(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        gateway.destinations.refused[URL] = "it resolves to 10.0.0.7, not a public address"
        with pytest.raises(ValidationFailed, match=r"url: it resolves to 10\.0\.0\.7"):
            await gateway.endpoint(merchant_id, url=URL)
        assert gateway.db.endpoints == {}

    async def test_an_unknown_event_type_is_refused_before_the_url_is_even_looked_up(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        command = CreateEndpointCommand(merchant_id=merchant_id, url=URL, events=["pay.ok"])
        with pytest.raises(UnknownEventType):
            await gateway.create_endpoint(command)
        assert (gateway.db.endpoints, gateway.destinations.asked) == ({}, [])


class TestReadingEndpoints:
    async def test_a_merchant_lists_its_own_endpoints_oldest_first(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        first = await gateway.endpoint(merchant_id)
        gateway.clock.advance(seconds=1)
        second = await gateway.endpoint(merchant_id)
        await gateway.endpoint(await gateway.onboard("Globex"))

        listed = await gateway.list_endpoints(merchant_id)

        assert [e.endpoint_id for e in listed] == [
            first.endpoint.endpoint_id, second.endpoint.endpoint_id
        ]

    async def test_one_endpoint_by_id(self, gateway: Gateway, merchant_id: str) -> None:
        new = await gateway.endpoint(merchant_id)
        got = await gateway.get_endpoint(new.endpoint.endpoint_id, merchant_id)
        assert got == gateway.db.endpoints[new.endpoint.endpoint_id]

    async def test_another_merchants_endpoint_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        theirs = await gateway.endpoint(await gateway.onboard("Globex"))
        with pytest.raises(NotFound):
            await gateway.get_endpoint(theirs.endpoint.endpoint_id, merchant_id)


class TestDeleteWebhookEndpoint:
    async def test_a_deleted_endpoint_is_gone_from_the_merchants_view(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        new = await gateway.endpoint(merchant_id)
        endpoint_id = new.endpoint.endpoint_id

        deleted = await gateway.delete_endpoint(endpoint_id, merchant_id)

        assert deleted.deleted_at == gateway.clock.now()
        assert gateway.db.endpoints[endpoint_id].deleted_at == gateway.clock.now()
        assert await gateway.list_endpoints(merchant_id) == []
        with pytest.raises(NotFound):
            await gateway.get_endpoint(endpoint_id, merchant_id)
        with pytest.raises(NotFound):
            await gateway.delete_endpoint(endpoint_id, merchant_id)

    async def test_its_pending_deliveries_stop_and_the_delivered_ones_stay(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        endpoint_id = (await gateway.endpoint(merchant_id, "payment.pending")).endpoint.endpoint_id
        await gateway.pay(merchant_id)
        await gateway.publish_events()
        await gateway.deliver_webhooks()
        await gateway.pay(merchant_id)
        await gateway.publish_events()

        await gateway.delete_endpoint(endpoint_id, merchant_id)

        outcome = sorted((d.status.value, d.last_error) for d in gateway.db.deliveries.values())
        assert outcome == [("dead", STOPPED), ("delivered", None)]

    async def test_another_merchant_cannot_delete_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        theirs = await gateway.endpoint(await gateway.onboard("Globex"))
        with pytest.raises(NotFound):
            await gateway.delete_endpoint(theirs.endpoint.endpoint_id, merchant_id)
        assert gateway.db.endpoints[theirs.endpoint.endpoint_id].active


class TestRotateWebhookSecret:
    async def test_a_new_secret_is_shown_once_and_the_old_one_signs_for_a_day(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        first = await gateway.endpoint(merchant_id)
        endpoint_id = first.endpoint.endpoint_id
        gateway.clock.advance(hours=1)

        rotated = await gateway.rotate_secret(endpoint_id, merchant_id)

        stored = gateway.db.endpoints[endpoint_id]
        assert rotated.secret.startswith("whsec_")
        assert rotated.secret != first.secret
        opened = [gateway.vault.open(s) for s in stored.signing_secrets(gateway.clock.now())]
        assert opened == [rotated.secret, first.secret]
        assert stored.previous_expires_at == gateway.clock.now() + ROLLOVER

    async def test_another_merchants_or_a_deleted_endpoint_is_not_found(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        theirs = await gateway.endpoint(await gateway.onboard("Globex"))
        mine = await gateway.endpoint(merchant_id)
        await gateway.delete_endpoint(mine.endpoint.endpoint_id, merchant_id)
        for endpoint_id in (theirs.endpoint.endpoint_id, mine.endpoint.endpoint_id):
            with pytest.raises(NotFound):
                await gateway.rotate_secret(endpoint_id, merchant_id)
        assert gateway.db.endpoints[theirs.endpoint.endpoint_id].previous_secret_sealed is None

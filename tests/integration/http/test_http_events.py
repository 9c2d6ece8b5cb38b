"""The event feed over HTTP: `GET /api/v1/events` read on with `after`, one event, its
deliveries and a redelivery; another merchant's event is a 404 and bad input a clear 4xx
that writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from http_harness import CARD_DECLINED, Api, ApiFactory, FakeClock, Keys, assert_error

from observability.ports import MeteredWebhookSender

EVENTS = "/api/v1/events"
ENDPOINTS = "/api/v1/webhook_endpoints"
PUBLIC = "https://93.184.216.34/hooks"  # an address: no lookup, and public


async def publish(api: Api) -> None:
    await api.container.use_cases.publish_events()()


async def feed(api: Api, keys: Keys, query: str = "") -> dict[str, Any]:
    response = await api.call(keys, "GET", f"{EVENTS}{query}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def endpoint(api: Api, keys: Keys, *events: str) -> dict[str, Any]:
    body = {"url": PUBLIC, "events": list(events) or ["*"]}
    response = await api.call(keys, "POST", ENDPOINTS, body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_feed_holds_every_move_in_order_with_the_objects_as_the_api_shows_them(
    open_api: ApiFactory, any_db_url: str
) -> None:
    api = await open_api(any_db_url)
    keys = await api.new_merchant()
    paid = await api.pay(keys, "ORDER-1")
    refund = (await api.refund(keys, paid["payment_no"], {"amount": 2_500})).json()
    await publish(api)

    page = await feed(api, keys)

    assert [(e["sequence"], e["type"]) for e in page["data"]] == [
        (1, "payment.pending"),
        (2, "payment.processing"),
        (3, "payment.succeeded"),
        (4, "refund.pending"),
        (5, "refund.succeeded"),
        (6, "payment.partially_refunded"),
    ]
    assert (page["next_after"], page["has_more"]) == (6, False)
    first = page["data"][0]
    assert set(first) == {"id", "sequence", "type", "created_at", "data"}
    assert first["id"].startswith("evt_")
    assert page["data"][2]["data"] == paid
    assert page["data"][4]["data"] == refund
    now = (await api.call(keys, "GET", f"/api/v1/payments/{paid['payment_no']}")).json()
    assert page["data"][5]["data"] == now


async def test_reading_on_with_after_pages_through_and_then_waits_at_the_end(
    api: Api, merchant: Keys
) -> None:
    await api.pay(merchant, "ORDER-1")
    await api.pay(merchant, "ORDER-2", card=CARD_DECLINED)
    await publish(api)

    first = await feed(api, merchant, "?limit=4")
    rest = await feed(api, merchant, f"?after={first['next_after']}&limit=4")
    end = await feed(api, merchant, f"?after={rest['next_after']}")

    assert [e["sequence"] for e in first["data"]] == [1, 2, 3, 4]
    assert first["has_more"] is True
    assert [e["sequence"] for e in rest["data"]] == [5, 6]
    assert (rest["has_more"], end["data"], end["next_after"]) == (False, [], 6)


async def test_a_type_keeps_only_those_events(api: Api, merchant: Keys) -> None:
    await api.pay(merchant, "ORDER-1")
    await api.pay(merchant, "ORDER-2", card=CARD_DECLINED)
    await publish(api)

    page = await feed(api, merchant, "?type=payment.failed")

    assert [(e["sequence"], e["type"]) for e in page["data"]] == [(6, "payment.failed")]


async def test_an_event_by_id_is_the_feeds_item_byte_for_byte(api: Api, merchant: Keys) -> None:
    await api.pay(merchant)
    await publish(api)
    listed = await api.call(merchant, "GET", f"{EVENTS}?after=2")
    [item] = listed.json()["data"]

    one = await api.call(merchant, "GET", f"{EVENTS}/{item['id']}")

    assert one.status_code == 200
    assert one.json() == item
    assert one.content in listed.content


async def test_another_merchants_events_are_neither_listed_nor_found(
    api: Api, merchant: Keys, other_merchant: Keys
) -> None:
    await api.pay(other_merchant)
    await publish(api)
    theirs = (await feed(api, other_merchant))["data"][0]["id"]

    assert (await feed(api, merchant))["data"] == []
    for path in (f"{EVENTS}/{theirs}", f"{EVENTS}/{theirs}/deliveries", f"{EVENTS}/evt_nope"):
        assert_error(await api.call(merchant, "GET", path), 404, "not_found")
    before = await api.counts()
    redelivered = await api.call(merchant, "POST", f"{EVENTS}/{theirs}/redeliver")
    assert_error(redelivered, 404, "not_found")
    assert await api.counts() == before


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("limit=0", 422, "validation_error"),
        ("limit=101", 422, "validation_error"),
        ("limit=ten", 400, "malformed_request"),
        ("after=-1", 422, "validation_error"),
        ("after=99999999999999999999", 422, "validation_error"),
        ("after=abc", 400, "malformed_request"),
        ("after=1.5", 400, "malformed_request"),
        ("type=payment.created", 422, "validation_error"),
        ("type=*", 422, "validation_error"),
    ],
)
async def test_bad_feed_input_is_a_clear_4xx(
    api: Api, merchant: Keys, query: str, status: int, code: str
) -> None:
    before = await api.counts()
    error = assert_error(await api.call(merchant, "GET", f"{EVENTS}?{query}"), status, code)
    assert query.split("=")[0] in error["message"] or status == 400
    assert await api.counts() == before


async def test_an_events_deliveries_show_attempts_and_the_next_try(
    api: Api, merchant: Keys
) -> None:
    hooked = await endpoint(api, merchant, "payment.succeeded")
    paid = await api.pay(merchant, notify_url="https://merchant.example/hooks")
    await publish(api)
    [event] = (await feed(api, merchant, "?type=payment.succeeded"))["data"]

    response = await api.call(merchant, "GET", f"{EVENTS}/{event['id']}/deliveries")

    assert response.status_code == 200
    deliveries = response.json()["data"]
    assert sorted((d["endpoint_id"] or "", d["url"]) for d in deliveries) == [
        ("", "https://merchant.example/hooks"), (hooked["id"], PUBLIC)
    ]
    for delivery in deliveries:
        assert delivery["id"].startswith("dlv_")
        assert delivery["event_id"] == event["id"]
        assert (delivery["status"], delivery["attempts"]) == ("pending", 0)
        assert (delivery["last_status_code"], delivery["last_error"]) == (None, None)
        assert delivery["next_attempt_at"] is not None
    assert event["data"]["payment_no"] == paid["payment_no"]


async def test_a_redelivery_is_a_new_delivery_of_the_same_event(
    api: Api, merchant: Keys
) -> None:
    first = await endpoint(api, merchant, "payment.succeeded")
    second = await endpoint(api, merchant, "refund.succeeded")
    await api.pay(merchant)
    await publish(api)
    [event] = (await feed(api, merchant, "?type=payment.succeeded"))["data"]
    target = f"{EVENTS}/{event['id']}/redeliver"

    again = await api.call(merchant, "POST", target)
    named = await api.call(merchant, "POST", target, {"endpoint_id": second["id"]})

    assert again.status_code == named.status_code == 202
    assert [d["endpoint_id"] for d in again.json()["data"]] == [first["id"]]
    assert [d["endpoint_id"] for d in named.json()["data"]] == [second["id"]]
    listed = (await api.call(merchant, "GET", f"{EVENTS}/{event['id']}/deliveries")).json()
    assert len(listed["data"]) == 3
    assert (await api.counts())["events"] == 3


async def test_a_redelivery_nowhere_or_to_another_merchants_endpoint_is_refused(
    api: Api, merchant: Keys, other_merchant: Keys
) -> None:
    theirs = await endpoint(api, other_merchant)
    await api.pay(merchant)
    await publish(api)
    [event] = (await feed(api, merchant, "?type=payment.succeeded"))["data"]
    target = f"{EVENTS}/{event['id']}/redeliver"
    before = await api.counts()

    assert_error(await api.call(merchant, "POST", target), 422, "validation_error")
    named = await api.call(merchant, "POST", target, {"endpoint_id": theirs["id"]})
    assert_error(named, 404, "not_found")
    unknown_field = await api.call(merchant, "POST", target, {"endpoint": theirs["id"]})
    assert unknown_field.status_code in (400, 422)
    assert await api.counts() == before


async def test_metrics_show_how_far_the_feed_is_behind_at_each_scrape(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    clock = FakeClock()
    api = await open_api(
        http_sqlite_url, adapt=lambda c: c.core.clock.override(providers.Object(clock)))
    keys = await api.new_merchant()

    async def lag() -> str:
        text = (await api.client.get("/metrics")).text
        [line] = [ln for ln in text.splitlines()
                  if ln.startswith("payment_gateway_outbox_lag_seconds ")]
        return line.split()[1]

    assert await lag() == "0.0"
    await api.pay(keys)
    clock.moment += timedelta(seconds=90)
    assert await lag() == "90.0"
    await publish(api)
    assert await lag() == "0.0"


async def test_deliveries_go_through_the_sender_that_counts_failures_by_endpoint(
    api: Api,
) -> None:
    assert isinstance(api.container.use_cases.deliver_webhooks().sender, MeteredWebhookSender)

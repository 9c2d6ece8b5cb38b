"""Webhook endpoints over HTTP: registered with a secret shown once and kept sealed,
listed, read, rotated and deleted by their merchant only; a URL that is not https or not
public, or an unknown event type, is a clear 4xx and writes nothing."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from http_harness import Api, Keys, assert_error
from sqlalchemy import select

from adapters.persistence.schema import idempotency_keys, webhook_endpoints

ENDPOINTS = "/api/v1/webhook_endpoints"
PUBLIC = "https://93.184.216.34/hooks"
FIELDS = {"id", "url", "events", "created_at", "previous_secret_expires_at"}


async def create(api: Api, keys: Keys, body: Any = None, **headers: str) -> dict[str, Any]:
    sent = body or {"url": PUBLIC, "events": ["payment.succeeded", "refund.failed"]}
    response = await api.call(keys, "POST", ENDPOINTS, sent, headers=headers or None)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def stored_text(api: Api) -> str:
    """Every endpoint row and idempotency key row, as text."""
    async with api._engine.connect() as conn:
        rows = [*await conn.execute(select(webhook_endpoints)),
                *await conn.execute(select(idempotency_keys))]
    return repr(rows)


async def test_an_endpoint_is_created_with_a_secret_shown_once_and_kept_sealed(
    api: Api, merchant: Keys
) -> None:
    created = await create(api, merchant, {"url": PUBLIC, "events": ["refund.failed", "*"]})

    assert set(created) == FIELDS | {"secret"}
    assert created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_")
    assert (created["url"], created["events"]) == (PUBLIC, ["*"])
    assert created["previous_secret_expires_at"] is None
    listed = (await api.call(merchant, "GET", ENDPOINTS)).json()["data"]
    one = (await api.call(merchant, "GET", f"{ENDPOINTS}/{created['id']}")).json()
    assert listed == [one]
    assert one == {k: v for k, v in created.items() if k != "secret"}
    assert created["secret"] not in await stored_text(api)


async def test_a_replayed_creation_answers_the_same_secret_sealed_at_rest(
    api: Api, merchant: Keys
) -> None:
    first = await create(api, merchant, None, **{"Idempotency-Key": "hook-1"})
    again = await api.call(
        merchant, "POST", ENDPOINTS,
        {"url": PUBLIC, "events": ["payment.succeeded", "refund.failed"]},
        headers={"Idempotency-Key": "hook-1"},
    )

    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first
    assert (await api.counts())["webhook_endpoints"] == 1
    assert first["secret"] not in await stored_text(api)


async def test_rotating_shows_a_new_secret_once_and_keeps_the_old_one_a_day(
    api: Api, merchant: Keys
) -> None:
    created = await create(api, merchant)

    response = await api.call(merchant, "POST", f"{ENDPOINTS}/{created['id']}/rotate_secret")

    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    until = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert timedelta(hours=23, minutes=59) < until - datetime.fromisoformat(
        created["created_at"]) < timedelta(hours=24, minutes=1)
    assert rotated["secret"] not in await stored_text(api)


async def test_a_deleted_endpoint_is_gone(api: Api, merchant: Keys) -> None:
    created = await create(api, merchant)
    path = f"{ENDPOINTS}/{created['id']}"

    response = await api.call(merchant, "DELETE", path)

    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "deleted": True}
    assert (await api.call(merchant, "GET", ENDPOINTS)).json() == {"data": []}
    signed_earlier = int(time.time()) - 60  # signed afresh, as a second DELETE must be
    for method, target in (("GET", path), ("DELETE", path), ("POST", f"{path}/rotate_secret")):
        response = await api.call(merchant, method, target, timestamp=signed_earlier)
        assert_error(response, 404, "not_found")


async def test_another_merchants_endpoint_is_not_found_and_stays_as_it_was(
    api: Api, merchant: Keys, other_merchant: Keys
) -> None:
    theirs = await create(api, other_merchant)
    path = f"{ENDPOINTS}/{theirs['id']}"
    before = await stored_text(api)

    signed_earlier = int(time.time()) - 60  # signed afresh, as a second DELETE must be
    for method, target in (("GET", path), ("DELETE", path), ("POST", f"{path}/rotate_secret")):
        response = await api.call(merchant, method, target, timestamp=signed_earlier)
        assert_error(response, 404, "not_found")
    assert (await api.call(merchant, "GET", ENDPOINTS)).json() == {"data": []}
    assert await stored_text(api) == before
    assert (await api.call(other_merchant, "GET", path)).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "said"),
    [
        ({"url": "http://93.184.216.34/hooks", "events": ["*"]}, 422, "validation_error",
         "https"),
        ({"url": "https://10.0.0.7/hooks", "events": ["*"]}, 422, "validation_error",
         "not a public address"),
        ({"url": "https://127.0.0.1:8443/hooks", "events": ["*"]}, 422, "validation_error",
         "not a public address"),
        ({"url": "https://169.254.169.254/latest", "events": ["*"]}, 422, "validation_error",
         "not a public address"),
        ({"url": PUBLIC, "events": ["payment.created"]}, 422, "validation_error",
         "payment.created"),
        ({"url": PUBLIC, "events": []}, 422, "validation_error", "events"),
        ({"url": "not a url", "events": ["*"]}, 422, "validation_error", "url"),
        ({"url": PUBLIC}, 422, "validation_error", "events"),
        ({"url": PUBLIC, "events": "payment.succeeded"}, 400, "malformed_request", "events"),
        ({"url": PUBLIC, "events": ["*"], "secret": "mine"}, 422, "validation_error",
         "secret"),
    ],
)
async def test_a_bad_endpoint_is_a_clear_4xx_and_nothing_is_written(
    api: Api, merchant: Keys, body: dict[str, Any], status: int, code: str, said: str
) -> None:
    before = await api.counts()

    error = assert_error(await api.call(merchant, "POST", ENDPOINTS, body), status, code)

    assert said in error["message"] + repr(error["details"])
    assert await api.counts() == before


async def test_without_a_signature_nothing_is_listed_or_created(api: Api, merchant: Keys) -> None:
    listed = await api.client.get(ENDPOINTS)
    created = await api.client.post(ENDPOINTS, json={"url": PUBLIC, "events": ["*"]})
    assert_error(listed, 401, "unauthenticated")
    assert_error(created, 401, "unauthenticated")
    assert (await api.counts())["webhook_endpoints"] == 0

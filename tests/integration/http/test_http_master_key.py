"""One master key per database, as a gateway lives it, on SQLite and PostgreSQL: readiness
names a key it lacks, and a rotation runs while gateways holding both keys keep serving."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import pytest
from http_harness import Api, ApiFactory, Keys, assert_error, payment_body
from sqlalchemy import select

from adapters.persistence.schema import merchants
from adapters.platform.vault import AesGcmVault
from entrypoints.master_key import check_master_key, rotate_master_key
from entrypoints.settings import Settings

OLD, NEW = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))


def _settings(api: Api) -> Settings:
    settings: Settings = api.container.settings()
    return settings


async def test_readiness_fails_naming_the_key_when_the_database_uses_another(
    open_api: ApiFactory, any_db_url: str
) -> None:
    await check_master_key(Settings(database_url=any_db_url, master_key=OLD))
    stranger = await open_api(any_db_url, master_key=NEW)

    ready = await stranger.client.get("/health/ready")

    assert ready.status_code == 503, ready.text
    check = ready.json()["checks"]["master_key"]
    assert check["ok"] is False
    assert "lacks" in check["detail"]


async def test_a_merchant_sealed_under_a_key_this_gateway_lacks_is_503_not_500(
    open_api: ApiFactory, any_db_url: str
) -> None:
    keys = await (await open_api(any_db_url, master_key=OLD)).new_merchant()
    stranger = await open_api(any_db_url, master_key=NEW)

    response = await stranger.call(keys, "GET", "/api/v1/payments")

    assert_error(response, 503, "unavailable")


async def _serve_each(api: Api, keyring: list[Keys], round_: int) -> list[int]:
    async def pay(keys: Keys) -> int:
        body = payment_body(f"ORDER-{round_}-{keys.merchant_id}")
        return (await api.call(keys, "POST", "/api/v1/payments", body)).status_code

    return list(await asyncio.gather(*(pay(keys) for keys in keyring)))


async def test_rotation_while_serving_reseals_everything_and_no_request_fails(
    open_api: ApiFactory, any_db_url: str
) -> None:
    before = await open_api(any_db_url, master_key=OLD)
    await check_master_key(_settings(before))
    keyring = [await before.new_merchant(f"Shop {i}") for i in range(12)]
    created = await before.admin("POST", "/admin/v1/merchants", {"name": "Kept"},
                                 headers={"Idempotency-Key": "onboard-kept"})
    both = await open_api(any_db_url, master_key=NEW, previous_master_key=OLD)

    rotation = asyncio.create_task(rotate_master_key(_settings(both)))
    during = [await _serve_each(both, keyring, r) for r in range(3)]
    rotated: dict[str, Any] = await rotation
    after = await _serve_each(both, keyring, 3)

    assert rotated["resealed"]["merchants.api_secret_sealed"] == 13
    assert rotated["resealed"]["idempotency_keys.response_body"] == 1
    assert {status for statuses in during for status in statuses} == {201}
    assert set(after) == {201}
    new_only = await open_api(any_db_url, master_key=NEW)
    assert set(await _serve_each(new_only, keyring, 4)) == {201}
    again = await new_only.admin("POST", "/admin/v1/merchants", {"name": "Kept"},
                                 headers={"Idempotency-Key": "onboard-kept"})
    assert (again.status_code, again.json()) == (201, created.json())
    async with new_only.container.core.engine().connect() as conn:
        sealed = (await conn.execute(select(merchants.c.api_secret_sealed))).scalars().all()
    assert all(value.startswith(AesGcmVault.from_base64(NEW).sealing_prefix) for value in sealed)
    assert (await new_only.client.get("/health/ready")).status_code == 200


@pytest.mark.parametrize("previous", [OLD, None], ids=["old-as-previous", "no-previous"])
async def test_after_rotation_a_gateway_with_only_the_old_key_is_not_ready(
    open_api: ApiFactory, any_db_url: str, previous: str | None
) -> None:
    old_only = await open_api(any_db_url, master_key=OLD)
    await check_master_key(_settings(old_only))
    await rotate_master_key(Settings(database_url=any_db_url, master_key=NEW,
                                     previous_master_key=previous or OLD))

    assert (await old_only.client.get("/health/ready")).status_code == 503

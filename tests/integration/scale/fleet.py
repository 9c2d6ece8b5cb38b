"""Gateways on one PostgreSQL schema, and concurrent signed requests spread over them.

`Fleet` is one `paygate serve --workers 2` (multiprocess metrics in a directory of its own)
and one single-worker `paygate serve`, both with the background worker off, on the same
schema and the same master key, as two hosts of a deployment would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from gateway_client import ADMIN_TOKEN, SANDBOX_SECRET, Keys, encode
from pg_rows import PgRows
from pg_template import Statement, replay
from process_harness import PaygateProcess, Processes

from entrypoints.cli.signing import signed_headers

REQUEST_TIMEOUT = 30.0


def postgres_env(database_url: str, master_key: str, **settings: str) -> dict[str, str]:
    return {
        "PAYGATE_DATABASE_URL": database_url,
        "PAYGATE_MASTER_KEY": master_key,
        "PAYGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "PAYGATE_SANDBOX_SECRET": SANDBOX_SECRET,
        "PAYGATE_WORKER": "off",
        **settings,
    }


@dataclass
class Fleet:
    many: PaygateProcess
    one: PaygateProcess
    rows: PgRows
    env: dict[str, str]

    @property
    def urls(self) -> list[str]:
        return [self.many.base_url, self.one.base_url]


async def start_fleet(
    processes: Processes, tmp_path: Path, database_url: str, master_key: str,
    migration: Sequence[Statement],
) -> Fleet:
    """Brought to head once up front (the recorded migration statements, `pg_template`),
    so the two servers never race to upgrade the schema."""
    await replay(database_url, migration)
    env = postgres_env(database_url, master_key)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    many = processes.start(
        "gateway-2-workers",
        "serve",
        "--workers",
        "2",
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    )
    one = processes.start("gateway-1-worker", "serve", env=env)
    await asyncio.to_thread(many.wait_live)
    await asyncio.to_thread(one.wait_live)
    return Fleet(many, one, PgRows(database_url), env)


async def new_merchant(base_url: str, name: str) -> Keys:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        response = await client.post(
            f"{base_url}/admin/v1/merchants", content=encode({"name": name}), headers=headers
        )
    assert response.status_code == 201, response.text
    return Keys(**response.json())


async def signed_call(
    client: httpx.AsyncClient,
    base_url: str,
    keys: Keys,
    method: str,
    target: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    raw = b"" if body is None else encode(body)
    sent = signed_headers(keys.api_key, keys.api_secret, method, target, raw)
    if raw:
        sent["Content-Type"] = "application/json"
    return await client.request(
        method, f"{base_url}{target}", content=raw or None, headers={**sent, **(headers or {})}
    )


async def spread(
    urls: Sequence[str],
    keys: Keys,
    method: str,
    target: str,
    bodies: Sequence[Any],
    headers: dict[str, str] | None = None,
) -> list[httpx.Response | Exception]:
    """One request per body, all at once, round-robin over `urls`, each on a connection of
    its own so a multi-worker server hands them to different workers."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT, limits=limits) as client:
        calls = [
            signed_call(client, urls[i % len(urls)], keys, method, target, body, headers)
            for i, body in enumerate(bodies)
        ]
        return list(
            await asyncio.wait_for(
                asyncio.gather(*calls, return_exceptions=True), timeout=REQUEST_TIMEOUT * 2
            )
        )


def answered(responses: Sequence[httpx.Response | Exception]) -> list[httpx.Response]:
    """The responses, failing on any request that got none."""
    failures = [r for r in responses if isinstance(r, Exception)]
    assert failures == [], failures[:3]
    return [r for r in responses if isinstance(r, httpx.Response)]


def codes(responses: Sequence[httpx.Response]) -> dict[tuple[int, str | None], int]:
    """How many responses per (status, error code)."""
    tally: dict[tuple[int, str | None], int] = {}
    for response in responses:
        code = response.json()["error"]["code"] if response.status_code >= 400 else None
        tally[(response.status_code, code)] = tally.get((response.status_code, code), 0) + 1
    return tally

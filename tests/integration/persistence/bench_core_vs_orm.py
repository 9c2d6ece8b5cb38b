"""Core statements + explicit mappers vs an ORM session, on the same table (docs/adr/0004).

    python tests/integration/persistence/bench_core_vs_orm.py [URL] [--seconds S] [--rounds R]

Each variant inserts payments, one per transaction as the payment path does, or reads
one back by primary key, sequentially on one connection, for S seconds; the variants
take turns for R rounds and the best round of each is kept. It prints operations per
second, wall time and this process's CPU time per operation (CPU is what limits a
saturated worker; wall time also includes the database's own work). The default
URL is a fresh SQLite file in a temporary directory. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import registry

from adapters.persistence import SqlUnitOfWorkFactory, create_engine, upgrade_database_async
from adapters.persistence.payments import payment_to_row
from adapters.persistence.schema import payments
from domain.merchant import Merchant
from domain.money import Money
from domain.payment import Payment

NOW = datetime(2026, 11, 23, tzinfo=UTC)
_ids = itertools.count()


class PaymentRecord:
    """What an ORM mapping of the payments table looks like: one attribute per column."""

    def __init__(self, **columns: Any) -> None:
        self.__dict__.update(columns)


registry().map_imperatively(PaymentRecord, payments)


def new_payment() -> Payment:
    n = next(_ids)
    return Payment(
        payment_no=f"pay_{n:09d}",
        merchant_id="mer_bench",
        order_no=f"O-{n}",
        amount=Money(1_000, "USD"),
        channel="sandbox",
        created_at=NOW,
        updated_at=NOW,
        metadata={"cart": str(n)},
    )


async def rate(seconds: float, operation: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Operations per second, and CPU microseconds this process spent on each."""
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        await operation()
        done += 1
    return done / elapsed, (time.process_time() - cpu) / done * 1e6


async def run(url: str, seconds: float, rounds: int) -> None:
    await upgrade_database_async(url)
    engine = create_engine(url)
    uow = SqlUnitOfWorkFactory(engine)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with uow() as unit:
        await unit.merchants.add(
            Merchant(
                merchant_id="mer_bench",
                name="bench",
                api_key="k",
                api_secret_sealed="s",
                webhook_secret_sealed="w",
                created_at=NOW,
            )
        )
        await unit.commit()
    core_ids: list[str] = []
    orm_ids: list[str] = []

    async def core_insert() -> None:
        async with uow() as unit:
            payment = new_payment()
            await unit.payments.add(payment)
            await unit.commit()
        core_ids.append(payment.payment_no)

    async def orm_insert() -> None:
        async with sessions() as session:
            record = PaymentRecord(**payment_to_row(new_payment()))
            session.add(record)
            await session.commit()
        orm_ids.append(record.payment_no)  # type: ignore[attr-defined]

    async def core_get() -> None:
        async with uow(read_only=True) as unit:
            await unit.payments.get(core_ids[len(core_ids) // 2])

    async def orm_get() -> None:
        async with sessions() as session:
            await session.get(PaymentRecord, orm_ids[len(orm_ids) // 2])

    variants = {
        "core insert": core_insert,
        "orm insert": orm_insert,
        "core get by key": core_get,
        "orm get by key": orm_get,
    }
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):  # interleaved, best of each: other processes only slow us down
        for name, operation in variants.items():
            per_second, cpu = await rate(seconds, operation)
            old = best.get(name, (0.0, float("inf")))
            best[name] = (max(old[0], per_second), min(old[1], cpu))
    await engine.dispose()
    for name, (per_second, cpu) in best.items():
        print(
            f"{name:16s} {per_second:8,.0f}/s {1e6 / per_second:7,.0f} µs each {cpu:6,.0f} µs CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?")
    parser.add_argument("--seconds", type=float, default=1.0, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(
            run(args.url or f"sqlite+aiosqlite:///{tmp}/bench.db", args.seconds, args.rounds)
        )


if __name__ == "__main__":
    main()

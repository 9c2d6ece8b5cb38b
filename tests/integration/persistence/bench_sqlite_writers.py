"""Concurrent SQLite writers in one process, with and without the `WriteGate` (ADR 0005).

    python tests/integration/persistence/bench_sqlite_writers.py [--commits N]

For 1, 10 and 50 concurrent tasks, each committing one payment per write unit (BEGIN
IMMEDIATE, INSERT, COMMIT), it prints commits per second, latency percentiles and how
many units failed. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
import time
from datetime import UTC, datetime

from adapters.persistence import SqlUnitOfWork, SqlUnitOfWorkFactory, create_engine
from adapters.persistence.migrate import upgrade_database_async
from domain.merchant import Merchant
from domain.money import Money
from domain.payment import Payment

NOW = datetime(2026, 11, 23, tzinfo=UTC)
_ids = itertools.count()


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
    )


async def measure(url: str, tasks: int, commits: int, gated: bool) -> str:
    engine = create_engine(url, pool_size=tasks, max_overflow=0)
    factory = SqlUnitOfWorkFactory(engine)
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for _ in range(commits // tasks):
            start = time.perf_counter()
            try:
                async with factory() if gated else SqlUnitOfWork(engine) as uow:
                    await uow.payments.add(new_payment())
                    await uow.commit()
            except Exception:  # counted: a failed unit is the outcome being measured
                failures += 1
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    elapsed = time.perf_counter() - start
    await engine.dispose()
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    return (
        f"{'gated' if gated else 'ungated':8s} {tasks:3d} tasks {len(latencies) / elapsed:7,.0f}"
        f" commits/s  p50 {p50 * 1e3:7.1f} ms  p99 {p99 * 1e3:7.1f} ms  failed {failures}"
    )


async def run(commits: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await upgrade_database_async(url)
        async with SqlUnitOfWorkFactory(engine := create_engine(url))() as uow:
            await uow.merchants.add(
                Merchant(
                    merchant_id="mer_bench",
                    name="bench",
                    api_key="k",
                    api_secret_sealed="s",
                    webhook_secret_sealed="w",
                    created_at=NOW,
                )
            )
            await uow.commit()
        await engine.dispose()
        for tasks in (1, 10, 50):
            for gated in (False, True):
                print(await measure(url, tasks, commits, gated))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=1_000)
    asyncio.run(run(parser.parse_args().commits))


if __name__ == "__main__":
    main()

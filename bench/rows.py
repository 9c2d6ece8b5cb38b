"""Rows written per payment, by table, as PostgreSQL itself counts them.

Runs `bench/inprocess.py --db postgres` (the real ASGI app, payments straight into it,
no worker, so only the payment path writes) on a fresh database, then reads
PostgreSQL's own per-table counters (`pg_stat_user_tables`: tuples inserted, updated,
deleted) once every connection of the run has closed and flushed them. Divided by the
payments made (warm-up included), that is what one payment writes, table by table.
With `--before DIR` (repeatable) it counts exported older trees the same way first, so a
change to the payment path's writes shows in one run:

    git archive HEAD~1 | tar -x -C /tmp/before
    .venv/bin/python bench/rows.py --before /tmp/before -n 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # bench/run.py: the benchmark database

BENCH = bench.BENCH

COUNTERS = """
SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables
WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY relname
"""


async def _counters() -> dict[str, tuple[int, int, int]]:
    conn = await asyncpg.connect(bench.PG_URL.replace("+asyncpg", ""))
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return {r[0]: (r[1], r[2], r[3]) for r in await conn.fetch(COUNTERS)}
    finally:
        await conn.close()


def rows_per_payment(code: Path, payments: int, warmup: int) -> dict[str, list[float]]:
    """[inserted, updated, deleted] per payment, by table, for one run of `code`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    subprocess.run([sys.executable, str(code / "bench" / "inprocess.py"), "--db", "postgres",
                    "--obs", "none", "-n", str(payments), "--warmup", str(warmup), "-c", "8"],
                   env=env, check=True)
    time.sleep(1.5)  # the run's backends have exited; their counters are flushed
    made = payments + warmup
    return {table: [n / made for n in counts]
            for table, counts in asyncio.run(_counters()).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--before", type=Path, action="append", default=[],
                        help="an older tree, counted first (repeatable)")
    parser.add_argument("--out", type=Path, help="JSON results, under bench/results/")
    args = parser.parse_args()
    codes = {f"before {i + 1}": tree.resolve() for i, tree in enumerate(args.before)}
    codes["this tree"] = BENCH.parent
    results = {name: rows_per_payment(code, args.count, args.warmup)
               for name, code in codes.items()}
    for name, tables in results.items():
        total = sum(sum(counts) for counts in tables.values())
        print(f"{name} ({codes[name]}): {total:.2f} rows written per payment")
        for table, (ins, upd, dele) in tables.items():
            print(f"  {table:<20} inserted {ins:5.2f}  updated {upd:5.2f}  deleted {dele:5.2f}")
    if args.out:
        path = bench.RESULTS / args.out
        path.write_text(json.dumps({"payments": args.count + args.warmup,
                                    "codes": {k: str(v) for k, v in codes.items()},
                                    "rows_per_payment": results}, indent=2) + "\n")
        print(f"written to {path}")


if __name__ == "__main__":
    main()

"""Instructions per payment, per observability setting, counted by valgrind's callgrind.

Two shared cores move every timing here by ±8-10 % from run to run, so a 2 % overhead
cannot be seen in seconds. An instruction count can: `valgrind --tool=callgrind` counts
the instructions a process executes (every thread, the span exporter's included),
whatever else the machine is doing. This runs `bench/inprocess.py` (the real ASGI app,
PostgreSQL or SQLite, payments straight into the app) under callgrind twice per setting, with a
small and a large number of payments; the difference divided by the difference in
payments is the cost of one payment, with start-up and warm-up cancelled out.

Whatever differs between two runs of the same code (how 8 concurrent payments
interleave, when the collector runs, the exporter thread) lands on the difference of the
two counts. With runs 300 payments apart, counts of the same code differed by up to
1.5 % per payment, some 40 k instructions: as much as Prometheus's whole cost. The runs
are now 2,000 payments apart, which spreads that over seven times as many payments, and
costs little: start-up (~40 s under callgrind) dominates a run's wall time. The hash
seed is fixed, so that dict and set layouts do not move the count either.

    .venv/bin/python bench/instructions.py            # all four settings; needs valgrind
    .venv/bin/python bench/instructions.py --repeats 2
    .venv/bin/python bench/instructions.py --settings none prom     # ~6 minutes a repeat
    .venv/bin/python bench/instructions.py --db sqlite --settings none --out sqlite.json
    .venv/bin/python bench/instructions.py --db sqlite --settings none \
        --set PAYGATE_LOG_LEVEL=INFO --set PAYGATE_ACCESS_LOG=on     # the canonical lines
    git archive HEAD~1 | tar -x -C /tmp/before      # before and after a change, one run:
    .venv/bin/python bench/instructions.py --db sqlite --before /tmp/before \
        --settings prom prom+trace10 prom+trace0

It counts work, not time: a cache miss or a system call costs one instruction like any
other, and the PostgreSQL server is not counted. Sampling at 10 % is random, so that
setting moves by about 1 % between runs (runs 250 payments apart: ~25 sampled payments
± 5, ±1 % of a payment), unless `--random-seed N` makes every run draw the same trace
ids; the others repeat within ~1.5 %.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

BENCH = Path(__file__).resolve().parent
SETTINGS = ["none", "prom", "prom+trace10", "prom+trace100", "prom+trace0"]
DEFAULT_SETTINGS = SETTINGS[:4]  # prom+trace0 (nothing sampled) only when asked for


class Run(NamedTuple):
    instructions: int
    sampled: int | None  # payments the ratio sampled; None: not traced, or not counted


RATIOS = {"prom+trace10": 0.1, "prom+trace100": 1.0, "prom+trace0": 0.0}


def sampled(trace_ids: list[str], ratio: float) -> int:
    """How many of these requests a root sampler at `ratio` sampled: the SDK's
    `TraceIdRatioBased` decides from the trace id alone, as the gateway's edge does. With
    `--random-seed` the same requests are drawn in every run, but their number in a
    window of a few hundred is binomial (±3 in 25), and what tracing at 10 % costs is
    counted per sampled payment: this says how many there were. Counted here, outside
    the process whose instructions are counted."""
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

    sampler = TraceIdRatioBased(ratio)
    return sum(sampler.should_sample(None, int(trace_id, 16), "payment").decision.is_sampled()
               for trace_id in trace_ids)


def instructions(db: str, obs: str, payments: int, settings: list[str],
                 code: Path | None = None, random_seed: int | None = None,
                 concurrency: int = 8) -> Run:
    """Instructions of one run of `code` (a checkout: its bench/inprocess.py, its packages
    first on the path; this one by default). With `random_seed`, the process's `random`
    is seeded before anything runs (a `sitecustomize` first on the path), so that the
    trace ids, and with them which requests a ratio sampler samples, repeat from run to
    run and from one code to the other."""
    code = code or BENCH.parent
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(code)}
    script = code / "bench" / "inprocess.py"
    counts_sampled = obs in RATIOS and "--trace-ids" in script.read_text()  # an older one not
    with tempfile.TemporaryDirectory() as out:
        if random_seed is not None:
            Path(out, "sitecustomize.py").write_text(
                f"import random\nrandom.seed({random_seed})\n")
            env["PYTHONPATH"] = f"{out}{os.pathsep}{code}"
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.out",
             sys.executable, str(script), "--db", db, "--obs", obs,
             "-n", str(payments), "--warmup", "20", "-c", str(concurrency),
             *(["--trace-ids", f"{out}/trace-ids"] if counts_sampled else []),
             *(f"--set={setting}" for setting in settings)],
            capture_output=True, text=True, check=True, env=env)
        counted = (sampled(Path(out, "trace-ids").read_text().split(), RATIOS[obs])
                   if counts_sampled else None)
    match = re.search(r"Collected : (\d+)", run.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{run.stderr[-2000:]}")
    statuses = re.search(r"payments, (\[.*?\]) statuses", run.stdout)
    if statuses is None or statuses.group(1) != f"[(201, {payments})]":
        # a count of refusals is no count of payments (two runs of one tree at once share
        # its database directory: the second one's fresh database loses the first's merchant)
        raise RuntimeError(f"not every payment was created: {run.stdout[-2000:]}")
    return Run(int(match.group(1)), counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=400, help="payments in the short run")
    parser.add_argument("--large", type=int, default=2400, help="payments in the long run")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=DEFAULT_SETTINGS,
                        help="observability settings to count")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--out", default="instructions.json", help="file name in bench/results")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="also count a checkout of the code before a change, each "
                             "setting's two codes one after the other")
    parser.add_argument("--random-seed", type=int, metavar="N",
                        help="seed each run's `random`: the same requests sampled at 10 %% "
                             "in every run, instead of a binomial draw per run")
    parser.add_argument("-c", "--concurrency", type=int, default=8,
                        help="payments in flight at once (8: as the other figures here; 1: "
                             "no two payments wait on each other, which moves a count less)")
    parser.add_argument("--set", action="append", default=[], metavar="PAYGATE_X=VALUE",
                        help="a setting for the gateway (PAYGATE_LOG_LEVEL=INFO to count "
                             "the canonical log lines, which the benchmark's WARNING drops)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install -y valgrind")
    settings = [obs for obs in SETTINGS if obs in args.settings]
    codes: list[tuple[str, Path | None]] = [("", None)]
    if args.before is not None:
        codes = [("before ", args.before.resolve()), ("", None)]
    per_payment: dict[str, list[float]] = {
        f"{label}{obs}": [] for obs in settings for label, _ in codes}
    sampled_share: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for obs in settings:
            for label, code in codes:
                large = instructions(args.db, obs, args.large, args.set, code,
                                     args.random_seed, args.concurrency)
                small = instructions(args.db, obs, args.small, args.set, code,
                                     args.random_seed, args.concurrency)
                name = f"{label}{obs}"
                payments = args.large - args.small
                per_payment[name].append((large.instructions - small.instructions) / payments)
                share = ""
                if large.sampled is not None and small.sampled is not None:
                    window = large.sampled - small.sampled
                    sampled_share.setdefault(name, []).append(window / payments)
                    share = f" ({window} of the {payments} sampled)"
                print(f"{name:22s} {per_payment[name][-1] / 1e6:.3f} M instructions per payment"
                      f"{share}", flush=True)
    base_name = next((name for name in ("none", "prom") if name in per_payment), None)
    base = min(per_payment[base_name]) if base_name else float("nan")
    print(f"\nsetting                 M instructions per payment   over {base_name}")
    for obs, values in per_payment.items():
        best = min(values)
        print(f"{obs:22s}  {' / '.join(f'{v / 1e6:.3f}' for v in values):26s}"
              f"  {(best - base) / base * 100:+.1f} %")
    out = BENCH / "results" / args.out
    out.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": args.db,
        "payments": [args.small, args.large],
        "settings": args.set,
        "random_seed": args.random_seed,
        "concurrency": args.concurrency,
        "before": str(args.before) if args.before is not None else None,
        "instructions_per_payment": per_payment,
        "sampled_share": sampled_share,
    }, indent=1) + "\n")
    shown = out.relative_to(BENCH.parent) if out.is_relative_to(BENCH.parent) else out
    print(f"\nwritten to {shown}")  # --out may be anywhere


if __name__ == "__main__":
    main()

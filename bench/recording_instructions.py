"""Instructions of one payment's metric recording, counted by valgrind's callgrind.

A payment records two HTTP requests' worth of `observe_http` (its POST and a GET of it)
and one `record_payment`. This runs that loop under callgrind twice, `--small` and
`--large` times, and divides the difference by the difference: start-up cancels out. With
`--sampled`, the request is sampled (both trace ids present: exemplars kept).

    .venv/bin/python bench/recording_instructions.py
    .venv/bin/python bench/recording_instructions.py --sampled
    PYTHONPATH=/tmp/base .venv/bin/python bench/recording_instructions.py   # another tree

Seconds under callgrind, not the ~40 minutes a setting of `bench/instructions.py` took on
the shared machine; it counts the recording alone, not a payment.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

LOOP = """
import sys
from observability.metrics import Metrics
metrics = Metrics()
trace = ()  # no trace id argument at all: a tree from before exemplars takes none
if sys.argv[2] == "sampled":
    from observability.trace_ids import enter_sampled_request
    trace = ("4bf92f3577b34da6a3ce929d0e0e4736",)
    enter_sampled_request(trace[0])
for _ in range(int(sys.argv[1])):
    metrics.observe_http("POST", "/api/v1/payments", 201, 0.012, 300, 400, *trace)
    metrics.record_payment("success", "sandbox", "USD", 0.01, 25.0)
    metrics.observe_http("GET", "/api/v1/payments/{payment_no}", 200, 0.004, 0, 500, *trace)
metrics.render()
"""


def count(loops: int, sampled: bool) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-c", LOOP, str(loops), "sampled" if sampled else "unsampled"],
        capture_output=True, text=True, check=True, env=env)
    match = re.search(r"Collected : (\d+)", run.stderr)
    if match is None:
        raise RuntimeError(f"no instruction count in callgrind's output:\n{run.stderr[-2000:]}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=12_000)
    parser.add_argument("--sampled", action="store_true")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install -y valgrind")
    small, large = count(args.small, args.sampled), count(args.large, args.sampled)
    per = (large - small) / (args.large - args.small)
    print(f"{per:,.0f} instructions per payment's recording "
          f"({'sampled' if args.sampled else 'not sampled'})")


if __name__ == "__main__":
    main()

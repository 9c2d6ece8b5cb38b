"""Turn bench/results/*.json into the Markdown tables of docs/benchmarks.md and a PNG chart.

    /work/venv/bin/python bench/report.py            # prints Markdown, writes the chart
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
OBS = ["none", "prom", "prom+trace100", "prom+trace10"]
LABEL = {"none": "no observability", "prom": "+Prometheus",
         "prom+trace100": "+Prometheus +tracing 100 %", "prom+trace10": "+Prometheus +tracing 10 %"}
GROUPS = [("sqlite", 1), ("sqlite", 2), ("postgres", 1), ("postgres", 2)]


def load() -> dict[str, dict[str, Any]]:
    results = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}
    for result in results.values():
        for run in result.get("runs", {}).values():
            if run.get("throughput"):
                run["cpu_ms_per_request"] = run["cpu_percent"] * 10 / run["throughput"]
    return results


def delta(value: float, base: float) -> str:
    return f" ({(value - base) / base * 100:+.0f} %)" if base else ""


def table(results: dict[str, dict[str, Any]], db: str, workers: int, mix: str) -> str:
    runs = {o: results.get(f"{db}-w{workers}-{o}", {}).get("runs", {}).get(mix) for o in OBS}
    if not any(runs.values()):
        return ""
    base = runs["none"] or {}
    conns = next(r for r in runs.values() if r)["connections"]
    head = f"| {mix}: {db}, {workers} worker{'s' if workers > 1 else ''}, {conns} conn. | " + \
        " | ".join(LABEL[o] for o in OBS) + " |\n|---|" + "---|" * len(OBS) + "\n"

    def row(name: str, key: str, unit: str, fmt: str = "{:.0f}") -> str:
        cells = []
        for o in OBS:
            r = runs[o]
            if not r or key not in r:
                cells.append("-")
                continue
            text = fmt.format(r[key]) + unit
            if o != "none" and base.get(key) and key != "other_cpu_percent":
                text += delta(r[key], base[key])
            cells.append(text)
        return f"| {name} | " + " | ".join(cells) + " |\n"

    body = row("throughput", "throughput", " req/s") + row("P50", "p50_ms", " ms", "{:.1f}") + \
        row("P99", "p99_ms", " ms", "{:.1f}") + \
        row("memory (peak RSS, tree)", "peak_rss_mb", " MB") + \
        row("CPU (server tree, % of one core)", "cpu_percent", " %") + \
        row("server CPU per request", "cpu_ms_per_request", " ms", "{:.2f}") + \
        row("non-2xx", "non_2xx", "", "{:d}") + \
        row("others' CPU (wrk, other programs)", "other_cpu_percent", " %")
    if mix == "pay":
        checks = ["✓" if (r or {}).get("check", {}).get("ok") else ("✗" if r else "-")
                  for r in (runs[o] for o in OBS)]
        body += "| one payment per 2xx | " + " | ".join(checks) + " |\n"
    return head + body


def chart(results: dict[str, dict[str, Any]]) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    width = 0.2
    for i, obs in enumerate(OBS):
        tput, p99 = [], []
        for db, w in GROUPS:
            run = results.get(f"{db}-w{w}-{obs}", {}).get("runs", {}).get("pay") or {}
            tput.append(run.get("throughput", 0))
            p99.append(run.get("p99_ms", 0))
        xs = [g + (i - 1.5) * width for g in range(len(GROUPS))]
        axes[0].bar(xs, tput, width, label=LABEL[obs])
        axes[1].bar(xs, p99, width, label=LABEL[obs])
    names = [f"{db}\n{w} worker{'s' if w > 1 else ''}" for db, w in GROUPS]
    raw = results.get("raw-asyncpg", {}).get("runs", {}).get("pay")
    if raw:
        axes[0].axhline(raw["throughput"], color="grey", ls="--", lw=1,
                        label=f"raw asyncpg reference ({raw['throughput']:.0f}/s)")
    axes[0].axhline(1500, color="red", ls=":", lw=1, label="target PostgreSQL 2 workers")
    axes[0].axhline(1000, color="orange", ls=":", lw=1, label="target SQLite 1 worker")
    axes[1].axhline(50, color="red", ls=":", lw=1, label="target P99 50 ms")
    for ax, title in ((axes[0], "payments/s (POST /api/v1/payments)"), (axes[1], "P99 ms")):
        ax.set_xticks(range(len(GROUPS)), names)
        ax.set_title(title)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    out = RESULTS / "payments.png"
    fig.savefig(out, dpi=110)
    return out


def main() -> None:
    results = load()
    for mix in ("pay", "read", "refund"):
        for db, w in GROUPS:
            text = table(results, db, w, mix)
            if text:
                print(text)
    raw = results.get("raw-asyncpg", {}).get("runs", {}).get("pay")
    if raw:
        ref = results["raw-asyncpg"]
        print(f"raw asyncpg reference ({ref['workers']} processes, "
              f"{ref['connections']} conn.): {raw['throughput']:.0f} payments/s, "
              f"P50 {raw['p50_ms']} ms, P99 {raw['p99_ms']} ms, non-2xx {raw['non_2xx']}, "
              f"CPU {raw['cpu_percent']} %, RSS {raw['peak_rss_mb']} MB")
        for obs in OBS:
            gw = results.get(f"postgres-w2-{obs}", {}).get("runs", {}).get("pay")
            if gw:
                print(f"  postgres-w2-{obs}: {gw['throughput'] / raw['throughput']:.2f}x")
    out = chart(results)
    if out:
        print(f"\nchart: {out.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()

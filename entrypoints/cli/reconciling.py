"""`paygate reconcile`: resolve what was left in flight, and say what is still waiting."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from application.use_cases.reconcile import GRACE
from entrypoints.cli.common import emit, json_option, run, table_of

if TYPE_CHECKING:
    from entrypoints.composition import Services

GRACE_SECONDS = int(GRACE.total_seconds())


@click.command()
@click.option("--older-than", "older_than", type=click.IntRange(min=0), default=None,
              metavar="SECONDS", help="Ask about processing payments changed at least this "
              f"long ago (default: the grace, {GRACE_SECONDS}). Pending payments and refunds "
              "always wait the grace: their request may still be charging them.")
@json_option
def reconcile(older_than: int | None, as_json: bool) -> None:
    """Ask the channels how payments and refunds left in flight really ended, and say what
    was left waiting, and why."""
    wait = None if older_than is None else timedelta(seconds=older_than)

    async def work(s: Services) -> dict[str, Any]:
        use_case = s.reconcile
        done = dict(await use_case(wait))
        return summary(older_than, done, await use_case.waiting(wait))

    emit(run(work), as_json, summary_table)


def summary(
    older_than: int | None, done: dict[str, int], waiting: dict[str, int]
) -> dict[str, Any]:
    """What a run did and what it left waiting, each count with its reason."""
    seconds = GRACE_SECONDS if older_than is None else older_than
    why = {
        "processing_changed_recently": (
            "processing payments", f"changed less than {seconds} s ago; asked once older "
            "(--older-than SECONDS to ask sooner)"),
        "pending_within_grace": (
            "pending payments and refunds", f"less than {GRACE_SECONDS} s old: the request "
            "that made them may still be charging or refunding them; asked once older"),
        "still_unresolved": (
            "payments and refunds", "asked, but the channel has no final answer yet, could "
            "not be asked (see errors), or more were due than one run takes; the next run "
            "asks again"),
    }
    return {
        "older_than_seconds": seconds,
        "reconciled": done,
        "left_waiting": [{"count": n, "what": why[k][0], "why": why[k][1]}
                         for k, n in waiting.items() if n],
    }


def summary_table(result: dict[str, Any]) -> Table:
    rows = [(n, status, "reconciled") for status, n in result["reconciled"].items()]
    rows += [(w["count"], w["what"], f"left waiting: {w['why']}") for w in result["left_waiting"]]
    title = f"reconcile (older than {result['older_than_seconds']} s)"
    return table_of(title, ("count", "what", "outcome"), rows or [(0, "nothing", "to do")])

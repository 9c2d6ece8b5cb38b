"""The sandbox's test cards (api-contract.md) and tokens that carry their scenario.

A token is `tok_sandbox_<scenario>_<random>`: the scenario is all a later charge needs,
so a token made by one process charges correctly in any other, with no shared memory,
and it holds nothing of the card number. An authorization's reference carries its
scenario the same way, for its capture (`adapters.channel.sandbox_holds`).
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from application.ports.channel import ChargeResult, Outcome

TOKEN_PREFIX = "tok_sandbox_"  # noqa: S105 - a public prefix, not a secret


class Scenario(StrEnum):
    SUCCEED = "ok"
    DECLINE = "declined"
    NO_FUNDS = "nofunds"
    PROCESSING_ERROR = "error"
    UNKNOWN = "unknown"  # the first answer is lost; the charge itself succeeds
    CAPTURE_DECLINED = "capdeclined"  # authorizes; its capture is declined
    CAPTURE_UNKNOWN = "capunknown"  # authorizes; its capture's answer is lost (it succeeds)


CARDS: dict[str, Scenario] = {
    "4000000000000002": Scenario.DECLINE,
    "4000000000009995": Scenario.NO_FUNDS,
    "4000000000000119": Scenario.PROCESSING_ERROR,
    "4000000000000259": Scenario.UNKNOWN,
    "4000000000000341": Scenario.CAPTURE_DECLINED,
    "4000000000001000": Scenario.CAPTURE_UNKNOWN,
}

_FAILURES: dict[Scenario, tuple[str, str]] = {
    Scenario.DECLINE: ("card_declined", "the card was declined"),
    Scenario.NO_FUNDS: ("insufficient_funds", "the card has insufficient funds"),
    Scenario.PROCESSING_ERROR: (
        "processing_error",
        "the acquirer could not process the card; try again",
    ),
}


def scenario_of(number: str) -> Scenario:
    """Any valid card that is not in the table succeeds."""
    return CARDS.get(number, Scenario.SUCCEED)


def new_token(scenario: Scenario) -> str:
    return f"{TOKEN_PREFIX}{scenario.value}_{secrets.token_hex(12)}"


def scenario_of_token(token: str) -> Scenario | None:
    """None for anything this sandbox did not issue."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    value, _, nonce = token[len(TOKEN_PREFIX) :].partition("_")
    try:
        return Scenario(value) if nonce else None
    except ValueError:
        return None


def settled_result(scenario: Scenario, reference: str) -> ChargeResult:
    """How the charge really ended: what a replay or a later query reports."""
    failure = _FAILURES.get(scenario)
    if failure is None:
        return ChargeResult(Outcome.SUCCEEDED, reference)
    return ChargeResult(Outcome.FAILED, reference, *failure)

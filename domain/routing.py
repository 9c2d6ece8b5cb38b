"""Which channels take a payment, in what order, and when the next one may be tried.

Routing (docs/adr/0025). A merchant's rules are an ordered list; the first rule that
matches a payment names its channels, the first of them tried first. A rule matches on
any of:

- `currency`: the payment's currency, exactly (`None`: any);
- `min_amount` <= amount (inclusive) and amount < `max_amount` (exclusive), in the
  currency's minor units; either bound `None`: unbounded on that side. Two rules
  `[0, 5000)` and `[5000, None)` cover every amount once;
- `card_brand`: the card's brand (`visa`, `mastercard`, ...; `None`: any).

No rule matching, or no rules at all: the deployment's default route.

Failover (docs/adr/0026). The next channel is tried only when the previous one certainly
charged nothing: `may_fail_over` is the whole rule, and a failure it does not know never
fails over.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.card import BRANDS
from domain.errors import InvalidChannel, InvalidRouting
from domain.money import Money, is_currency

MAX_RULES = 100
MAX_CHANNELS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingRule:
    channels: tuple[str, ...]
    currency: str | None = None
    min_amount: int | None = None  # inclusive
    max_amount: int | None = None  # exclusive
    card_brand: str | None = None

    def matches(self, amount: Money, card_brand: str | None) -> bool:
        if self.currency is not None and amount.currency != self.currency:
            return False
        if self.min_amount is not None and amount.amount < self.min_amount:
            return False
        if self.max_amount is not None and amount.amount >= self.max_amount:
            return False
        return self.card_brand is None or card_brand == self.card_brand


def route(
    rules: Sequence[RoutingRule], default: Sequence[str], amount: Money, card_brand: str | None
) -> tuple[str, ...]:
    """The channels to try, in order: the first matching rule's, else `default`."""
    for rule in rules:
        if rule.matches(amount, card_brand):
            return rule.channels
    return tuple(default)


def _amount(name: str, value: object, index: int) -> int | None:
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise InvalidRouting(
            f"rule {index}: {name} must be a whole number of minor units, 0 or more",
            rule=index, field=name)
    return value


def check_channels(channels: object, known: Collection[str], where: str) -> tuple[str, ...]:
    """A route: 1 to `MAX_CHANNELS` distinct channels, each one this deployment has."""
    if not isinstance(channels, (list, tuple)) or not channels:
        raise InvalidRouting(f"{where}: channels must list at least one channel")
    if len(channels) > MAX_CHANNELS:
        raise InvalidRouting(f"{where}: at most {MAX_CHANNELS} channels")
    names: list[str] = []
    for name in channels:
        if not isinstance(name, str):
            raise InvalidRouting(f"{where}: a channel is named by a string")
        if name not in known:
            raise InvalidChannel(
                f"{where}: unknown channel {name!r}; use one of {sorted(known)}", channel=name)
        if name in names:
            raise InvalidRouting(f"{where}: channel {name!r} is listed twice")
        names.append(name)
    return tuple(names)


def check_rule(raw: RoutingRule, known: Collection[str], index: int) -> RoutingRule:
    """The rule, checked: raises `InvalidRouting` (422 validation_error) or `InvalidChannel`."""
    where = f"rule {index}"
    if raw.currency is not None and not is_currency(raw.currency):
        raise InvalidRouting(f"{where}: unknown currency {raw.currency!r}", rule=index)
    low = _amount("min_amount", raw.min_amount, index)
    high = _amount("max_amount", raw.max_amount, index)
    if low is not None and high is not None and low >= high:
        raise InvalidRouting(
            f"{where}: min_amount ({low}) must be below max_amount ({high}); "
            "min_amount is inclusive, max_amount exclusive", rule=index)
    if raw.card_brand is not None and raw.card_brand not in BRANDS:
        raise InvalidRouting(
            f"{where}: unknown card_brand {raw.card_brand!r}; use one of {sorted(BRANDS)}",
            rule=index)
    channels = check_channels(raw.channels, known, where)
    return RoutingRule(channels=channels, currency=raw.currency, min_amount=low,
                       max_amount=high, card_brand=raw.card_brand)


def check_rules(rules: Iterable[RoutingRule], known: Collection[str]) -> tuple[RoutingRule, ...]:
    """Every rule checked, or nothing: the first bad one raises."""
    listed = list(rules)
    if len(listed) > MAX_RULES:
        raise InvalidRouting(f"at most {MAX_RULES} rules, got {len(listed)}")
    return tuple(check_rule(rule, known, index) for index, rule in enumerate(listed))


# -- failover ---------------------------------------------------------------------------
class FailureClass(StrEnum):
    """Why an attempt did not take the payment, as far as money is concerned."""

    NOT_SENT = "not_sent"  # breaker open, connection refused, credentials refused, throttled
    NOTHING_DONE = "channel_error"  # the channel answered that it did nothing
    DECLINED = "declined"  # the card's (issuer's) answer, or a refusal we cannot place
    UNKNOWN = "unknown"  # sent and unanswered (timeout, 5xx): it may have charged


NOT_SENT_CODES = frozenset({"channel_unavailable"})
"""The channel never received the call (`application.ports.channel.NOT_SENT`)."""
NOTHING_DONE_CODES = frozenset({"processing_error", "channel_error", "invalid_request"})
"""Answers that say the channel did nothing: the sandbox's and Stripe's `processing_error`,
Stripe's errors that are not the card's (`channel_error`), a remote channel's refusal of
the request (`invalid_request`, a 4xx)."""


def classify(outcome: str, failure_code: str | None) -> FailureClass | None:
    """An attempt's result (`succeeded`, `failed`, `unknown`) as a failure class; None when
    it succeeded. A failed attempt with a code not listed above is the card's answer."""
    if outcome == "succeeded":
        return None
    if outcome != "failed":
        return FailureClass.UNKNOWN
    if failure_code in NOT_SENT_CODES:
        return FailureClass.NOT_SENT
    if failure_code in NOTHING_DONE_CODES:
        return FailureClass.NOTHING_DONE
    return FailureClass.DECLINED


FAILS_OVER = frozenset({FailureClass.NOT_SENT, FailureClass.NOTHING_DONE})


def may_fail_over(failure: FailureClass | None) -> bool:
    """Only when the channel certainly charged nothing and the card did not answer."""
    return failure in FAILS_OVER


# -- attempts -------------------------------------------------------------------------
class AttemptOutcome(StrEnum):
    PENDING = "pending"  # written before the call; no answer recorded yet
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # sent, answer unknown: the reconciler asks this attempt's channel


def attempt_key(payment_no: str, seq: int) -> str:
    """The idempotency key a channel sees for attempt `seq` (from 1): the first attempt's
    is the payment number, as a payment that names its channel has always used."""
    if seq < 1:
        raise ValueError("attempts are numbered from 1")
    return payment_no if seq == 1 else f"{payment_no}.{seq}"


def payment_of_key(key: str) -> str:
    """The payment number an attempt key belongs to."""
    head, dot, tail = key.rpartition(".")
    return head if dot and tail.isdigit() else key


@dataclass(slots=True, kw_only=True)
class Attempt:
    """One try of a payment on one channel, recorded before the call is made."""

    payment_no: str
    seq: int
    channel: str
    started_at: datetime
    outcome: AttemptOutcome = AttemptOutcome.PENDING
    failure_code: str | None = None

    @property
    def key(self) -> str:
        return attempt_key(self.payment_no, self.seq)

    def end(self, outcome: AttemptOutcome, failure_code: str | None) -> None:
        self.outcome = outcome
        self.failure_code = failure_code if outcome is AttemptOutcome.FAILED else None

"""The static risk rules: each looks at the facts and may add points with a reason.

Pure functions of the facts and the settings, so each rule is tested on its own. The
velocity rules need a counter and live in the engine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from adapters.risk.fingerprint import CardFingerprinter
from adapters.risk.settings import RiskSettings
from adapters.risk.wire import RiskFacts

# The contract's public sandbox test cards (api-contract.md), recognised by fingerprint.
TEST_REVIEW_CARD = "4000000000004954"
TEST_REJECT_CARD = "4100000000000019"


@dataclass(frozen=True, slots=True)
class Hit:
    reason: str
    points: int


@dataclass(frozen=True, slots=True)
class Lists:
    """The settings' lists, prepared once: fingerprints as sets, IPs as networks."""

    blocked_cards: frozenset[str]
    review_cards: frozenset[str]
    blocked_domains: frozenset[str]
    blocked_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def build(cls, settings: RiskSettings, fingerprints: CardFingerprinter) -> Lists:
        blocked, review = set(settings.blocked_cards), set(settings.review_cards)
        if settings.sandbox_test_cards:
            blocked.add(fingerprints.of(TEST_REJECT_CARD))
            review.add(fingerprints.of(TEST_REVIEW_CARD))
        return cls(
            frozenset(blocked),
            frozenset(review),
            frozenset(domain.lower() for domain in settings.blocked_email_domains),
            tuple(ipaddress.ip_network(ip, strict=False) for ip in settings.blocked_ips),
        )


def list_hits(facts: RiskFacts, lists: Lists, settings: RiskSettings) -> list[Hit]:
    hits = []
    if facts.card_fingerprint in lists.blocked_cards:
        hits.append(Hit("card_blocked", settings.blocked_points))
    elif facts.card_fingerprint in lists.review_cards:
        hits.append(Hit("card_on_review_list", settings.review_list_points))
    if facts.email_domain in lists.blocked_domains:
        hits.append(Hit("email_domain_blocked", settings.blocked_points))
    if _ip_blocked(facts.ip, lists.blocked_networks):
        hits.append(Hit("ip_blocked", settings.blocked_points))
    return hits


def _ip_blocked(
    ip: str | None, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    if not ip or not networks:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in networks)


def amount_hits(facts: RiskFacts, settings: RiskSettings) -> list[Hit]:
    limit = settings.amount_limits.get(facts.currency)
    if limit is not None and facts.amount > limit:
        return [Hit("amount_over_limit", settings.amount_limit_points)]
    return []


def anonymity_hits(facts: RiskFacts, settings: RiskSettings) -> list[Hit]:
    """Nobody to call back and nowhere to look: a little more risk, never a verdict alone."""
    if facts.customer_id or facts.email_domain or facts.ip:
        return []
    return [Hit("no_customer_data", settings.anonymous_points)]

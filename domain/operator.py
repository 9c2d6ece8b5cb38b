"""Operators: named people with a role, and what each role may do.

Roles are ordered: a viewer reads; an operator also acts on payments (reviews, refunds,
captures and cancels) and retries webhooks; an admin may do everything, including what
changes who may do what (merchants, operators, routing, settlement, the master key).
Which role each action needs is one table, `REQUIRED_ROLE`; the admin API's own table
(entrypoints/http/roles.py) says which role each route needs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import Forbidden, InvalidOperatorName

BOOTSTRAP = "bootstrap"
"""The name of the one admin that is not in the operators table: PAYGATE_ADMIN_TOKEN."""


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def covers(self, needed: Role) -> bool:
        """Whether this role carries every right of `needed`."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class Action(StrEnum):
    """What an operator does that changes state; the audit trail's `action`."""

    PAYMENT_REVIEW = "payment.review"
    PAYMENT_REFUND = "payment.refund"
    PAYMENT_CAPTURE = "payment.capture"
    PAYMENT_CANCEL = "payment.cancel"
    WEBHOOK_RETRY = "webhook.retry"
    MERCHANT_CREATE = "merchant.create"
    MERCHANT_DISABLE = "merchant.disable"
    MERCHANT_ENABLE = "merchant.enable"
    MERCHANT_ROUTING = "merchant.routing"
    OPERATOR_CREATE = "operator.create"
    OPERATOR_DISABLE = "operator.disable"
    SETTLEMENT_RUN = "settlement.run"
    KEYS_ROTATE = "keys.rotate"


REQUIRED_ROLE: dict[Action, Role] = {
    Action.PAYMENT_REVIEW: Role.OPERATOR,
    Action.PAYMENT_REFUND: Role.OPERATOR,
    Action.PAYMENT_CAPTURE: Role.OPERATOR,
    Action.PAYMENT_CANCEL: Role.OPERATOR,
    Action.WEBHOOK_RETRY: Role.OPERATOR,
    Action.MERCHANT_CREATE: Role.ADMIN,
    Action.MERCHANT_DISABLE: Role.ADMIN,
    Action.MERCHANT_ENABLE: Role.ADMIN,
    Action.MERCHANT_ROUTING: Role.ADMIN,
    Action.OPERATOR_CREATE: Role.ADMIN,
    Action.OPERATOR_DISABLE: Role.ADMIN,
    Action.SETTLEMENT_RUN: Role.ADMIN,
    Action.KEYS_ROTATE: Role.ADMIN,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: an operator's name and the role it acts with."""

    name: str
    role: Role

    def may(self, action: Action) -> bool:
        return self.role.covers(REQUIRED_ROLE[action])

    def require(self, action: Action) -> None:
        """Raises `Forbidden` (nothing is changed) unless the role carries `action`."""
        if not self.may(action):
            needed = REQUIRED_ROLE[action]
            raise Forbidden(
                f"{self.name} is a {self.role}; {action} needs the {needed} role",
                action=str(action), role=str(self.role), required_role=str(needed))


BOOTSTRAP_ACTOR = Actor(BOOTSTRAP, Role.ADMIN)
TOKEN_PREFIX = "pgo_"  # noqa: S105 - a prefix that tells an operator token apart


def token_hash(token: str) -> str:
    """What is kept of an operator's token: SHA-256 suffices for a random 256-bit token
    (nothing to brute-force), and lets a token be found by an index lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """1-64 characters of letters, digits, `.`, `_`, `-` and `@`; not `bootstrap`."""
    if not (1 <= len(name) <= 64) or not all(c.isascii() and (c.isalnum() or c in "._-@")
                                              for c in name):
        raise InvalidOperatorName(
            "an operator's name is 1-64 letters, digits, '.', '_', '-' or '@'")
    if name == BOOTSTRAP:
        raise InvalidOperatorName(f"{BOOTSTRAP!r} is the PAYGATE_ADMIN_TOKEN's name")
    return name


@dataclass(slots=True, kw_only=True)
class Operator:
    """A named credential: its token is kept only as a hash (a token is shown once)."""

    operator_id: str
    name: str
    role: Role
    token_hash: str
    created_at: datetime
    active: bool = True
    disabled_at: datetime | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.role)

    @property
    def status(self) -> str:
        return "active" if self.active else "disabled"

    def disable(self, now: datetime) -> None:
        if self.active:
            self.active, self.disabled_at = False, now


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One operator action, written with the change it made and never altered.

    `after` is the status the action left when the row was written, in the action's own
    transaction, not the final outcome: a capture or a void records its claim of the hold
    (`requires_capture`), a refund its reservation (`pending`).
    """

    entry_id: str
    actor: str
    role: Role
    action: Action
    object_type: str
    object_id: str
    before: str | None
    after: str | None
    reason: str | None
    trace_id: str | None
    created_at: datetime

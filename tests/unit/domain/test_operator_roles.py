"""Which role may do what: one table, roles ordered viewer < operator < admin."""

from __future__ import annotations

import pytest

from domain.errors import Forbidden, InvalidOperatorName
from domain.operator import REQUIRED_ROLE, Action, Actor, Role, check_name, token_hash

OPERATOR_ACTIONS = {Action.PAYMENT_REVIEW, Action.PAYMENT_REFUND, Action.PAYMENT_CAPTURE,
                    Action.PAYMENT_CANCEL, Action.WEBHOOK_RETRY}


def test_every_action_needs_a_role_and_only_payment_work_is_open_to_operators() -> None:
    assert set(REQUIRED_ROLE) == set(Action)
    assert {a for a, role in REQUIRED_ROLE.items() if role is Role.OPERATOR} == OPERATOR_ACTIONS
    assert {a for a, role in REQUIRED_ROLE.items() if role is Role.VIEWER} == set()


@pytest.mark.parametrize("action", list(Action))
def test_a_viewer_may_change_nothing_an_admin_anything(action: Action) -> None:
    assert not Actor("vera", Role.VIEWER).may(action)
    assert Actor("ada", Role.ADMIN).may(action)
    assert Actor("otto", Role.OPERATOR).may(action) == (action in OPERATOR_ACTIONS)


def test_a_refusal_names_the_role_it_needs() -> None:
    with pytest.raises(Forbidden) as refused:
        Actor("otto", Role.OPERATOR).require(Action.SETTLEMENT_RUN)
    assert refused.value.code == "forbidden"
    assert refused.value.details == {
        "action": "settlement.run", "role": "operator", "required_role": "admin"}


def test_a_token_is_kept_as_its_sha256() -> None:
    assert token_hash("pgo_x") == (
        "bc90fc25f9ee8949d3a4a223bea85c9679a774ddf02bd95c43b53550633edb80")
    assert token_hash("pgo_x") != token_hash("pgo_y")


@pytest.mark.parametrize("name", ["", "bootstrap", "a b", "x" * 65, "ünï"])
def test_names_are_short_plain_and_not_the_bootstrap_admin(name: str) -> None:
    with pytest.raises(InvalidOperatorName):
        check_name(name)


def test_a_plain_name_is_kept() -> None:
    assert check_name("alice.smith@ops") == "alice.smith@ops"

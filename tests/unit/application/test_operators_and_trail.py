"""Operators' credentials and the trail's reading rules, on the fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.errors import DuplicateName, NotFound, ValidationFailed
from application.ports.storage import AuditQuery
from domain.errors import Forbidden, InvalidOperatorName
from domain.operator import BOOTSTRAP_ACTOR, Actor, Role, token_hash
from tests.unit.fakes import Gateway


async def test_a_token_names_its_active_operator_and_nothing_else(gateway: Gateway) -> None:
    s = gateway.services
    made = await s.create_operator(BOOTSTRAP_ACTOR, "otto", "operator")

    assert made.token.startswith("pgo_")
    assert gateway.db.operators["otto"].token_hash == token_hash(made.token)
    assert await s.identify_operator.by_token(made.token) == Actor("otto", Role.OPERATOR)
    assert await s.identify_operator.by_token(made.token + "x") is None
    assert await s.identify_operator.by_name("otto") == Actor("otto", Role.OPERATOR)
    assert await s.identify_operator.by_name("bootstrap") == BOOTSTRAP_ACTOR

    await s.disable_operator(BOOTSTRAP_ACTOR, "otto")
    again = await s.disable_operator(BOOTSTRAP_ACTOR, "otto")  # nothing more happens

    assert not again.active
    assert await s.identify_operator.by_token(made.token) is None
    with pytest.raises(Forbidden, match="disabled"):
        await s.identify_operator.by_name("otto")
    with pytest.raises(NotFound):
        await s.identify_operator.by_name("nobody")
    assert [e.action for e in gateway.db.audit] == ["operator.create", "operator.disable"]


async def test_names_roles_and_duplicates_are_refused_and_write_nothing(gateway: Gateway) -> None:
    s = gateway.services
    await s.create_operator(BOOTSTRAP_ACTOR, "otto", "operator")
    commits = gateway.db.commits

    with pytest.raises(ValidationFailed, match="role"):
        await s.create_operator(BOOTSTRAP_ACTOR, "vera", "superuser")
    with pytest.raises(InvalidOperatorName):
        await s.create_operator(BOOTSTRAP_ACTOR, "bootstrap", "admin")
    with pytest.raises(DuplicateName):
        await s.create_operator(BOOTSTRAP_ACTOR, "otto", "admin")

    assert gateway.db.commits == commits
    assert [o.name for o in await s.list_operators()] == ["otto"]


async def test_the_trail_is_read_a_page_at_a_time_within_a_window(gateway: Gateway) -> None:
    s = gateway.services
    start = gateway.clock.now()
    for name in ("a", "b", "c"):
        await s.create_operator(BOOTSTRAP_ACTOR, name, "viewer")
        gateway.clock.advance(seconds=10)

    page = await s.list_audit(AuditQuery(limit=2))
    rest = await s.list_audit(AuditQuery(limit=2, cursor=page.next_cursor))
    window = await s.list_audit(AuditQuery(created_from=start + timedelta(seconds=5),
                                           created_to=start + timedelta(seconds=15)))

    assert [e.object_id for e in page.items + rest.items] == ["c", "b", "a"]
    assert [e.object_id for e in window.items] == ["b"]
    with pytest.raises(ValidationFailed):
        await s.list_audit(AuditQuery(created_from=start, created_to=start))
    with pytest.raises(ValidationFailed):
        await s.list_audit(AuditQuery(limit=0))

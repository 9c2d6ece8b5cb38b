"""The contract of the operator and audit repositories, on the fakes, SQLite and
PostgreSQL alike (`units`, conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from db_builders import T0, later

from application.errors import DuplicateName
from application.ports.storage import AuditQuery, UnitOfWorkFactory
from domain.operator import Action, AuditEntry, Operator, Role, token_hash


def operator(name: str, role: Role = Role.OPERATOR) -> Operator:
    return Operator(operator_id=f"opr_{name}", name=name, role=role,
                    token_hash=token_hash(f"pgo_{name}"), created_at=T0)


def entry(n: int, actor: str = "alice", object_id: str = "pay_1", seconds: float = 0) -> AuditEntry:
    return AuditEntry(entry_id=f"aud_{n:03d}", actor=actor, role=Role.OPERATOR,
                      action=Action.PAYMENT_REVIEW, object_type="payment", object_id=object_id,
                      before="requires_review", after="processing", reason="looks fine",
                      trace_id="ab" * 16, created_at=later(seconds))


async def test_operators_are_found_by_name_and_token_hash_and_disabled_in_place(
    units: UnitOfWorkFactory,
) -> None:
    async with units() as uow:
        await uow.operators.add(operator("alice", Role.ADMIN))
        await uow.operators.add(operator("bob"))
        await uow.commit()
    async with units() as uow:
        bob = await uow.operators.get_by_name("bob")
        assert bob is not None
        bob.disable(T0 + timedelta(hours=1))
        await uow.operators.update(bob)
        await uow.commit()

    async with units(read_only=True) as uow:
        by_token = await uow.operators.get_by_token_hash(token_hash("pgo_alice"))
        unknown = await uow.operators.get_by_token_hash(token_hash("pgo_nobody"))
        listed = await uow.operators.list()

    assert by_token is not None
    assert (by_token.name, by_token.role) == ("alice", Role.ADMIN)
    assert unknown is None
    assert [(o.name, o.active, o.disabled_at) for o in listed] == [
        ("alice", True, None), ("bob", False, T0 + timedelta(hours=1))]


async def test_a_second_operator_of_one_name_is_refused_and_nothing_is_written(
    units: UnitOfWorkFactory,
) -> None:
    async with units() as uow:
        await uow.operators.add(operator("alice"))
        await uow.commit()
    async with units() as uow:
        with pytest.raises(DuplicateName):
            await uow.operators.add(Operator(operator_id="opr_other", name="alice",
                                             role=Role.ADMIN, token_hash="f" * 64, created_at=T0))

    async with units(read_only=True) as uow:
        assert [(o.operator_id, o.role) for o in await uow.operators.list()] == [
            ("opr_alice", Role.OPERATOR)]


async def test_audit_entries_page_newest_first_and_filter_by_actor_object_and_time(
    units: UnitOfWorkFactory,
) -> None:
    async with units() as uow:
        await uow.audit.add(entry(1, seconds=0))
        await uow.audit.add(entry(2, actor="bob", seconds=10))
        await uow.audit.add(entry(3, object_id="ref_1", seconds=10))
        await uow.audit.add(entry(4, seconds=20))
        await uow.commit()

    async with units(read_only=True) as uow:
        first = await uow.audit.list(AuditQuery(limit=2))
        rest = await uow.audit.list(AuditQuery(limit=2, cursor=first.next_cursor))
        alice = await uow.audit.list(AuditQuery(actor="alice"))
        on_payment = await uow.audit.list(AuditQuery(object_id="pay_1", actor="alice"))
        window = await uow.audit.list(AuditQuery(created_from=later(10), created_to=later(20)))

    assert [e.entry_id for e in first.items] == ["aud_004", "aud_003"]
    assert [e.entry_id for e in rest.items] == ["aud_002", "aud_001"]
    assert rest.next_cursor is None
    assert [e.entry_id for e in alice.items] == ["aud_004", "aud_003", "aud_001"]
    assert [e.entry_id for e in on_payment.items] == ["aud_004", "aud_001"]
    assert [e.entry_id for e in window.items] == ["aud_003", "aud_002"]
    assert first.items[1] == entry(3, object_id="ref_1", seconds=10)  # every field kept


async def test_audit_entries_left_uncommitted_are_not_written(units: UnitOfWorkFactory) -> None:
    async with units() as uow:
        await uow.audit.add(entry(1))

    async with units(read_only=True) as uow:
        assert (await uow.audit.list(AuditQuery())).items == []

"""The audit trail cannot be altered through the application's database connection."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from db_builders import T0
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.persistence import SqlUnitOfWorkFactory, create_engine, upgrade_database_async
from application.ports.storage import AuditQuery
from domain.operator import Action, AuditEntry, Role

ENTRY = AuditEntry(entry_id="aud_1", actor="alice", role=Role.OPERATOR,
                   action=Action.PAYMENT_REFUND, object_type="refund", object_id="ref_1",
                   before=None, after="pending", reason="damaged", trace_id=None, created_at=T0)
ALTERATIONS = [
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
]


async def _written(engine: AsyncEngine) -> list[str]:
    async with SqlUnitOfWorkFactory(engine)() as uow:
        await uow.audit.add(ENTRY)
        await uow.commit()
    async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        return [e.actor for e in (await uow.audit.list(AuditQuery())).items]


@pytest.mark.parametrize("statement", ALTERATIONS)
async def test_the_database_refuses_to_update_or_delete_an_audit_row(
    engine_factory: Callable[..., AsyncEngine], statement: str
) -> None:
    engine = engine_factory()
    assert await _written(engine) == ["alice"]

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))

    async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
        assert (await uow.audit.list(AuditQuery())).items == [ENTRY]


@pytest.fixture
async def app_role_url(postgres_server: str) -> AsyncIterator[str]:
    """A database migrated by an application role that is no superuser and owns its schema,
    as a deployment that migrates with its own role has it."""
    role = f"paygate_app_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(postgres_server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        await conn.execute(text(f'CREATE SCHEMA "{role}" AUTHORIZATION "{role}"'))
    url = make_url(postgres_server).set(username=role).update_query_dict({"search_path": role})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{role}" CASCADE'))
            await conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        await admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [*ALTERATIONS, "TRUNCATE audit_log"])
async def test_on_postgresql_the_application_role_has_no_update_or_delete_right(
    app_role_url: str, statement: str
) -> None:
    await upgrade_database_async(app_role_url)
    engine = create_engine(app_role_url)
    try:
        assert await _written(engine) == ["alice"]
        async with engine.connect() as conn:
            rights = (await conn.execute(text(
                "SELECT has_table_privilege(current_user, 'audit_log', 'INSERT'),"
                " has_table_privilege(current_user, 'audit_log', 'SELECT'),"
                " has_table_privilege(current_user, 'audit_log', 'UPDATE'),"
                " has_table_privilege(current_user, 'audit_log', 'DELETE'),"
                " has_table_privilege(current_user, 'audit_log', 'TRUNCATE')"))).one()
        assert tuple(rights) == (True, True, False, False, False)

        with pytest.raises(DBAPIError, match="permission denied"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
        async with SqlUnitOfWorkFactory(engine)(read_only=True) as uow:
            assert (await uow.audit.list(AuditQuery())).items == [ENTRY]
    finally:
        await engine.dispose()

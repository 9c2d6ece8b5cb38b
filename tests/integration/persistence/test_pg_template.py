"""The PostgreSQL schema most tests get (`pg_template`: the statements the migrations sent
once, sent again) is the schema the migrations make: the same catalog, the same rows.

If a migration ever makes something a replay cannot repeat (a statement naming its own
schema, a value that differs from one run to the next), this fails, and the fixtures
must go back to migrating or learn the new case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pg_schemas import create_schema, drop_schema
from pg_template import Statement, replay, replayable
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from adapters.persistence import create_engine, upgrade_database_async

pytestmark = pytest.mark.postgres

# Everything a schema holds that a test could notice, each as rows of plain values. Read
# over a connection whose search path does not hold the schema, so every name the
# catalog prints is qualified the same way in both schemas, and then made neutral.
CATALOG = {
    "relations": """
        SELECT c.relname, c.relkind::text, c.relpersistence::text, c.relacl::text,
               c.relrowsecurity, c.relforcerowsecurity, c.reloptions::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema ORDER BY 1""",
    "columns": """
        SELECT table_name, column_name, ordinal_position, column_default, is_nullable,
               data_type, udt_name, character_maximum_length, numeric_precision,
               numeric_scale, datetime_precision, collation_name, is_identity,
               identity_generation, is_generated, generation_expression
        FROM information_schema.columns WHERE table_schema = :schema ORDER BY 1, 3""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = :schema ORDER BY 1, 2""",
    "constraints": """
        SELECT con.conrelid::regclass::text, con.conname, con.contype::text,
               pg_get_constraintdef(con.oid), con.condeferrable, con.condeferred,
               con.convalidated
        FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE n.nspname = :schema ORDER BY 1, 2""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND NOT t.tgisinternal ORDER BY 1, 2""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid),
               pg_get_functiondef(p.oid), p.proacl::text
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = :schema ORDER BY 1, 2""",
    "sequences": """
        SELECT sequencename, data_type::text, start_value, min_value, max_value,
               increment_by, cycle, cache_size, last_value
        FROM pg_sequences WHERE schemaname = :schema ORDER BY 1""",
    "types": """
        SELECT t.typname, t.typtype::text,
               (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                FROM pg_enum e WHERE e.enumtypid = t.oid)
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = :schema ORDER BY 1""",
    "views": """
        SELECT viewname, definition FROM pg_views WHERE schemaname = :schema ORDER BY 1""",
    "policies": """
        SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check
        FROM pg_policies WHERE schemaname = :schema ORDER BY 1, 2""",
    "comments": """
        SELECT c.relname, d.objsubid, d.description
        FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE d.classoid = 'pg_class'::regclass AND n.nspname = :schema ORDER BY 1, 2""",
}
TABLES = """
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY 1"""


def _neutral(value: Any, schema: str) -> Any:
    return value.replace(schema, "<schema>") if isinstance(value, str) else value


async def catalog(server_url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """What `schema` holds, per CATALOG entry, and the rows of each of its tables (as
    `table: rows`), with the schema's own name replaced by `<schema>`."""
    engine = create_engine(server_url, poolclass=NullPool)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        async with engine.connect() as conn:
            for name, query in CATALOG.items():
                rows = (await conn.execute(text(query), {"schema": schema})).all()
                found[name] = [tuple(_neutral(v, schema) for v in row) for row in rows]
            tables = (await conn.execute(text(TABLES), {"schema": schema})).scalars().all()
            for table in tables:
                rows = (await conn.execute(text(f'SELECT * FROM "{schema}"."{table}"'))).all()
                found[f"rows of {table}"] = sorted(
                    tuple(_neutral(repr(v), schema) for v in row) for row in rows
                )
    finally:
        await engine.dispose()
    return found


Schemas = Callable[[], Awaitable[tuple[str, str]]]


@pytest.fixture
async def new_schema(postgres_server: str) -> AsyncIterator[Schemas]:
    """`await new_schema()`: an empty schema and a URL into it, dropped after the test."""
    made: list[str] = []

    async def make() -> tuple[str, str]:
        made.append(await create_schema(postgres_server))
        url = make_url(postgres_server).update_query_dict({"search_path": made[-1]})
        return made[-1], str(url)

    yield make
    for schema in made:
        await drop_schema(postgres_server, schema)


async def test_sending_the_recorded_statements_makes_the_schema_the_migrations_make(
    postgres_server: str,
    postgres_migration_statements: list[Statement],
    new_schema: Schemas,
) -> None:
    migrated, migrated_url = await new_schema()
    replayed, replayed_url = await new_schema()
    await upgrade_database_async(migrated_url)
    await replay(replayed_url, postgres_migration_statements)

    expected = await catalog(postgres_server, migrated)

    assert await catalog(postgres_server, replayed) == expected
    # and the comparison is of something: the schema's distinctive parts are all in it
    assert expected["rows of alembic_version"] == [("'0011'",)]
    indexes = {name: definition for _, name, definition in expected["indexes"]}
    assert "WHERE" in indexes["uq_payments_live_order"]
    assert "created_at DESC" in indexes["ix_payments_merchant_newest"]
    assert {kind for _, _, kind, *_ in expected["constraints"]} == {"p", "u", "f", "c"}
    assert {trigger for _, trigger, *_ in expected["triggers"]} >= {
        "ledger_entries_append_only",
        "ledger_entries_no_truncate",
    }
    assert {function for function, *_ in expected["functions"]} == {
        "ledger_entries_append_only",
        "audit_log_append_only",
    }


CHANGES: dict[str, str | tuple[str, ...]] = {
    "a column's default": "ALTER TABLE {s}.payments ALTER COLUMN order_no SET DEFAULT 'x'",
    "a column's nullability": "ALTER TABLE {s}.audit_log ALTER COLUMN reason SET NOT NULL",
    "a column's type": "ALTER TABLE {s}.audit_log ALTER COLUMN reason TYPE varchar(500)",
    "a CHECK constraint": "ALTER TABLE {s}.audit_log ADD CONSTRAINT ck_x CHECK (actor <> '')",
    "a unique constraint": "ALTER TABLE {s}.audit_log ADD CONSTRAINT uq_x UNIQUE (actor)",
    "a foreign key": "ALTER TABLE {s}.refunds DROP CONSTRAINT fk_refunds_payment_no_payments",
    "a partial index's predicate": (
        "DROP INDEX {s}.uq_payments_live_order",
        "CREATE UNIQUE INDEX uq_payments_live_order ON {s}.payments (merchant_id, order_no)",
    ),
    "an index's order": (
        "DROP INDEX {s}.ix_payments_merchant_newest",
        "CREATE INDEX ix_payments_merchant_newest"
        " ON {s}.payments (merchant_id, created_at, payment_no DESC)",
    ),
    "a trigger": "DROP TRIGGER ledger_entries_no_truncate ON {s}.ledger_entries",
    "a function's body": (
        "CREATE OR REPLACE FUNCTION {s}.ledger_entries_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
    ),
    "a row": "UPDATE {s}.alembic_version SET version_num = '0010'",
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
async def test_the_comparison_sees_any_difference(
    postgres_server: str,
    postgres_migration_statements: list[Statement],
    new_schema: Schemas,
    change: str | tuple[str, ...],
) -> None:
    same, same_url = await new_schema()
    changed, changed_url = await new_schema()
    for url in (same_url, changed_url):
        await replay(url, postgres_migration_statements)
    engine = create_engine(postgres_server, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            for statement in (change,) if isinstance(change, str) else change:
                await conn.execute(text(statement.format(s=f'"{changed}"')))
    finally:
        await engine.dispose()

    assert await catalog(postgres_server, changed) != await catalog(postgres_server, same)


def test_a_statement_naming_the_schema_it_was_recorded_in_is_refused() -> None:
    recorded = [
        Statement("CREATE TABLE t (x int)", (), False),
        Statement('CREATE INDEX i ON "paygate_template_1".t (x)', (), False),
    ]

    with pytest.raises(AssertionError, match="names the schema it ran in"):
        replayable(recorded, "paygate_template_1")


def test_the_migration_lock_is_not_taken_again() -> None:
    recorded = [
        Statement("SELECT pg_advisory_xact_lock($1)", (1,), False),
        Statement("CREATE TABLE t (x int)", (), False),
    ]

    assert [s.sql for s in replayable(recorded, "paygate_template_1")] == [
        "CREATE TABLE t (x int)"
    ]

"""A Core statement compiled once for the driver, through SQLAlchemy's public compile API.

`statement.compile(dialect=..., column_keys=...)` gives the SQL text (`string`), the
order of its positional parameters (`positiontup`) and their bind parameters
(`bind_names`); each bind's type gives its bind processor
(`type.dialect_impl(dialect).bind_processor(dialect)`), and each column the statement
returns (`exported_columns`) its result processor, exactly the processors SQLAlchemy
itself applies. Statements whose text depends on the values (IN lists) are rendered per
execution with `construct_expanded_state`. Nothing here reads a private attribute, so a
new SQLAlchemy release can change how it caches these without changing what paygate
sends (docs/adr/0015).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import BindParameter, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None

Binding = tuple[str, str, BindParameter[Any], Processor]
"""One positional argument: its parameter key, its name in the SQL, the bind parameter
(for a value it carries itself) and its type's bind processor."""


class PositionalCompiled(Protocol):
    """The documented attributes of what `compile()` returns for a Core statement."""

    string: str
    positiontup: list[str] | None
    bind_names: Mapping[BindParameter[Any], str]
    escaped_bind_names: Mapping[str, str]
    isinsert: bool
    isupdate: bool
    isdelete: bool
    post_compile_params: frozenset[BindParameter[Any]]
    literal_execute_params: frozenset[BindParameter[Any]]

    @property
    def params(self) -> Mapping[str, Any]: ...

    def construct_expanded_state(self, params: Mapping[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class DriverStatement:
    sql: str
    compiled: PositionalCompiled
    plan: tuple[Binding, ...]  # the positional arguments, in order
    defaults: dict[str, Any]  # values given with `.params()` on the statement, by SQL name
    row: type[tuple[Any, ...]] | None  # named tuple of the result columns; None: no rows
    result: tuple[Processor, ...]
    expanding: bool  # has IN lists rendered per execution

    @property
    def writes(self) -> bool:
        return bool(self.compiled.isinsert or self.compiled.isupdate or self.compiled.isdelete)

    @property
    def verb(self) -> str:
        return self.sql.split(None, 1)[0]

    def bound(self, params: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        """The SQL text and its positional arguments for these parameters.

        What `construct_params` and the bind processors would give, in one pass over a
        plan made at compile time instead of a dict of every parameter that is then read
        back in order (a payment's 26-column insert: 13 -> 5 us).
        """
        if self.expanding:  # IN (...) lists: the text depends on the values
            state = self.compiled.construct_expanded_state(params)
            return state.statement, [
                _processed(state.processors.get(name), state.parameters[name])
                for name in state.positiontup or ()
            ]
        given = {**self.defaults, **(params or {})} if self.defaults else params or {}
        arguments = []
        for key, name, bind, process in self.plan:
            if key in given:
                value = given[key]
            elif name in given:
                value = given[name]
            elif bind.required:
                raise exc.InvalidRequestError(
                    f"A value is required for bind parameter {key!r}", code="cd3x"
                )
            else:
                value = bind.effective_value if bind.callable else bind.value
            arguments.append(value if process is None or value is None else process(value))
        return self.sql, arguments

    def rows(self, records: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        assert self.row is not None
        make, processors = self.row._make, self.result  # type: ignore[attr-defined]
        return [
            make(_processed(process, value)
                 for value, process in zip(record, processors, strict=True))
            for record in records
        ]


@lru_cache(maxsize=512)
def driver_statement(
    statement: Executable, keys: tuple[str, ...], dialect: Dialect
) -> DriverStatement:
    """The statement compiled for `dialect` with these parameter names. The module's
    constant statements stay compiled; those built per call (filtered listings) are
    compiled again and pass through the bounded cache."""
    compiled = cast(
        PositionalCompiled,
        statement.compile(dialect=dialect, column_keys=list(keys)),  # type: ignore[attr-defined]
    )
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    plan = tuple(
        (by_name[name].key, name, by_name[name], _bind_processor(by_name[name], dialect))
        for name in compiled.positiontup or ()
    )
    row, result = _result_shape(statement, dialect)
    expanding = bool(compiled.post_compile_params or compiled.literal_execute_params)
    return DriverStatement(
        compiled.string, compiled, plan, _given_with_params(compiled, by_name), row, result,
        expanding,
    )


def _bind_processor(bind: BindParameter[Any], dialect: Dialect) -> Processor:
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


def _given_with_params(
    compiled: PositionalCompiled, by_name: Mapping[str, BindParameter[Any]]
) -> dict[str, Any]:
    """Values set with `.params()`: what `compiled.params` holds beyond the binds' own
    values (a bind whose value comes from a callable is read again at each execution)."""
    unescaped = {escaped: name for name, escaped in compiled.escaped_bind_names.items()}
    given = {}
    for escaped, value in compiled.params.items():
        name = unescaped.get(escaped, escaped)
        bind = by_name.get(name)
        if bind is not None and bind.callable is None and value is not bind.value:
            given[name] = value
    return given


def _result_shape(
    statement: Executable, dialect: Dialect
) -> tuple[type[tuple[Any, ...]] | None, tuple[Processor, ...]]:
    """The named tuple of the columns the statement returns (a SELECT's, or an INSERT's
    RETURNING), each named as in its SQL, and their result processors; None for none."""
    columns = list(getattr(statement, "exported_columns", ()))
    if not columns:
        return None, ()
    names = [getattr(column, "name", None) or f"column_{i}" for i, column in enumerate(columns)]
    row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return row, processors


def _processed(process: Processor, value: Any) -> Any:
    return value if process is None or value is None else process(value)

"""SQLite connections that paygate opens itself, and the transactions units run on them.

The engine still reaches SQLite through aiosqlite (SQLAlchemy's async SQLite driver): its
pool, its events and every statement outside a unit of work go that way. But the
`sqlite3` connection underneath is paygate's: the engine passes `OwnedConnection` as
`sqlite3.connect`'s documented `factory`, so sqlite3 builds paygate's class (in
aiosqlite's thread, as it would its own), and the engine's `connect` event asks the new
connection for its key (a SQL function it defines) and records which aiosqlite connection
wraps it (`adopt`). Units of work then run their statements on it directly
(`SqliteTransaction`); nothing reads aiosqlite's private attributes (docs/adr/0015).
"""

from __future__ import annotations

import sqlite3
from itertools import count
from typing import Any
from weakref import WeakKeyDictionary, WeakValueDictionary

import aiosqlite

KEY_FUNCTION = "paygate_connection_key"
INFO_KEY = "paygate.sqlite"
"""Where the engine keeps a pooled connection's `OwnedConnection`, in the pool entry's
`info` (a dict SQLAlchemy keeps for the connection's life): read once per unit of work."""
_keys = count(1)
_opened: WeakValueDictionary[int, OwnedConnection] = WeakValueDictionary()
_owned: WeakKeyDictionary[aiosqlite.Connection, OwnedConnection] = WeakKeyDictionary()


class OwnedConnection(sqlite3.Connection):
    """A `sqlite3` connection that can say which one it is: `SELECT paygate_connection_key()`.

    Its busy timeout is read once, on its first write unit (`busy_timeout_ms`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key = next(_keys)
        _opened[key] = self
        self.create_function(KEY_FUNCTION, 0, lambda: key, deterministic=True)
        self.busy_timeout_ms: int | None = None


def adopt(wrapper: aiosqlite.Connection, key: int) -> OwnedConnection:
    """Record that `wrapper` is the aiosqlite connection around the connection `key`."""
    raw = _owned[wrapper] = _opened.pop(key)
    return raw


def sqlite_of(conn: aiosqlite.Connection) -> OwnedConnection:
    """The `sqlite3` connection paygate opened under this aiosqlite connection (opened with
    `check_same_thread=False` by the engine). Only engines made by `create_engine` have
    them: a `KeyError` for any other."""
    return _owned[conn]


class SqliteTransaction:
    """BEGIN / COMMIT / ROLLBACK on SQLite; a write unit takes the write lock at BEGIN
    (docs/adr/0005).

    A trip to aiosqlite's thread costs more CPU than the statement it carries (a queue, a
    thread wake-up, a call back into the loop, and the GIL twice), and SQLite's one write
    lock is held across every trip of a write unit. So statements run on the loop's own
    thread: inside a write unit the lock is already held and a statement never waits, and
    in WAL mode a reader never waits for a writer. Only what may block goes to the thread:

    - COMMIT, whose fsync takes ~0.1 ms on an SSD and much longer on slower disks;
    - BEGIN IMMEDIATE when another process holds the write lock: it is first tried with a
      zero busy timeout, and only if the lock is taken does it wait in the thread, for up
      to the connection's own busy timeout.

    If one of those trips is interrupted (the task cancelled while it runs) the thread may
    still finish it later, so `interrupted` tells the unit of work to drop the connection
    rather than hand it to someone whose statements could interleave with it.
    """

    __slots__ = ("_immediate", "_raw", "_wrapper", "interrupted")

    def __init__(
        self, wrapper: aiosqlite.Connection, raw: OwnedConnection, read_only: bool
    ) -> None:
        self._wrapper, self._raw = wrapper, raw
        self._immediate, self.interrupted = not read_only, False

    async def start(self) -> None:
        raw = self._raw
        if not self._immediate:
            raw.execute("BEGIN DEFERRED")  # takes no lock until the first read
            return
        timeout = busy_timeout_ms(raw)
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout = {timeout}")
        await self._in_thread("BEGIN IMMEDIATE")  # another process writes: wait for it there

    async def commit(self) -> None:
        await self._in_thread("COMMIT")

    async def rollback(self) -> None:
        self._raw.execute("ROLLBACK")  # no fsync: a rollback only drops pages

    async def _in_thread(self, sql: str) -> None:
        try:
            await self._wrapper.execute(sql)
        except sqlite3.Error:
            raise  # the thread finished it, and it failed
        except BaseException:
            self.interrupted = True
            raise


def busy_timeout_ms(raw: OwnedConnection) -> int:
    """The busy timeout the connection was opened with, read on its first write unit only
    (a statement fewer per write unit after that)."""
    if raw.busy_timeout_ms is None:
        raw.busy_timeout_ms = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
    return raw.busy_timeout_ms

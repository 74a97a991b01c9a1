"""SQLite through aiosqlite, with the calls that cannot wait for a lock run on the loop's thread.

aiosqlite runs every call on a thread of its own: a statement is about four hand-offs (cursor,
execute, fetch, close), each a queue, a thread's wake-up and the event loop's. A card press made
~67 of them, about half its CPU (issue 15). A call that cannot wait gains nothing from the thread,
so here only the calls that can wait for another connection go to aiosqlite's thread, where a
wait holds up no other turn:

- taking the write lock (BEGIN IMMEDIATE, or a transaction's first write) and COMMIT (which may
  checkpoint the WAL: file I/O) go to the thread, except the COMMIT of a transaction that never
  opened (a read-only turn's: sqlite3 does nothing);
- everything else runs on the loop's thread: a read outside a write (in WAL mode a reader never
  waits for a writer), rows, cursors, rollback, and every statement of a transaction that holds
  the write lock already (storage.db.write_transaction says so): nothing it does can wait.

A call on the loop's thread that could wait would stop every turn, and a wait on a lock held by
another session of this process would never end: so anything that is not certainly a read
outside a write, in a transaction that holds no lock, goes to the thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiosqlite

# Calls that touch no lock: on the loop's thread whatever the transaction holds.
_NEVER_WAIT = frozenset({"cursor", "fetchone", "fetchmany", "fetchall", "close", "rollback"})


class Connection(aiosqlite.Connection):
    # True while this connection's transaction holds the database's write lock and this process
    # let no other writer in (storage.db.write_transaction); cleared when it ends.
    holds_write_lock: bool = False

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(fn, "__name__", "")
        if name in ("commit", "rollback"):
            self.holds_write_lock = False
        if (
            name in _NEVER_WAIT
            or (name in ("execute", "executemany") and self._cannot_wait(args[0] if args else ""))
            # A read-only turn's COMMIT: no transaction is open, so sqlite3 does nothing.
            or (name == "commit" and not self._conn.in_transaction)
        ):
            if not self._running or not self._connection:
                raise ValueError("Connection closed")
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    def _cannot_wait(self, sql: str) -> bool:
        if self.holds_write_lock:
            return True
        return not self._conn.in_transaction and sql.lstrip()[:6].upper() == "SELECT"


def connector(database: str, *, timeout: float) -> Callable[[], Awaitable[Connection]]:
    """For create_async_engine(async_creator=...): what SQLAlchemy's aiosqlite dialect opens for
    a database file, as this module's Connection."""

    async def connect() -> Connection:
        opened = Connection(
            partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False),
            iter_chunk_size=64,
        )
        opened._thread.daemon = True  # as SQLAlchemy does: a forgotten connection stops no exit
        await opened
        return opened

    return connect


def mark_write_lock_held(driver_connection: Any) -> None:
    """This connection's transaction has taken the write lock and is this process's only writer."""
    if isinstance(driver_connection, Connection):
        driver_connection.holds_write_lock = True

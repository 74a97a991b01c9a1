"""Async engines and sessions for SQLite (embedded default) and PostgreSQL; nothing at import."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import bindparam, event, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver

SessionMaker = async_sessionmaker[AsyncSession]
T = TypeVar("T")
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def json_text(value: Any) -> str:
    """A JSON column's text (orjson: a stored card answer is 24 KB, written on every press)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout."""
    json_columns: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # Calls that cannot wait for a lock run on the loop's thread (storage.sqlite_driver).
            engine = create_async_engine(
                url,
                echo=echo,
                async_creator=sqlite_driver.connector(database, timeout=30),
                **json_columns,
            )
        else:
            engine = create_async_engine(
                url, echo=echo, connect_args={"timeout": 30}, **json_columns
            )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True, **json_columns
    )


def make_sessions(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: SessionMaker) -> AsyncIterator[AsyncSession]:
    """A session whose work commits on success and rolls back on any error."""
    async with sessions() as session, session.begin():
        yield session


_WRITERS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def write_transaction(sessions: SessionMaker) -> AsyncIterator[AsyncSession]:
    """A transaction that writes from its start (a card press claims its activity first).

    On SQLite this process's writers take turns, first come first served, before the database's
    write lock: a writer that found the lock taken would sleep in SQLite's busy handler (up to
    100 ms a time, while the lock may come free at once), which under a burst of presses made
    the slowest answers seconds long. PostgreSQL locks rows, not the database: nothing to queue.
    """
    async with sessions() as session:
        engine = session.bind
        lock = None
        if isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite":
            lock = _WRITERS.setdefault(engine.sync_engine, asyncio.Lock())
            await lock.acquire()
        try:
            async with session.begin():
                await hold_writes(session)
                if lock is not None:
                    raw = await (await session.connection()).get_raw_connection()
                    sqlite_driver.mark_write_lock_held(raw.driver_connection)
                yield session
        finally:
            if lock is not None:
                lock.release()


async def in_one_transaction(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in one transaction on an engine of its own, disposed after: a CLI command's unit."""
    engine = make_engine(database_url)
    try:
        async with transaction(make_sessions(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


async def gather_statistics(sessions: SessionMaker, *tables: str) -> None:
    """After a bulk change (an import), PostgreSQL's planner statistics for `tables`, gathered
    now rather than whenever autovacuum next looks: with none, the first `my actions` on a newly
    filled database joined every audit of the tenant to each action of the page (60 ms, not
    0.3 ms: docs/performance.md). SQLite's planner needs none for these queries."""
    async with sessions() as session:
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            return
        await connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{t}"' for t in tables))
        await session.commit()


async def locked(session: AsyncSession, query: Q, *, of: Any = None) -> Q:
    """`query` made to lock its rows until the transaction ends and to read them afresh, so two
    presses at once cannot both change them.

    PostgreSQL locks the rows (FOR UPDATE). SQLite has no row locks, and its reads take no lock at
    all until the transaction's first write: two presses read the same row and both change it.
    There this takes the database's write lock first (BEGIN IMMEDIATE), so the read that follows
    sees the other press's change, or the other press waits for this one.
    """
    await hold_writes(session)
    return for_update(query, of=of)


def for_update(query: Q, *, of: Any = None) -> Q:
    """`query` as `locked` makes it, for a statement built once (below); run it after
    `hold_writes`."""
    return query.with_for_update(of=of).execution_options(populate_existing=True)


# Prebuilt statements. SQLAlchemy spends more time building a statement in Python, and working
# out its cache key, than SQLite spends running it. A statement on the hot path of a turn is
# built once, at import, with `bindparam`s for its values (the tenant's among them: every query
# stays scoped by tenant), and run with `params=`; its cache key is then worked out once too.


async def compare_and_set(
    session: AsyncSession, row: Any, expected: Mapping[str, Any], **values: Any
) -> bool:
    """Change `row` to `values` in the database only if its columns still hold `expected` there;
    True if this transaction made the change (the row in the session shows it), False if another
    got there first. The one way a state changes, so a second press writes nothing."""
    table = type(row)
    key = (table, tuple(expected), tuple(values))
    statement = _COMPARE_AND_SET.get(key)
    if statement is None:
        statement = _COMPARE_AND_SET[key] = _compare_and_set(*key)
    result = await session.exec(
        statement,
        params={
            "cas_tenant_id": row.tenant_id,
            "cas_id": row.id,
            **{f"was_{name}": value for name, value in expected.items()},
            **{f"now_{name}": value for name, value in values.items()},
        },
    )
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)  # as the database has it, with nothing to flush
    return True


_COMPARE_AND_SET: dict[tuple[Any, tuple[str, ...], tuple[str, ...]], Any] = {}


def _compare_and_set(table: Any, expected: tuple[str, ...], values: tuple[str, ...]) -> Any:
    """compare_and_set's statement for this table and these columns, built once (below). A value
    expected may be NULL (a snooze not yet set), so it is compared as IS NOT DISTINCT FROM."""
    return (
        update(table)
        .where(
            col(table.tenant_id) == bindparam("cas_tenant_id"),
            col(table.id) == bindparam("cas_id"),
            *(
                col(getattr(table, name)).is_not_distinct_from(bindparam(f"was_{name}"))
                for name in expected
            ),
        )
        .values({name: bindparam(f"now_{name}") for name in values})
        .execution_options(synchronize_session=False)
    )


async def hold_writes(session: AsyncSession) -> None:
    """On SQLite, the database's write lock for the rest of this transaction (a no-op on
    PostgreSQL, and on SQLite once the transaction has written: it holds the lock already)."""
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = await connection.get_raw_connection()
    # pysqlite opens a transaction only at the first write, so one open here holds the lock.
    if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


class GroupCommit(Generic[T]):
    """Writes that many turns make at once, committed together (a group commit): each caller
    waits until its item is in the database, as with a transaction of its own, but a burst of
    turns shares one transaction rather than queueing for the write lock one by one.

    `write` writes a batch in the transaction it is given. If a batch fails, each of its items is
    written again on its own with `write`, so one bad item fails only its own caller.
    """

    def __init__(
        self, sessions: SessionMaker, write: Callable[[AsyncSession, list[T]], Awaitable[None]]
    ) -> None:
        self._sessions = sessions
        self._write = write
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def add(self, item: T) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    async with write_transaction(self._sessions) as session:
                        await self._write(session, [item for item, _ in batch])
                except Exception as error:
                    if len(batch) == 1:
                        _settle(batch[0][1], error)
                        continue
                    for item, done in batch:
                        try:
                            async with write_transaction(self._sessions) as session:
                                await self._write(session, [item])
                        except Exception as exc:  # this item's own failure, for its caller
                            _settle(done, exc)
                        else:
                            _settle(done, None)
                else:
                    for _, done in batch:
                        _settle(done, None)
        finally:
            self._draining = None


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # its caller gave up waiting (cancelled)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)

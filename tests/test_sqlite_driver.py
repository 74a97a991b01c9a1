"""storage.sqlite_driver: on SQLite, calls that cannot wait for a lock run on the event loop's
thread and calls that can wait run on aiosqlite's, so a wait never stops the other turns."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from storage import inbound, tenants
from storage.db import SessionMaker, make_engine, make_sessions, transaction, write_transaction


@pytest.fixture
async def sqlite(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[tuple[SessionMaker, Path]]:
    path = tmp_path / "qaloop.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    sessions = make_sessions(engine)
    await tenants.ensure(sessions=sessions, tenant_id="t1", timezone="Europe/London")
    yield sessions, path
    await engine.dispose()


@pytest.fixture
def to_thread(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls handed to aiosqlite's thread, by name."""
    handed: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(fn, "__name__", "?") + (f" {args[0].split()[0]}" if args else ""))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return handed


async def test_a_read_outside_a_write_runs_on_the_loop_s_thread(
    sqlite: tuple[SessionMaker, Path], to_thread: list[str]
) -> None:
    sessions, _ = sqlite
    async with sessions() as session:
        await session.connection()  # opening the connection itself is the thread's
        to_thread.clear()
        assert (await session.exec(text("SELECT count(*) FROM tenant"))).one() == (1,)
    assert to_thread == []


async def test_a_read_only_transaction_reads_and_commits_on_the_loop_s_thread(
    sqlite: tuple[SessionMaker, Path], to_thread: list[str]
) -> None:
    """A read-only turn (`my actions`) never waits for the thread: its COMMIT has no transaction
    to end. A transaction that wrote still commits on the thread (the next test)."""
    sessions, _ = sqlite
    async with sessions() as session:
        await session.connection()
    to_thread.clear()
    async with transaction(sessions) as session:
        assert (await session.exec(text("SELECT count(*) FROM tenant"))).one() == (1,)
    assert to_thread == []


async def test_a_writer_s_statements_run_here_but_taking_the_lock_and_commit_do_not(
    sqlite: tuple[SessionMaker, Path], to_thread: list[str]
) -> None:
    sessions, _ = sqlite
    async with sessions() as session:
        await session.connection()
    to_thread.clear()
    async with write_transaction(sessions) as session:
        for n in range(5):
            await inbound.claim_in(
                session, tenant_id="t1", conversation_id="c", activity_id=f"a{n}"
            )
    assert to_thread == ["execute BEGIN", "commit"]


async def test_a_first_write_in_a_plain_transaction_goes_to_the_thread(
    sqlite: tuple[SessionMaker, Path], to_thread: list[str]
) -> None:
    sessions, _ = sqlite
    async with transaction(sessions) as session:
        await session.connection()
        to_thread.clear()
        await inbound.claim_in(session, tenant_id="t1", conversation_id="c", activity_id="x")
        await session.exec(text("SELECT 1"))  # after a write: it may hold the lock, or want it
    assert to_thread[0] == "execute INSERT"
    assert to_thread[1:] == ["execute SELECT", "commit"]


async def test_waiting_for_another_process_s_write_lock_stops_no_other_turn(
    sqlite: tuple[SessionMaker, Path],
) -> None:
    """Another process (a CLI import, say) holds the write lock: a press waits for it on
    aiosqlite's thread while the loop goes on answering everything else."""
    sessions, path = sqlite
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def press() -> None:
        async with write_transaction(sessions) as session:
            await inbound.claim_in(session, tenant_id="t1", conversation_id="c", activity_id="p")

    ticker = asyncio.create_task(ticking())
    pressing = asyncio.create_task(press())
    await asyncio.sleep(0.3)
    assert not pressing.done()
    ticked_while_waiting = ticks
    other.execute("COMMIT")
    await asyncio.wait_for(pressing, 5)
    ticker.cancel()
    other.close()

    assert ticked_while_waiting >= 10  # the loop ran all the while (a blocked loop: 0)


async def test_a_writer_waiting_on_this_process_s_writer_does_not_deadlock(
    sqlite: tuple[SessionMaker, Path],
) -> None:
    """A press holds the write lock across an await; a plain transaction's first write waits on
    the thread for it, so the press can finish (on the loop's thread it would wait for ever)."""
    sessions, _ = sqlite
    order: list[str] = []

    async def press() -> None:
        async with write_transaction(sessions) as session:
            await inbound.claim_in(session, tenant_id="t1", conversation_id="c", activity_id="p1")
            await asyncio.sleep(0.2)
            order.append("press")

    async def other_write() -> None:
        await asyncio.sleep(0.05)
        async with transaction(sessions) as session:
            await inbound.claim_in(session, tenant_id="t1", conversation_id="c", activity_id="p2")
        order.append("other")

    await asyncio.wait_for(asyncio.gather(press(), other_write()), 10)
    assert order == ["press", "other"]

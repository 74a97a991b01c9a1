"""storage.db.GroupCommit: writes that turns make at the same moment share a transaction, each
caller returns once its own item is in the database, and one bad item fails only its caller."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage import inbound, tenants
from storage.db import GroupCommit, SessionMaker
from storage.models import InboundActivity


@pytest.fixture(autouse=True)
async def tenant(sessions: SessionMaker) -> None:
    await tenants.ensure(sessions=sessions, tenant_id="t1", timezone="Europe/London")


async def _stored(sessions: SessionMaker) -> set[str]:
    async with sessions() as session:
        rows = await session.exec(select(InboundActivity.activity_id))
        return set(rows.all())


def _writer(batches: list[int]) -> Any:
    async def write(session: Any, ids: list[str | None]) -> None:
        batches.append(len(ids))
        for activity_id in ids:
            await inbound.claim_in(
                session, tenant_id="t1", conversation_id="c1", activity_id=activity_id
            )

    return write


async def test_a_burst_of_writes_shares_transactions_and_each_waits_for_its_own(
    sessions: SessionMaker,
) -> None:
    batches: list[int] = []
    group = GroupCommit[str | None](sessions, _writer(batches))
    ids = [f"a{n}" for n in range(20)]

    await asyncio.gather(*(group.add(i) for i in ids))

    assert await _stored(sessions) == set(ids)
    assert sum(batches) == 20
    assert len(batches) < 20  # the first alone, the rest that arrived meanwhile together


async def test_one_bad_write_fails_its_own_caller_only(sessions: SessionMaker) -> None:
    batches: list[int] = []
    group = GroupCommit[str | None](sessions, _writer(batches))
    ids: list[str | None] = ["b1", "b2", None, "b3"]  # no activity id: NOT NULL refuses it

    results = await asyncio.gather(*(group.add(i) for i in ids), return_exceptions=True)

    assert [isinstance(r, IntegrityError) for r in results] == [False, False, True, False]
    assert await _stored(sessions) == {"b1", "b2", "b3"}
    async with sessions() as session:
        count = (await session.exec(select(func.count()).select_from(InboundActivity))).one()
    assert count == 3


async def test_a_single_write_is_one_transaction(sessions: SessionMaker) -> None:
    batches: list[int] = []
    group = GroupCommit[str | None](sessions, _writer(batches))
    await group.add("c1")
    await group.add("c2")
    assert batches == [1, 1]
    assert await _stored(sessions) == {"c1", "c2"}

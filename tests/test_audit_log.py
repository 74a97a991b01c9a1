"""The audit log is append-only in the database itself (migration 0007's triggers), on SQLite and
PostgreSQL: a row written by a press cannot be changed or removed, by QA Loop or anyone else
with a connection, except with its whole tenant (the demo council rebuilt)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from storage.db import SessionMaker
from storage.demo import DEMO_TENANT_ID, build_demo
from storage.models import AuditLog
from tests.chat import Chat, press
from tests.helpers import DUE, NOW, add_action, council_with_everyone, logged

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


CHANGES = [
    "UPDATE auditlog SET after = NULL WHERE event = 'action.done'",
    "UPDATE auditlog SET actor_id = NULL",
    "DELETE FROM auditlog WHERE event = 'action.done'",
    "DELETE FROM auditlog",
]


@pytest.mark.parametrize("change", CHANGES)
async def test_an_audit_log_row_cannot_be_changed_or_removed(
    change: str, chat: Chat, sessions: SessionMaker
) -> None:
    council = await council_with_everyone(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=DUE)
    assert action.id is not None
    await press(chat, {"action": "mark_done", "action_id": action.id, "note": "Done it"})
    [done] = await logged(sessions, "action.done")

    async with sessions() as session:
        with pytest.raises(DBAPIError, match="the audit log is append-only"):
            await session.exec(text(change))
        await session.rollback()

    [still] = await logged(sessions, "action.done")
    assert (still.id, still.actor_id, still.after) == (done.id, done.actor_id, done.after)


async def test_rebuilding_the_demo_council_erases_its_audit_log_with_it(
    sessions: SessionMaker,
) -> None:
    await build_demo(sessions=sessions, today=DUE)
    await build_demo(sessions=sessions, today=DUE)

    async with sessions() as session:
        count = select(func.count()).select_from(AuditLog)
        ours = (await session.exec(count.where(AuditLog.tenant_id == DEMO_TENANT_ID))).one()
        erasing = (await session.exec(text("SELECT count(*) FROM tenanterasure"))).one()
    assert ours > 0 and erasing == (0,)

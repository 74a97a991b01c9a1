"""Storage on SQLite and PostgreSQL: the migrated schema is the models, and queries keep to a tenant."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, select

from storage import actions, audits, conversations, staff
from storage.db import SessionMaker, make_engine, transaction
from storage.migrate import head_revision, schema_is_current
from storage.models import AuditLog
from tests.chat import ALEX
from tests.helpers import add_action, add_audit, small_council

OTHER_TENANT = "22222222-2222-2222-2222-222222222222"


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_the_migrated_schema_equals_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
        assert differences == []
        assert await schema_is_current(engine)
        assert head_revision() is not None
    finally:
        await engine.dispose()


async def test_my_open_actions_are_mine_and_in_my_tenant_only(sessions: SessionMaker) -> None:
    today = date.today()
    ours = await small_council(sessions)
    theirs = await small_council(sessions, tenant_id=OTHER_TENANT)
    await add_action(sessions, ours, owner="alex", what="later", due_on=today + timedelta(days=30))
    await add_action(
        sessions, ours, owner="alex", what="overdue", due_on=today - timedelta(days=10)
    )
    await add_action(sessions, ours, owner="alex", what="done already", due_on=today, state="done")
    await add_action(sessions, ours, owner="megan", what="not mine", due_on=today)
    await add_action(sessions, theirs, owner="alex", what="other council", due_on=today)

    async with sessions() as session:
        items, page, overdue = await actions.my_open_actions(
            session=session,
            tenant_id=ours.tenant_id,
            owner_id=ours.staff["alex"].id or 0,
            today=today,
            offset=0,
            size=10,
        )
        # Alex's row id in the other tenant must not leak across, even if asked for directly.
        leaked, _, _ = await actions.my_open_actions(
            session=session,
            tenant_id=ours.tenant_id,
            owner_id=theirs.staff["alex"].id or 0,
            today=today,
            offset=0,
            size=10,
        )

    assert [i.what for i in items] == ["overdue", "later"]
    assert page.total == 2 and overdue == 1
    assert items[0].due_status == "overdue" and items[0].case_ref == ours.cases[0].case_ref
    assert leaked == []


async def test_my_audits_puts_open_ones_first(sessions: SessionMaker) -> None:
    today = date.today()
    council = await small_council(sessions)
    await add_audit(
        sessions,
        council,
        auditor="alex",
        practitioner="megan",
        due_on=today - timedelta(days=40),
        state="completed",
    )
    await add_audit(
        sessions,
        council,
        auditor="alex",
        practitioner=None,
        due_on=today + timedelta(days=3),
        case_index=1,
    )
    await add_audit(
        sessions,
        council,
        auditor="megan",
        practitioner="alex",
        due_on=today - timedelta(days=1),
        case_index=2,
    )
    await add_audit(
        sessions, council, auditor="alex", practitioner=None, due_on=today, state="cancelled"
    )

    async with sessions() as session:
        items, page = await audits.my_audits(
            session=session,
            tenant_id=council.tenant_id,
            person_id=council.staff["alex"].id or 0,
            today=today,
            offset=0,
            size=10,
        )

    assert page.total == 3
    assert [(i.state, i.my_part) for i in items] == [
        ("assigned", "practitioner"),
        ("assigned", "auditor"),
        ("completed", "auditor"),
    ]
    assert items[0].overdue and not items[1].overdue
    assert items[0].other_person == "Megan Bowen"


async def test_an_id_is_bound_by_email_only_within_the_tenant(sessions: SessionMaker) -> None:
    await small_council(sessions)
    async with sessions() as session:
        found = await staff.recognise(
            session=session, tenant_id=OTHER_TENANT, aad_object_id=ALEX.aad, email=ALEX.email
        )
    assert found is None


async def test_two_turns_storing_one_new_chat_at_once_both_succeed(sessions: SessionMaker) -> None:
    """Teams sends the install event and the first message together; neither turn may fail."""
    council = await small_council(sessions)
    alex = council.staff["alex"]

    async def store(service_url: str) -> tuple[int, bool]:
        async with transaction(sessions) as session:
            saved = await conversations.save_reference(
                session=session,
                tenant_id=council.tenant_id,
                conversation_id="a:new-chat",
                conversation_type="personal",
                service_url=service_url,
                reference={"serviceUrl": service_url},
                staff_id=alex.id,
            )
            return saved.row.id or 0, saved.first_for_person

    (first, new_to_one), (second, new_to_other) = await asyncio.gather(
        store("https://smba.trafficmanager.net/uk/"), store("https://smba.trafficmanager.net/uk/")
    )
    assert first == second
    # Only one of them says the chat is new, so only one turn may send a late joiner's card.
    assert sorted([new_to_one, new_to_other]) == [False, True]
    async with sessions() as session:
        found = await conversations.personal_reference(
            session=session, tenant_id=council.tenant_id, staff_id=alex.id or 0
        )
        stored = (
            await session.exec(select(AuditLog).where(AuditLog.event == "conversation.stored"))
        ).all()
    assert found is not None and found.id == first
    assert len(stored) == 1

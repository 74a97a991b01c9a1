"""Migrations that change data, checked on both backends: down to the revision before, rows as
the older code wrote them, then up again."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from storage.db import SessionMaker, make_engine, transaction
from storage.migrate import alembic_config
from storage.models import (
    Action,
    Audit,
    CalibrationExercise,
    CalibrationResponse,
    Moderation,
    ModerationGrade,
)
from tests.helpers import add_action, add_assigned_audit, audit_council, small_council


async def migrate(database_url: str, step: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def test_0004_moves_the_visit_day_out_of_the_note_onto_the_audit(
    database_url: str, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    recorded = datetime(2026, 11, 25, 10, 2, tzinfo=UTC)
    rows = {}
    for key, source, note, done_at in (
        # As bot.inadequate wrote a visit recorded with its form before 0004.
        ("with note", "child_visit", "Visited on Mon 23 Nov 2026: Seen alone at school", recorded),
        ("day only", "child_visit", "Visited on Tue 24 Nov 2026", recorded),
        # Marked done from the daily card: no day given, so the day it was marked done.
        ("marked done", "child_visit", "Visited", recorded),
        ("not yet", "child_visit", None, None),
        # Not a visit: its note is the owner's and stays as it is.
        ("other", "audit", "Visited on Mon 23 Nov 2026: the plan is updated", recorded),
    ):
        action = await add_action(
            sessions, council, owner="alex", what=key, due_on=date(2026, 11, 24)
        )
        async with transaction(sessions) as session:
            row = await session.get(Action, action.id)
            assert row is not None
            row.source, row.done_note, row.done_at = source, note, done_at
            row.state = "done" if done_at else "open"
            session.add(row)
        rows[key] = action.id or 0
    await migrate(database_url, "downgrade", "0003")

    await migrate(database_url, "upgrade", "head")

    async with sessions() as session:
        found = {
            action.what: (action.done_note, audit.visited_on)
            for action, audit in (
                await session.exec(
                    select(Action, Audit)
                    .where(col(Action.audit_id) == col(Audit.id))
                    .where(col(Action.id).in_(rows.values()))
                )
            ).all()
        }
    assert found == {
        "with note": ("Seen alone at school", date(2026, 11, 23)),
        "day only": (None, date(2026, 11, 24)),
        "marked done": ("Visited", date(2026, 11, 25)),
        "not yet": (None, None),
        "other": ("Visited on Mon 23 Nov 2026: the plan is updated", None),
    }


async def test_0017_adds_blind_grades_and_exercises_and_keeps_moderations(
    database_url: str, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    audit = await add_assigned_audit(
        sessions, council, auditor="alex", due_on=date(2026, 11, 20), state="moderated"
    )
    decided = datetime(2026, 11, 25, 10, 2, tzinfo=UTC)
    async with transaction(sessions) as session:
        # As moderation was before it was blind: agree / disagree only.
        session.add(
            Moderation(
                tenant_id=council.tenant_id,
                audit_id=audit.id or 0,
                moderator_id=council.id("patti"),
                month="2026-11",
                agreement={"heart": True, "overall": False},
                decided_at=decided,
            )
        )
    await migrate(database_url, "downgrade", "0015")

    await migrate(database_url, "upgrade", "head")

    async with transaction(sessions) as session:
        [moderation] = (await session.exec(select(Moderation))).all()
        assert moderation.agreement == {"heart": True, "overall": False}
        assert moderation.decided_at == decided
        assert (await session.exec(select(ModerationGrade))).all() == []
        session.add(
            ModerationGrade(
                tenant_id=council.tenant_id,
                moderation_id=moderation.id or 0,
                judgement="heart",
                auditor_grade="good",
                moderator_grade="good",
            )
        )
        exercise = CalibrationExercise(
            tenant_id=council.tenant_id, summary="A boy, 9", created_by=council.id("patti")
        )
        session.add(exercise)
        await session.flush()
        session.add(
            CalibrationResponse(
                tenant_id=council.tenant_id,
                exercise_id=exercise.id or 0,
                auditor_id=council.id("alex"),
            )
        )

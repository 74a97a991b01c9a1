"""Queries behind calibration: the pairs of grades blind moderation made, and QA's calibration
exercises with each auditor's grades."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import Standard
from bot.rules.roles import Role
from storage import audit_log
from storage.db import locked
from storage.models import (
    Audit,
    CalibrationExercise,
    CalibrationResponse,
    Moderation,
    ModerationGrade,
    Staff,
)
from storage.staff import holds


@dataclass(frozen=True, slots=True)
class Pair:
    """One judgement of one decided blind moderation, where the auditor gave a grade."""

    auditor_id: int
    judgement: str
    auditor_grade: str
    moderator_grade: str


async def pairs(*, session: AsyncSession, tenant_id: str, since: datetime) -> list[Pair]:
    """Every pair from moderations decided since `since`, by auditor then judgement."""
    rows = await session.exec(
        select(ModerationGrade, Audit.auditor_id)
        .join(
            Moderation,
            and_(
                col(Moderation.id) == col(ModerationGrade.moderation_id),
                col(Moderation.tenant_id) == tenant_id,
            ),
        )
        .join(
            Audit,
            and_(col(Audit.id) == col(Moderation.audit_id), col(Audit.tenant_id) == tenant_id),
        )
        .where(
            ModerationGrade.tenant_id == tenant_id,
            col(Moderation.decided_at) >= since,
            col(ModerationGrade.auditor_grade).is_not(None),
        )
        .order_by(col(Audit.auditor_id), col(ModerationGrade.id))
    )
    return [
        Pair(auditor_id, row.judgement, row.auditor_grade or "", row.moderator_grade)
        for row, auditor_id in rows.all()
    ]


async def auditors(*, session: AsyncSession, tenant_id: str) -> list[Staff]:
    """Active staff who audit, by id."""
    rows = await session.exec(
        select(Staff)
        .where(
            Staff.tenant_id == tenant_id,
            col(Staff.active).is_(True),
            holds(Role.AUDITOR),
        )
        .order_by(col(Staff.id))
    )
    return list(rows.all())


async def create_exercise(
    session: AsyncSession,
    *,
    tenant_id: str,
    summary: str,
    created_by: int,
    auditor_ids: Sequence[int],
    now: datetime,
) -> CalibrationExercise:
    """The exercise and a response awaited from each auditor, with their log rows."""
    exercise = CalibrationExercise(
        tenant_id=tenant_id, summary=summary, created_by=created_by, created_at=now
    )
    session.add(exercise)
    await session.flush()
    assert exercise.id is not None
    session.add_all(
        CalibrationResponse(tenant_id=tenant_id, exercise_id=exercise.id, auditor_id=auditor_id)
        for auditor_id in auditor_ids
    )
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=created_by,
        event="calibration.sent",
        entity="calibration_exercise",
        entity_id=exercise.id,
        after={"auditors": sorted(auditor_ids), "created_at": now.isoformat()},
    )
    return exercise


async def exercise_of(
    *, session: AsyncSession, tenant_id: str, exercise_id: int
) -> CalibrationExercise | None:
    return (
        await session.exec(
            select(CalibrationExercise).where(
                CalibrationExercise.tenant_id == tenant_id, CalibrationExercise.id == exercise_id
            )
        )
    ).first()


async def latest_exercise(*, session: AsyncSession, tenant_id: str) -> CalibrationExercise | None:
    return (
        await session.exec(
            select(CalibrationExercise)
            .where(CalibrationExercise.tenant_id == tenant_id)
            .order_by(col(CalibrationExercise.id).desc())
            .limit(1)
        )
    ).first()


async def response_of(
    *, session: AsyncSession, tenant_id: str, exercise_id: int, auditor_id: int
) -> CalibrationResponse | None:
    """The auditor's response to the exercise, locked: it was sent to them, or None."""
    query = select(CalibrationResponse).where(
        CalibrationResponse.tenant_id == tenant_id,
        CalibrationResponse.exercise_id == exercise_id,
        CalibrationResponse.auditor_id == auditor_id,
    )
    return (await session.exec(await locked(session, query))).first()


def record_grades(
    session: AsyncSession,
    response: CalibrationResponse,
    *,
    grades: Mapping[str, str],
    actor_id: int,
    now: datetime,
) -> None:
    for standard in Standard:
        setattr(response, f"grade_{standard.value}", grades[standard.value])
    response.graded_at = now
    session.add(response)
    audit_log.record(
        session,
        tenant_id=response.tenant_id,
        actor_id=actor_id,
        event="calibration.graded",
        entity="calibration_response",
        entity_id=response.id,
        after={
            "exercise_id": response.exercise_id,
            "grades": dict(grades),
            "graded_at": now.isoformat(),
        },
    )


@dataclass(frozen=True, slots=True)
class Spread:
    sent: int
    graded: int
    # Standard key → grade → how many auditors gave it.
    counts: Mapping[str, Mapping[str, int]]


async def spread(*, session: AsyncSession, tenant_id: str, exercise_id: int) -> Spread:
    """How the auditors graded the exercise, standard by standard."""
    where = (
        CalibrationResponse.tenant_id == tenant_id,
        CalibrationResponse.exercise_id == exercise_id,
    )
    sent = (
        await session.exec(select(func.count()).select_from(CalibrationResponse).where(*where))
    ).one()
    graded = (
        await session.exec(
            select(func.count())
            .select_from(CalibrationResponse)
            .where(*where, col(CalibrationResponse.graded_at).is_not(None))
        )
    ).one()
    counts: dict[str, dict[str, int]] = {}
    for standard in Standard:
        column = col(getattr(CalibrationResponse, f"grade_{standard.value}"))
        rows = await session.exec(
            select(column, func.count()).where(*where, column.is_not(None)).group_by(column)
        )
        counts[standard.value] = {grade: n for grade, n in rows.all()}
    return Spread(sent=sent, graded=graded, counts=counts)

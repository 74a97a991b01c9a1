"""The digest's counts: a few aggregate queries, grouped by team in the database, for one period.

bot.rules.digest adds the teams up into a team's, a service's or everyone's figures. No query here
returns a case reference.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.digest import (
    COMPLETED,
    GOOD_OR_BETTER,
    GRADES,
    JUDGEMENTS,
    NOT_DUE,
    OVERALL,
    RATINGS,
    STANDARDS,
    ActionCount,
    ComplianceCount,
    Counts,
    FeedbackCount,
    GradeCount,
    InadequateAudit,
    ModerationCount,
    OverduePoint,
    Override,
    Period,
    TeamRow,
    TrendCount,
    bounds,
    local_start,
    next_month,
    on_time_cutoffs,
    trend_window,
)
from bot.rules.grades import ActionState, Grade
from bot.rules.roles import Role
from storage.inadequate import MEETING, VISIT
from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    Feedback,
    FeedbackVersion,
    Moderation,
    Staff,
    Team,
    UTCDateTime,
)


def _grade_column(key: str) -> Any:
    return getattr(Audit, "overall_grade" if key == OVERALL else f"grade_{key}")


def _in_teams(column: Any, team_ids: Collection[int] | None) -> list[ColumnElement[bool]]:
    return [] if team_ids is None else [col(column).in_(sorted(team_ids))]


async def _all(session: AsyncSession, query: sa.Executable) -> Sequence[Any]:
    """Plain rows through the connection: counts and columns, never ORM objects."""
    result = await (await session.connection()).execute(query)
    rows: Sequence[Any] = result.all()
    return rows


def _at(value: datetime) -> Any:
    """A UTC timestamp bound as the column type stores it (SQLite compares the stored text)."""
    return sa.literal(value, UTCDateTime())


class _Where(TypedDict):
    tenant_id: str
    period: Period
    zone: ZoneInfo
    team_ids: Collection[int] | None


async def teams(*, session: AsyncSession, tenant_id: str) -> list[TeamRow]:
    rows = await _all(
        session,
        sa.select(col(Team.id), col(Team.name), col(Team.service_id))
        .where(col(Team.tenant_id) == tenant_id)
        .order_by(col(Team.name)),
    )
    return [TeamRow(team_id, name, service_id) for team_id, name, service_id in rows if team_id]


async def counts(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    overdue: OverduePoint,
    team_ids: Collection[int] | None = None,
) -> Counts:
    """Every count the digest needs for `period`, by team; only `team_ids` if given."""
    window = trend_window(period)
    where = _Where(tenant_id=tenant_id, period=period, zone=zone, team_ids=team_ids)
    return Counts(
        period=period,
        trend_months=window,
        teams=await teams(session=session, tenant_id=tenant_id),
        compliance=await compliance(session=session, **where),
        grades=await grades(session=session, **where),
        trend=await trend(session=session, **where),
        inadequate=await inadequate(session=session, **where),
        actions=await actions(session=session, overdue=overdue, **where),
        feedback=await feedback(session=session, **where),
        moderation=await moderation(session=session, **where),
        overrides=await overrides(session=session, **where),
    )


async def compliance(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[ComplianceCount]:
    """Audits due in the period, bar cancelled and declined; on time: completed by the end of the
    due date, local time."""
    cutoffs = on_time_cutoffs(period, zone)
    late_from = sa.case({day: _at(cutoff) for day, cutoff in cutoffs.items()}, value=Audit.due_on)
    completed = col(Audit.state).in_(COMPLETED)
    rows = await _all(
        session,
        sa.select(
            col(Audit.team_id),
            func.count(),
            func.count().filter(completed, col(Audit.completed_at) < late_from),
            func.count().filter(completed),
        )
        .where(
            col(Audit.tenant_id) == tenant_id,
            col(Audit.due_on) >= period.start,
            col(Audit.due_on) <= period.end,
            col(Audit.state).not_in(NOT_DUE),
            *_in_teams(Audit.team_id, team_ids),
        )
        .group_by(col(Audit.team_id)),
    )
    return [ComplianceCount(team, due, on_time, done) for team, due, on_time, done in rows]


def _completed_between(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        col(Audit.state).in_(COMPLETED),
        col(Audit.completed_at) >= _at(start),
        col(Audit.completed_at) < _at(end),
    ]


async def grades(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[GradeCount]:
    """Audits completed in the period by grade: overall and each standard."""
    start, end = bounds(period, zone)
    keys = [(key, grade) for key in JUDGEMENTS for grade in GRADES]
    columns = [func.count().filter(_grade_column(key) == grade.value) for key, grade in keys]
    rows = await _all(
        session,
        sa.select(col(Audit.team_id), *columns)
        .where(
            col(Audit.tenant_id) == tenant_id,
            *_completed_between(start, end),
            *_in_teams(Audit.team_id, team_ids),
        )
        .group_by(col(Audit.team_id)),
    )
    result = []
    for team_id, *values in rows:
        by_key: dict[str, dict[str, int]] = {key: {} for key in JUDGEMENTS}
        for (key, grade), count in zip(keys, values, strict=True):
            by_key[key][grade] = count
        result.append(GradeCount(team_id, by_key))
    return result


async def trend(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[TrendCount]:
    """Graded and good-or-better audits for each month of the six ending with the period's last."""
    window = trend_window(period)
    starts = [local_start(first, zone) for first in window]
    end = local_start(next_month(window[-1]), zone)
    month_index = sa.case(
        *((col(Audit.completed_at) < _at(s), n - 1) for n, s in enumerate(starts[1:], 1)),
        else_=len(window) - 1,
    )
    good = col(Audit.overall_grade).in_([g.value for g in GOOD_OR_BETTER])
    rows = await _all(
        session,
        sa.select(
            col(Audit.team_id),
            month_index,
            func.count().filter(col(Audit.overall_grade).is_not(None)),
            func.count().filter(good),
        )
        .where(
            col(Audit.tenant_id) == tenant_id,
            *_completed_between(starts[0], end),
            *_in_teams(Audit.team_id, team_ids),
        )
        .group_by(col(Audit.team_id), month_index),
    )
    return [TrendCount(team, window[index], graded, g) for team, index, graded, g in rows]


async def inadequate(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[InadequateAudit]:
    """Audits completed in the period graded inadequate or with risk identified (a child visit
    due, at any grade): the meeting's due date and day held, and the visit's due date and day.
    A meeting or visit marked done from a list rather than recorded with its form counts the
    day it was marked done."""
    start, end = bounds(period, zone)
    meeting, visit = aliased(Action), aliased(Action)

    def tracked(step: Any, source: str) -> ColumnElement[bool]:
        return and_(
            col(step.audit_id) == col(Audit.id),
            col(step.tenant_id) == tenant_id,
            col(step.source) == source,
        )

    rows = await _all(
        session,
        sa.select(
            col(Audit.team_id),
            col(Audit.completed_at),
            col(Audit.meeting_due_on),
            col(ActionMeeting.held_on),
            col(meeting.done_at),
            col(Audit.visit_due_on),
            col(Audit.visited_on),
            col(visit.done_at),
            col(visit.state),
            col(Audit.overall_grade) == Grade.INADEQUATE,
        )
        .outerjoin(
            ActionMeeting,
            and_(
                col(ActionMeeting.audit_id) == col(Audit.id),
                col(ActionMeeting.tenant_id) == tenant_id,
            ),
        )
        .outerjoin(meeting, tracked(meeting, MEETING))
        .outerjoin(visit, tracked(visit, VISIT))
        .where(
            col(Audit.tenant_id) == tenant_id,
            or_(col(Audit.overall_grade) == Grade.INADEQUATE, col(Audit.visit_due_on).is_not(None)),
            *_completed_between(start, end),
            *_in_teams(Audit.team_id, team_ids),
        ),
    )

    def day(moment: datetime | None) -> date | None:
        return moment.astimezone(zone).date() if moment else None

    return [
        InadequateAudit(
            team,
            completed.astimezone(zone).date(),
            due,
            held or day(meeting_done),
            # A visit called off (the audit's actions were cancelled) was not due after all.
            None if state == ActionState.CANCELLED else visit_due,
            visited or day(visit_done),
            bool(graded_inadequate),
        )
        for (
            team,
            completed,
            due,
            held,
            meeting_done,
            visit_due,
            visited,
            visit_done,
            state,
            graded_inadequate,
        ) in rows
        if completed is not None
    ]


async def actions(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    overdue: OverduePoint,
    team_ids: Collection[int] | None = None,
) -> list[ActionCount]:
    """By the owner's team: opened and done in the period, and overdue at `overdue`."""
    start, end = bounds(period, zone)
    cutoff = _at(overdue.cutoff)
    opened = and_(col(Action.created_at) >= _at(start), col(Action.created_at) < _at(end))
    closed = and_(col(Action.done_at) >= _at(start), col(Action.done_at) < _at(end))
    late = and_(
        col(Action.due_on) < overdue.as_of,
        col(Action.created_at) < cutoff,
        or_(col(Action.done_at).is_(None), col(Action.done_at) >= cutoff),
        or_(col(Action.cancelled_at).is_(None), col(Action.cancelled_at) >= cutoff),
        # A cancelled action whose time was not recorded is not overdue either.
        or_(col(Action.state) != "cancelled", col(Action.cancelled_at).is_not(None)),
    )
    rows = await _all(
        session,
        sa.select(
            col(Staff.team_id),
            func.count().filter(opened),
            func.count().filter(closed),
            func.count().filter(late),
        )
        .select_from(Action)
        .join(
            Staff,
            and_(col(Staff.id) == col(Action.owner_id), col(Staff.tenant_id) == tenant_id),
        )
        .where(
            col(Action.tenant_id) == tenant_id,
            col(Staff.team_id).is_not(None),
            or_(opened, closed, late),
            *_in_teams(Staff.team_id, team_ids),
        )
        .group_by(col(Staff.team_id)),
    )
    return [ActionCount(team or 0, o, c, d) for team, o, c, d in rows]


async def feedback(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[FeedbackCount]:
    """Audits completed in the period with a practitioner; responses, and their latest ratings."""
    start, end = bounds(period, zone)
    later = aliased(FeedbackVersion)
    latest = (
        sa.select(func.max(col(later.version)))
        .where(col(later.feedback_id) == col(Feedback.id))
        .correlate(Feedback)
        .scalar_subquery()
    )
    rating_columns = [getattr(FeedbackVersion, name) for name in RATINGS]
    rows = await _all(
        session,
        sa.select(
            col(Audit.team_id),
            func.count(),
            func.count(col(FeedbackVersion.id)),
            *(func.coalesce(func.sum(c), 0) for c in rating_columns),
        )
        .select_from(Audit)
        .outerjoin(
            Feedback,
            and_(col(Feedback.audit_id) == col(Audit.id), col(Feedback.tenant_id) == tenant_id),
        )
        .outerjoin(
            FeedbackVersion,
            and_(
                col(FeedbackVersion.feedback_id) == col(Feedback.id),
                col(FeedbackVersion.tenant_id) == tenant_id,
                col(FeedbackVersion.version) == latest,
            ),
        )
        .where(
            col(Audit.tenant_id) == tenant_id,
            col(Audit.practitioner_id).is_not(None),
            *_completed_between(start, end),
            *_in_teams(Audit.team_id, team_ids),
        )
        .group_by(col(Audit.team_id)),
    )
    return [
        FeedbackCount(team, audits, responses, dict(zip(RATINGS, sums, strict=True)))
        for team, audits, responses, *sums in rows
    ]


async def moderation(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[ModerationCount]:
    """Moderations decided in the period: agreements and judgements, by team and auditor."""
    start, end = bounds(period, zone)
    agreement: Any = col(Moderation.agreement)
    columns = []
    for key in JUDGEMENTS:
        said = agreement[key].as_boolean()
        columns += [func.count().filter(said.is_(True)), func.count().filter(said.is_not(None))]
    rows = await _all(
        session,
        sa.select(col(Audit.team_id), col(Audit.auditor_id), col(Staff.display_name), *columns)
        .select_from(Moderation)
        .join(
            Audit,
            and_(col(Audit.id) == col(Moderation.audit_id), col(Audit.tenant_id) == tenant_id),
        )
        .join(
            Staff, and_(col(Staff.id) == col(Audit.auditor_id), col(Staff.tenant_id) == tenant_id)
        )
        .where(
            col(Moderation.tenant_id) == tenant_id,
            col(Moderation.agreement).is_not(None),
            col(Moderation.decided_at) >= _at(start),
            col(Moderation.decided_at) < _at(end),
            *_in_teams(Audit.team_id, team_ids),
        )
        .group_by(col(Audit.team_id), col(Audit.auditor_id), col(Staff.display_name)),
    )
    result = []
    for team_id, auditor_id, name, *values in rows:
        agreed = dict(zip(JUDGEMENTS, values[0::2], strict=True))
        judged = dict(zip(JUDGEMENTS, values[1::2], strict=True))
        result.append(ModerationCount(team_id, auditor_id, name, agreed, judged))
    return result


async def overrides(
    *,
    session: AsyncSession,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> list[Override]:
    """Audits completed in the period with an inadequate standard and a better overall grade."""
    start, end = bounds(period, zone)
    standard_columns = [_grade_column(s.value) for s in STANDARDS]
    rows = await _all(
        session,
        sa.select(
            col(Audit.id),
            col(Audit.team_id),
            col(Staff.display_name),
            col(Audit.overall_grade),
            *standard_columns,
        )
        .join(
            Staff, and_(col(Staff.id) == col(Audit.auditor_id), col(Staff.tenant_id) == tenant_id)
        )
        .where(
            col(Audit.tenant_id) == tenant_id,
            *_completed_between(start, end),
            col(Audit.overall_grade).is_not(None),
            col(Audit.overall_grade) != Grade.INADEQUATE,
            or_(*(c == Grade.INADEQUATE for c in standard_columns)),
            *_in_teams(Audit.team_id, team_ids),
        )
        .order_by(col(Audit.id)),
    )
    return [
        Override(
            audit_id or 0,
            team_id,
            name,
            overall or "",
            tuple(s.value for s, g in zip(STANDARDS, grades, strict=True) if g == Grade.INADEQUATE),
        )
        for audit_id, team_id, name, overall, *grades in rows
    ]


# --- who gets it --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamManager:
    staff_id: int
    name: str
    team_id: int


async def team_managers(*, session: AsyncSession, tenant_id: str) -> list[TeamManager]:
    """Active team managers with a team, by name."""
    rows = await _all(
        session,
        sa.select(col(Staff.id), col(Staff.display_name), col(Staff.team_id), col(Staff.roles))
        .where(
            col(Staff.tenant_id) == tenant_id,
            col(Staff.active).is_(True),
            col(Staff.team_id).is_not(None),
            col(Staff.roles).contains(Role.TEAM_MANAGER.value),
        )
        .order_by(col(Staff.display_name), col(Staff.id)),
    )
    return [
        TeamManager(staff_id or 0, name, team_id or 0)
        for staff_id, name, team_id, roles in rows
        if Role.TEAM_MANAGER in roles.split()
    ]

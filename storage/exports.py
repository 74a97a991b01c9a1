"""Queries behind `qaloop export`: the QA tracker's records one row at a time, streamed from a
server-side cursor (PostgreSQL) or fetched in batches (SQLite), never all held at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select
from sqlmodel import col, func
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    Case,
    Feedback,
    FeedbackVersion,
    Moderation,
    Service,
    Staff,
    Team,
    UTCDateTime,
)

Kind = Literal["audits", "actions", "feedback", "moderation"]
KINDS: tuple[Kind, ...] = ("audits", "actions", "feedback", "moderation")
# Rows fetched from the database at a time: big enough to be quick, small enough to stay flat.
BATCH = 2_000


def _changed(model: Any) -> sa.ColumnElement[datetime]:
    """When the row last changed: updated_at, or created_at for rows written without it."""
    return func.coalesce(col(model.updated_at), col(model.created_at), type_=UTCDateTime)


def _audits(tenant_id: str) -> tuple[Select[*tuple[Any, ...]], sa.ColumnElement[datetime]]:
    auditor, practitioner = aliased(Staff), aliased(Staff)
    changed = _changed(Audit)
    query: Select[*tuple[Any, ...]] = (
        sa.select(
            col(Audit.id).label("audit_id"),
            col(Case.case_ref),
            col(Audit.kind),
            col(Audit.theme),
            col(Service.name).label("service"),
            col(Team.name).label("team"),
            col(Audit.state),
            col(auditor.display_name).label("auditor"),
            col(auditor.email).label("auditor_email"),
            col(practitioner.display_name).label("practitioner"),
            col(practitioner.email).label("practitioner_email"),
            col(Audit.due_on),
            col(Audit.completed_at),
            col(Audit.grade_heart),
            col(Audit.grade_assessment),
            col(Audit.grade_plans),
            col(Audit.grade_records),
            col(Audit.grade_oversight),
            col(Audit.grade_strengths),
            col(Audit.overall_grade),
            col(Audit.risk_identified),
            col(Audit.meeting_due_on),
            col(ActionMeeting.held_on).label("meeting_held_on"),
            col(Audit.visit_due_on),
            col(Audit.visited_on),
            changed.label("changed_at"),
        )
        .select_from(Audit)
        .join(Case, col(Case.id) == col(Audit.case_id))
        .join(Team, col(Team.id) == col(Audit.team_id))
        .join(Service, col(Service.id) == col(Team.service_id))
        .join(auditor, col(auditor.id) == col(Audit.auditor_id))
        .outerjoin(practitioner, col(practitioner.id) == col(Audit.practitioner_id))
        .outerjoin(ActionMeeting, col(ActionMeeting.audit_id) == col(Audit.id))
        .where(col(Audit.tenant_id) == tenant_id)
        .order_by(col(Audit.id))
    )
    return query, changed


def _actions(tenant_id: str) -> tuple[Select[*tuple[Any, ...]], sa.ColumnElement[datetime]]:
    owner = aliased(Staff)
    changed = _changed(Action)
    query: Select[*tuple[Any, ...]] = (
        sa.select(
            col(Action.id).label("action_id"),
            col(Action.audit_id),
            col(Case.case_ref),
            col(Team.name).label("team"),
            col(Action.source),
            col(Action.standard),
            col(Action.what),
            col(Action.measure),
            col(owner.display_name).label("owner"),
            col(owner.email).label("owner_email"),
            col(Action.due_on),
            col(Action.state),
            col(Action.created_at),
            col(Action.done_at),
            col(Action.confirmed_at),
            col(Action.cancelled_at),
            changed.label("changed_at"),
        )
        .select_from(Action)
        .join(owner, col(owner.id) == col(Action.owner_id))
        .outerjoin(Audit, col(Audit.id) == col(Action.audit_id))
        .outerjoin(Case, col(Case.id) == col(Audit.case_id))
        .outerjoin(Team, col(Team.id) == col(Audit.team_id))
        .where(col(Action.tenant_id) == tenant_id)
        .order_by(col(Action.id))
    )
    return query, changed


def _feedback(tenant_id: str) -> tuple[Select[*tuple[Any, ...]], sa.ColumnElement[datetime]]:
    latest = (
        sa.select(func.max(col(FeedbackVersion.version)))
        .where(col(FeedbackVersion.feedback_id) == col(Feedback.id))
        .correlate(Feedback)
        .scalar_subquery()
    )
    practitioner = aliased(Staff)
    changed = sa.type_coerce(col(FeedbackVersion.submitted_at), UTCDateTime)
    query: Select[*tuple[Any, ...]] = (
        sa.select(
            col(Feedback.id).label("feedback_id"),
            col(Feedback.audit_id),
            col(Case.case_ref),
            col(Team.name).label("team"),
            col(practitioner.display_name).label("practitioner"),
            col(practitioner.email).label("practitioner_email"),
            col(FeedbackVersion.version),
            col(FeedbackVersion.involved),
            col(FeedbackVersion.helped_see_good),
            col(FeedbackVersion.understand_grade),
            col(FeedbackVersion.actions_clear),
            col(Feedback.created_at).label("first_given_at"),
            changed.label("changed_at"),
        )
        .select_from(Feedback)
        .join(
            FeedbackVersion,
            sa.and_(
                col(FeedbackVersion.feedback_id) == col(Feedback.id),
                col(FeedbackVersion.version) == latest,
            ),
        )
        .join(Audit, col(Audit.id) == col(Feedback.audit_id))
        .join(Case, col(Case.id) == col(Audit.case_id))
        .join(Team, col(Team.id) == col(Audit.team_id))
        .join(practitioner, col(practitioner.id) == col(Feedback.practitioner_id))
        .where(col(Feedback.tenant_id) == tenant_id)
        .order_by(col(Feedback.id))
    )
    return query, changed


def _moderation(tenant_id: str) -> tuple[Select[*tuple[Any, ...]], sa.ColumnElement[datetime]]:
    moderator, auditor = aliased(Staff), aliased(Staff)
    changed = _changed(Moderation)
    query: Select[*tuple[Any, ...]] = (
        sa.select(
            col(Moderation.id).label("moderation_id"),
            col(Moderation.audit_id),
            col(Case.case_ref),
            col(Team.name).label("team"),
            col(Moderation.month),
            col(auditor.display_name).label("auditor"),
            col(moderator.display_name).label("moderator"),
            col(moderator.email).label("moderator_email"),
            col(Moderation.agreement),
            col(Moderation.created_at).label("sampled_at"),
            col(Moderation.decided_at),
            changed.label("changed_at"),
        )
        .select_from(Moderation)
        .join(Audit, col(Audit.id) == col(Moderation.audit_id))
        .join(Case, col(Case.id) == col(Audit.case_id))
        .join(Team, col(Team.id) == col(Audit.team_id))
        .join(auditor, col(auditor.id) == col(Audit.auditor_id))
        .join(moderator, col(moderator.id) == col(Moderation.moderator_id))
        .where(col(Moderation.tenant_id) == tenant_id)
        .order_by(col(Moderation.id))
    )
    return query, changed


_QUERIES = {
    "audits": _audits,
    "actions": _actions,
    "feedback": _feedback,
    "moderation": _moderation,
}


def _query(kind: Kind, tenant_id: str, since: datetime | None) -> Select[*tuple[Any, ...]]:
    query, changed = _QUERIES[kind](tenant_id)
    if since is not None:
        query = query.where(changed >= since)
    return query


def column_names(kind: Kind) -> list[str]:
    """The names of the columns `records` yields for `kind`, in order."""
    query, _ = _QUERIES[kind]("")
    return [str(c.key) for c in query.selected_columns]


async def count(
    *, session: AsyncSession, kind: Kind, tenant_id: str, since: datetime | None
) -> int:
    """How many rows `records` will yield (for the progress bar)."""
    inner = _query(kind, tenant_id, since).order_by(None).subquery()
    connection = await session.connection()
    return int((await connection.execute(sa.select(func.count()).select_from(inner))).scalar_one())


async def records(
    *, session: AsyncSession, kind: Kind, tenant_id: str, since: datetime | None
) -> AsyncIterator[sa.Row[Any]]:
    """Every record of `kind` in the tenant changed on or after `since`, in id order, streamed."""
    # Core, not the ORM: rows of plain columns need none of its loading (a sixth of the time).
    connection = await session.connection()
    result = await connection.stream(
        _query(kind, tenant_id, since).execution_options(yield_per=BATCH)
    )
    async for batch in result.partitions():
        for row in batch:
            yield row

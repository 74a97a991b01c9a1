"""Queries and changes for re-audits (bot.rules.reaudit decides): the tenant's setting, the
re-audit of an audit, why one was not made, and the inadequate cases `inadequate` lists."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.evidence import ReauditGroup, TrackedGroup
from bot.rules.grades import (
    ACTION_MEETING,
    CHILD_VISIT,
    DONE_AUDIT_STATES,
    AuditState,
    Grade,
    Standard,
)
from bot.rules.reaudit import DEFAULT_POLICY, Policy, policy_problem
from storage import audit_log
from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    AuditLog,
    Case,
    Staff,
    Team,
    Tenant,
    UTCDateTime,
)

NOT_SCHEDULED = "reaudit.not_scheduled"


async def policy(*, session: AsyncSession, tenant_id: str) -> Policy:
    """The tenant's re-audit setting; the framework's for a tenant not yet stored."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None or policy_problem(tenant.reaudit_months):
        return DEFAULT_POLICY
    return Policy(tenant.reaudit_months, tenant.reaudit_requires_improvement)


async def set_policy(
    session: AsyncSession, *, tenant_id: str, chosen: Policy, actor_id: int | None
) -> bool:
    """Store the setting, audit-logged; False if there is no such tenant."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return False

    def shown(t: Tenant) -> dict[str, Any]:
        return {
            "reaudit_months": t.reaudit_months,
            "reaudit_requires_improvement": t.reaudit_requires_improvement,
        }

    before = shown(tenant)
    tenant.reaudit_months = chosen.months
    tenant.reaudit_requires_improvement = chosen.requires_improvement
    session.add(tenant)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="tenant.reaudit_set",
        entity="tenant",
        entity_id=tenant_id,
        before=before,
        after=shown(tenant),
    )
    return True


async def reaudit_of(*, session: AsyncSession, tenant_id: str, audit_id: int) -> Audit | None:
    """The latest re-audit made of the audit, in any state."""
    result = await session.exec(
        select(Audit)
        .where(Audit.tenant_id == tenant_id, Audit.reaudit_of == audit_id)
        .order_by(col(Audit.id).desc())
    )
    return result.first()


async def case_of(*, session: AsyncSession, tenant_id: str, audit: Audit) -> Case | None:
    found = await session.get(Case, audit.case_id)
    return found if found is not None and found.tenant_id == tenant_id else None


def record_not_scheduled(
    session: AsyncSession, audit: Audit, *, actor_id: int | None, reason: str
) -> None:
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event=NOT_SCHEDULED,
        entity="audit",
        entity_id=audit.id,
        after={"reason": reason},
    )


@dataclass(frozen=True, slots=True)
class TrackedAction:
    state: str
    standard: str | None


@dataclass(frozen=True, slots=True)
class InadequateCase:
    """An audit judged inadequate, with what followed it: the facts, not yet judged."""

    audit: Audit
    case_ref: str
    case_closed: bool
    team: str
    meeting_held_on: date | None
    # The audit's SMART actions (from grading and from the meeting), not the meeting and visit.
    actions: tuple[TrackedAction, ...]
    reaudit: Audit | None
    reaudit_auditor: str | None
    # Why no re-audit was made, as audit-logged; None if one was, or none was tried.
    not_scheduled: str | None
    # Why the re-audit was cancelled, as audit-logged.
    cancelled_because: str | None


def grades_of(audit: Audit) -> dict[str, str | None]:
    return {s.value: getattr(audit, f"grade_{s.value}") for s in Standard}


async def inadequate_cases(
    *,
    session: AsyncSession,
    tenant_id: str,
    since: datetime,
    team_ids: Collection[int] | None,
    offset: int,
    size: int,
) -> tuple[list[InadequateCase], int]:
    """Audits graded inadequate overall and completed from `since` (in `team_ids`, or every team
    for None), newest first; one page of them and how many there are."""
    where: list[Any] = [
        Audit.tenant_id == tenant_id,
        Audit.overall_grade == Grade.INADEQUATE,
        col(Audit.state).in_(DONE_AUDIT_STATES),
        col(Audit.completed_at) >= since,
    ]
    if team_ids is not None:
        where.append(col(Audit.team_id).in_(list(team_ids)))
    total = (await session.exec(select(func.count()).select_from(Audit).where(*where))).one()
    rows = (
        await session.exec(
            select(Audit, Case.case_ref, Case.status, Team.name)
            .join(Case, col(Case.id) == Audit.case_id)
            .join(Team, col(Team.id) == Audit.team_id)
            .where(*where)
            .order_by(col(Audit.completed_at).desc(), col(Audit.id).desc())
            .offset(offset)
            .limit(size)
        )
    ).all()
    found = []
    for audit, case_ref, status, team in rows:
        assert audit.id is not None
        meeting = (
            await session.exec(
                select(col(ActionMeeting.held_on)).where(
                    ActionMeeting.tenant_id == tenant_id, ActionMeeting.audit_id == audit.id
                )
            )
        ).first()
        actions = (
            await session.exec(
                select(Action.state, Action.standard)
                .where(
                    Action.tenant_id == tenant_id,
                    Action.audit_id == audit.id,
                    col(Action.source).not_in((ACTION_MEETING, CHILD_VISIT)),
                )
                .order_by(col(Action.id))
            )
        ).all()
        again = await reaudit_of(session=session, tenant_id=tenant_id, audit_id=audit.id)
        auditor = await session.get(Staff, again.auditor_id) if again is not None else None
        not_scheduled = None
        if again is None:
            not_scheduled = await _logged_reason(session, tenant_id, audit.id, NOT_SCHEDULED)
        cancelled = None
        if again is not None and again.state == AuditState.CANCELLED:
            cancelled = await _logged_reason(session, tenant_id, again.id, "audit.cancelled")
        found.append(
            InadequateCase(
                audit=audit,
                case_ref=case_ref,
                case_closed=status == "closed",
                team=team,
                meeting_held_on=meeting,
                actions=tuple(TrackedAction(state, standard) for state, standard in actions),
                reaudit=again,
                reaudit_auditor=auditor.display_name if auditor is not None else None,
                not_scheduled=not_scheduled,
                cancelled_because=cancelled,
            )
        )
    return found, total


async def _logged_reason(
    session: AsyncSession, tenant_id: str, audit_id: int | None, event: str
) -> str | None:
    result = await session.exec(
        select(AuditLog.after)
        .where(
            AuditLog.tenant_id == tenant_id,
            AuditLog.entity == "audit",
            AuditLog.entity_id == str(audit_id),
            AuditLog.event == event,
        )
        .order_by(col(AuditLog.id).desc())
    )
    after = result.first()
    reason = after.get("reason") if isinstance(after, dict) else None
    return reason if isinstance(reason, str) else None


# --- the evidence pack's counts: what followed the period's inadequate audits, grouped ----------


def _latest_reaudit(tenant_id: str, again: Any) -> Any:
    """Join `again` to the audit's latest re-audit (what `reaudit_of` returns), looked up by
    the re-audit index audit by audit."""
    later = aliased(Audit)
    latest = (
        sa.select(func.max(col(later.id)))
        .where(col(later.reaudit_of) == col(Audit.id), col(later.tenant_id) == tenant_id)
        .correlate(Audit)
        .scalar_subquery()
    )
    return and_(col(again.id) == latest, col(again.tenant_id) == tenant_id)


def _inadequate_between(tenant_id: str, start: datetime, end: datetime) -> list[Any]:
    """As `inadequate_cases` picks them: graded inadequate overall, completed in [start, end)."""
    return [
        col(Audit.tenant_id) == tenant_id,
        col(Audit.overall_grade) == Grade.INADEQUATE,
        col(Audit.state).in_(DONE_AUDIT_STATES),
        col(Audit.completed_at) >= sa.literal(start, UTCDateTime()),
        col(Audit.completed_at) < sa.literal(end, UTCDateTime()),
    ]


async def reaudit_groups(
    *, session: AsyncSession, tenant_id: str, start: datetime, end: datetime
) -> list[ReauditGroup]:
    """The inadequate audits completed in [start, end), grouped by their re-audit's state and
    both audits' grades: bot.rules.evidence compares them."""
    again = aliased(Audit)
    keys = [*(s.value for s in Standard), "overall"]

    def grade(audit: Any, key: str) -> Any:
        return col(getattr(audit, "overall_grade" if key == "overall" else f"grade_{key}"))

    columns = [
        col(again.state),
        *(grade(Audit, k) for k in keys),
        *(grade(again, k) for k in keys),
    ]
    rows: Sequence[Any] = (
        await (await session.connection()).execute(
            sa.select(*columns, func.count())
            .select_from(Audit)
            .outerjoin(again, _latest_reaudit(tenant_id, again))
            .where(*_inadequate_between(tenant_id, start, end))
            .group_by(*columns)
        )
    ).all()
    found = []
    for state, *grades, audits in rows:
        original = dict(zip(keys, grades[: len(keys)], strict=True))
        after = dict(zip(keys, grades[len(keys) :], strict=True))
        found.append(ReauditGroup(state, original, after, audits))
    return found


async def tracked_groups(
    *, session: AsyncSession, tenant_id: str, start: datetime, end: datetime
) -> list[TrackedGroup]:
    """The SMART actions of the inadequate audits completed in [start, end) (not the meeting and
    visit, as `inadequate_cases` lists them), grouped for bot.rules.reaudit.is_verified."""
    again = aliased(Audit)
    reaudit_grade = sa.case(
        *(
            (col(Action.standard) == s.value, col(getattr(again, f"grade_{s.value}")))
            for s in Standard
        ),
        else_=None,
    )
    columns = [col(Action.state), col(Action.standard), col(again.state), reaudit_grade]
    rows: Sequence[Any] = (
        await (await session.connection()).execute(
            sa.select(*columns, func.count())
            .select_from(Action)
            .join(Audit, col(Audit.id) == col(Action.audit_id))
            .outerjoin(again, _latest_reaudit(tenant_id, again))
            .where(
                # `|| ''`: SQLite then starts from the period's inadequate audits (by their
                # completion) and finds their actions by audit, not every action of the tenant.
                col(Action.tenant_id).concat("") == tenant_id,
                col(Action.source).not_in((ACTION_MEETING, CHILD_VISIT)),
                *_inadequate_between(tenant_id, start, end),
            )
            .group_by(*columns)
        )
    ).all()
    return [
        TrackedGroup(state, standard, again_state, grade, n)
        for state, standard, again_state, grade, n in rows
    ]

"""Queries for choosing and assigning audits: the month's candidates and auditors, the allocation
and its audits, single audits, declining and reassigning, and what the assigned cards show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import and_, or_, true
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.allocation import Auditor, Candidate, Manager, Plan
from bot.rules.grades import OPEN_AUDIT_STATES, UNFINISHED_AUDIT_STATES, AuditKind, AuditState
from bot.rules.roles import MANAGERS, Role
from cards.audit_assigned import AssignedView, AuditorChoice
from storage import audit_log, audits, own_views
from storage.db import compare_and_set
from storage.models import Allocation, Audit, Case, ConversationRef, Staff, Team
from storage.staff import holds

# Who may be given an audit made by hand: auditors, and managers doing their own kind of audit.
AUDITING_ROLES = frozenset({Role.AUDITOR, Role.QA, *MANAGERS})


async def existing(*, session: AsyncSession, tenant_id: str, month: str) -> Allocation | None:
    result = await session.exec(
        select(Allocation).where(Allocation.tenant_id == tenant_id, Allocation.month == month)
    )
    return result.first()


async def candidates(
    *, session: AsyncSession, tenant_id: str, since: date, ignore_allocation: int | None = None
) -> list[Candidate]:
    """Open cases with an active worker and no audit (other than a cancelled one) created or
    completed since `since`. Audits of `ignore_allocation` do not count, so a month already
    allocated can be drawn again as it was."""
    cutoff = datetime.combine(since, time(), tzinfo=UTC)
    recent = (
        select(Audit.id)
        .where(
            Audit.tenant_id == tenant_id,
            col(Audit.case_id) == col(Case.id),
            Audit.state != AuditState.CANCELLED,
            or_(col(Audit.created_at) >= cutoff, col(Audit.completed_at) >= cutoff),
            _not_of(ignore_allocation),
        )
        .exists()
    )
    rows = await session.exec(
        select(Case.id, Case.case_ref, Case.team_id, Case.worker_id)
        .join(Staff, and_(col(Staff.id) == col(Case.worker_id), col(Staff.tenant_id) == tenant_id))
        .where(Case.tenant_id == tenant_id, Case.status == "open", col(Staff.active), ~recent)
        .order_by(col(Case.id))
    )
    return [
        Candidate(case_id=case_id or 0, case_ref=ref, team_id=team_id, worker_id=worker_id or 0)
        for case_id, ref, team_id, worker_id in rows.all()
    ]


async def open_loads(
    *, session: AsyncSession, tenant_id: str, ignore_allocation: int | None = None
) -> dict[int, int]:
    """Each auditor's open audits (leaving out those of `ignore_allocation`)."""
    rows = await session.exec(
        select(Audit.auditor_id, func.count())
        .where(
            Audit.tenant_id == tenant_id,
            col(Audit.state).in_(OPEN_AUDIT_STATES),
            _not_of(ignore_allocation),
        )
        .group_by(col(Audit.auditor_id))
    )
    return {auditor_id: count for auditor_id, count in rows.all()}


def _not_of(allocation_id: int | None) -> Any:
    if allocation_id is None:
        return true()
    return or_(col(Audit.allocation_id).is_(None), col(Audit.allocation_id) != allocation_id)


async def auditors(*, session: AsyncSession, tenant_id: str) -> list[Staff]:
    """Active staff holding the auditor role, in id order."""
    rows = await session.exec(
        select(Staff)
        .where(Staff.tenant_id == tenant_id, col(Staff.active), holds(Role.AUDITOR))
        .order_by(col(Staff.id))
    )
    return [s for s in rows.all() if Role.AUDITOR in s.role_set]


async def possible_auditors(*, session: AsyncSession, tenant_id: str) -> list[Staff]:
    """Who may be given a single audit: auditors, the QA team and managers, in name order."""
    rows = await session.exec(
        select(Staff)
        .where(Staff.tenant_id == tenant_id, col(Staff.active))
        .order_by(col(Staff.display_name), col(Staff.id))
    )
    return [s for s in rows.all() if AUDITING_ROLES & s.role_set]


async def auditor_pool(
    *,
    session: AsyncSession,
    tenant_id: str,
    due_on: date,
    ignore_allocation: int | None = None,
) -> tuple[list[Auditor], list[Staff]]:
    """The auditors who can take an audit due on `due_on` with their loads, and those left out
    because they are away through that day."""
    loads = await open_loads(
        session=session, tenant_id=tenant_id, ignore_allocation=ignore_allocation
    )
    everyone = await auditors(session=session, tenant_id=tenant_id)
    away = [s for s in everyone if s.away_until is not None and s.away_until >= due_on]
    pool = [
        Auditor(id=s.id or 0, team_id=s.team_id, load=loads.get(s.id or 0, 0))
        for s in everyone
        if s not in away
    ]
    return pool, away


SENIOR_MANAGER_ROLES = frozenset({Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})


async def manager_pool(
    *,
    session: AsyncSession,
    tenant_id: str,
    due_on: date,
    ignore_allocation: int | None = None,
) -> list[Manager]:
    """Active team managers, service managers and heads of service not away through `due_on`,
    with their open loads: who may be given the month's programme audits. A TM who is also a
    senior manager audits as a senior manager."""
    loads = await open_loads(
        session=session, tenant_id=tenant_id, ignore_allocation=ignore_allocation
    )
    rows = await session.exec(
        select(Staff).where(Staff.tenant_id == tenant_id, col(Staff.active)).order_by(col(Staff.id))
    )
    pool = []
    for s in rows.all():
        if s.away_until is not None and s.away_until >= due_on:
            continue
        if SENIOR_MANAGER_ROLES & s.role_set:
            kind = AuditKind.SENIOR_MANAGER
        elif Role.TEAM_MANAGER in s.role_set:
            kind = AuditKind.TEAM_MANAGER
        else:
            continue
        pool.append(Manager(s.id or 0, s.team_id, kind, loads.get(s.id or 0, 0)))
    return pool


async def create_allocation(
    session: AsyncSession,
    *,
    tenant_id: str,
    month: str,
    chosen: Plan,
    per_team: int,
    excluded_months: int,
    due_on: date,
    actor_id: int | None,
) -> list[Audit]:
    """The allocation row, one collaborative audit per pick that has an auditor, and the
    programme's senior manager and team manager audits."""
    allocation = Allocation(
        tenant_id=tenant_id,
        month=month,
        seed=chosen.seed,
        candidate_fingerprint=chosen.fingerprint,
        per_team=per_team,
        excluded_months=excluded_months,
        created_by=actor_id,
    )
    session.add(allocation)
    await session.flush()
    assert allocation.id is not None
    made = []
    for pick in (*chosen.picks, *chosen.programme):
        if pick.auditor_id is None:
            continue
        audit = Audit(
            tenant_id=tenant_id,
            case_id=pick.case.case_id,
            team_id=pick.case.team_id,
            kind=pick.kind.value,
            auditor_id=pick.auditor_id,
            practitioner_id=pick.case.worker_id,
            allocation_id=allocation.id,
            due_on=due_on,
        )
        session.add(audit)
        made.append(audit)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="allocation.created",
        entity="allocation",
        entity_id=allocation.id,
        after={
            "month": month,
            "seed": chosen.seed,
            "candidate_fingerprint": chosen.fingerprint,
            "per_team": per_team,
            "excluded_months": excluded_months,
            "audits": [a.id for a in made],
        },
    )
    for audit in made:
        _log(session, audit, actor_id, "audit.created", None)
    return made


async def create_audit(
    session: AsyncSession,
    *,
    tenant_id: str,
    case: Case,
    kind: str,
    theme: str | None,
    auditor_id: int,
    due_on: date,
    actor_id: int | None,
    reaudit_of: int | None = None,
) -> Audit:
    """A single audit made by QA (no allocation), or the re-audit of an earlier audit."""
    audit = Audit(
        tenant_id=tenant_id,
        case_id=case.id or 0,
        team_id=case.team_id,
        kind=kind,
        theme=theme,
        auditor_id=auditor_id,
        practitioner_id=case.worker_id,
        due_on=due_on,
        reaudit_of=reaudit_of,
    )
    session.add(audit)
    await session.flush()
    if reaudit_of is None:
        _log(session, audit, actor_id, "audit.created", None)
    else:
        _log(session, audit, actor_id, "audit.created", None, reaudit_of=reaudit_of)
    return audit


async def open_audit_of(
    *, session: AsyncSession, tenant_id: str, case_id: int, kind: str, theme: str | None
) -> Audit | None:
    """An open (or declined, waiting for someone else) audit of the case of that kind and theme."""
    result = await session.exec(
        select(Audit)
        .where(
            Audit.tenant_id == tenant_id,
            Audit.case_id == case_id,
            Audit.kind == kind,
            Audit.theme == theme if theme is not None else col(Audit.theme).is_(None),
            col(Audit.state).in_(UNFINISHED_AUDIT_STATES),
        )
        .order_by(col(Audit.id))
    )
    return result.first()


async def decline(session: AsyncSession, audit: Audit, *, actor_id: int, reason: str) -> bool:
    """Open → declined; False (nothing written) if its state changed since it was read."""
    before = _snapshot(audit)
    if not await compare_and_set(
        session,
        audit,
        {"state": audit.state},
        state=AuditState.DECLINED,
        declined_reason=reason,
    ):
        return False
    _log(session, audit, actor_id, "audit.declined", before)
    return True


async def cancel(session: AsyncSession, audit: Audit, *, actor_id: int | None, reason: str) -> bool:
    """The audit will not be done (the case closed, or it was chosen in error); why is kept in
    the audit log. Actions already agreed from it stay open: they are about the practice.
    False (nothing written) if its state changed since it was read."""
    before = _snapshot(audit)
    if not await compare_and_set(
        session,
        audit,
        {"state": audit.state},
        state=AuditState.CANCELLED,
        cancelled_reason=reason,
    ):
        return False
    _log(session, audit, actor_id, "audit.cancelled", before, reason=reason)
    return True


def reassign(session: AsyncSession, audit: Audit, *, actor_id: int | None, auditor_id: int) -> None:
    before = _snapshot(audit)
    audit.auditor_id = auditor_id
    if audit.state == AuditState.DECLINED:
        audit.state = AuditState.ASSIGNED
    # In progress stays in progress: the grades saved so far go with it to the new auditor.
    audit.declined_reason = None
    session.add(audit)
    _log(session, audit, actor_id, "audit.reassigned", before)


async def unfinished_audits_of(
    *, session: AsyncSession, tenant_id: str, case_ref: str
) -> list[Audit]:
    """The case's audits not yet done (open, or declined and waiting), oldest first."""
    result = await session.exec(
        select(Audit)
        .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .where(
            Audit.tenant_id == tenant_id,
            func.upper(Case.case_ref) == case_ref.strip().upper(),
            col(Audit.state).in_(UNFINISHED_AUDIT_STATES),
        )
        .order_by(col(Audit.id))
    )
    return list(result.all())


async def case_by_ref(*, session: AsyncSession, tenant_id: str, case_ref: str) -> Case | None:
    result = await session.exec(
        select(Case).where(Case.tenant_id == tenant_id, Case.case_ref == case_ref)
    )
    return result.first()


async def staff_by_email(*, session: AsyncSession, tenant_id: str, email: str) -> Staff | None:
    result = await session.exec(
        select(Staff).where(
            Staff.tenant_id == tenant_id, func.lower(Staff.email) == email.strip().lower()
        )
    )
    return result.first()


async def qa_team(*, session: AsyncSession, tenant_id: str) -> list[Staff]:
    rows = await session.exec(
        select(Staff)
        .where(Staff.tenant_id == tenant_id, col(Staff.active), holds(Role.QA))
        .order_by(col(Staff.id))
    )
    return [s for s in rows.all() if Role.QA in s.role_set]


async def team_manager_of(
    *, session: AsyncSession, tenant_id: str, team_id: int, practitioner: Staff | None
) -> Staff | None:
    """The case's team manager; else the practitioner's line manager; never the practitioner."""
    rows = await session.exec(
        select(Staff)
        .where(
            Staff.tenant_id == tenant_id,
            Staff.team_id == team_id,
            col(Staff.active),
            holds(Role.TEAM_MANAGER),
        )
        .order_by(col(Staff.id))
    )
    for person in rows.all():
        if Role.TEAM_MANAGER in person.role_set and (
            practitioner is None or person.id != practitioner.id
        ):
            return person
    if practitioner is not None and practitioner.manager_id is not None:
        manager = await session.get(Staff, practitioner.manager_id)
        if manager is not None and manager.tenant_id == tenant_id and manager.active:
            return manager
    return None


async def assigned_view(
    *, session: AsyncSession, tenant_id: str, audit_id: int
) -> AssignedView | None:
    """What the assigned card and its copies show about an audit."""
    row = await audits.with_case_and_team(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if row is None:
        return None
    audit, case_ref, team_name = row
    auditor = await session.get(Staff, audit.auditor_id)
    practitioner = (
        await session.get(Staff, audit.practitioner_id) if audit.practitioner_id else None
    )
    manager = await team_manager_of(
        session=session, tenant_id=tenant_id, team_id=audit.team_id, practitioner=practitioner
    )
    return AssignedView(
        id=audit_id,
        case_ref=case_ref,
        kind=audit.kind,
        theme=audit.theme,
        state=audit.state,
        due_on=audit.due_on,
        team=team_name,
        auditor_id=audit.auditor_id,
        auditor_name=auditor.display_name if auditor else "an auditor",
        practitioner_id=audit.practitioner_id,
        practitioner_name=practitioner.display_name if practitioner else None,
        manager_id=manager.id if manager else None,
        manager_name=manager.display_name if manager else None,
        declined_reason=audit.declined_reason,
        own_view_given=bool(
            await own_views.own_grades(session=session, tenant_id=tenant_id, audit_id=audit_id)
        ),
    )


async def auditor_choices(
    *,
    session: AsyncSession,
    tenant_id: str,
    people: Sequence[Staff],
    team_id: int | None,
    leave_out: Sequence[int | None] = (),
    due_on: date | None = None,
) -> list[AuditorChoice]:
    """`people` as choices with their open load: other teams first, then the least loaded; those
    away through `due_on` last."""
    loads = await open_loads(session=session, tenant_id=tenant_id)
    teams = dict(
        (await session.exec(select(Team.id, Team.name).where(Team.tenant_id == tenant_id))).all()
    )
    choices = [
        AuditorChoice(
            id=person.id or 0,
            name=person.display_name,
            team=teams.get(person.team_id) if person.team_id else None,
            load=loads.get(person.id or 0, 0),
            same_team=team_id is not None and person.team_id == team_id,
            away_until=(
                person.away_until
                if due_on is not None
                and person.away_until is not None
                and person.away_until >= due_on
                else None
            ),
        )
        for person in people
        if person.id not in leave_out
    ]
    return sorted(
        choices, key=lambda c: (c.away_until is not None, c.same_team, c.load, c.name, c.id)
    )


async def recipient_of(
    *, session: AsyncSession, tenant_id: str, conversation_ref_id: int
) -> int | None:
    """Whose personal chat a posted card is in."""
    where = await session.get(ConversationRef, conversation_ref_id)
    return where.staff_id if where is not None and where.tenant_id == tenant_id else None


def _snapshot(audit: Audit) -> dict[str, Any]:
    return {
        "state": audit.state,
        "auditor_id": audit.auditor_id,
        "declined_reason": audit.declined_reason,
    }


def _log(
    session: AsyncSession,
    audit: Audit,
    actor_id: int | None,
    event: str,
    before: dict[str, Any] | None,
    **more: Any,
) -> None:
    after = _snapshot(audit) | more
    if before is None:
        after |= {
            "case_id": audit.case_id,
            "kind": audit.kind,
            "theme": audit.theme,
            "practitioner_id": audit.practitioner_id,
            "allocation_id": audit.allocation_id,
            "due_on": audit.due_on.isoformat(),
        }
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event=event,
        entity="audit",
        entity_id=audit.id,
        before=before,
        after=after,
    )


async def person(*, session: AsyncSession, tenant_id: str, staff_id: int) -> Staff | None:
    found = await session.get(Staff, staff_id)
    return found if found is not None and found.tenant_id == tenant_id else None


async def audit(*, session: AsyncSession, tenant_id: str, audit_id: int) -> Audit | None:
    found = await session.get(Audit, audit_id)
    return found if found is not None and found.tenant_id == tenant_id else None


async def names(*, session: AsyncSession, tenant_id: str) -> dict[int, str]:
    rows = await session.exec(
        select(Staff.id, Staff.display_name).where(Staff.tenant_id == tenant_id)
    )
    return {staff_id or 0: name for staff_id, name in rows.all()}


async def team_names(*, session: AsyncSession, tenant_id: str) -> dict[int, str]:
    rows = await session.exec(select(Team.id, Team.name).where(Team.tenant_id == tenant_id))
    return {team_id or 0: name for team_id, name in rows.all()}

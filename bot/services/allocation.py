"""Choosing and assigning audits: the month's random allocation, single audits made by QA, the
"audit assigned" card with its copies, reassignment and cancelling; for the allocation feature's
cards and for `qaloop allocate|audit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules import allocation as rules
from bot.rules.dates import MAX_AHEAD, parse_day
from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    AuditKind,
)
from bot.rules.workdays import is_working_day
from bot.services import flows, notify, refresh
from bot.turn import Rebuilders
from cards.audit_assigned import (
    ASSIGNED_SUMMARY,
    DECLINED_SUMMARY,
    MANAGER_SUMMARY,
    PASSED_ON_SUMMARY,
    PRACTITIONER_SUMMARY,
    REASSIGNED_COPY_SUMMARY,
    AuditForm,
    AuditorChoice,
    audit_assigned_card,
    audit_copy_card,
    audit_declined_card,
)
from cards.common import label, uk_date
from cards.names import CardKind, audit_subject
from storage import allocation as store
from storage import tenants
from storage.models import Audit, Staff


@dataclass(frozen=True, slots=True)
class PlanLine:
    case_ref: str
    team: str
    worker: str
    auditor: str | None
    due_on: date
    kind: AuditKind = AuditKind.COLLABORATIVE


@dataclass(frozen=True, slots=True)
class MonthPlan:
    month: str
    plan: rules.Plan
    lines: tuple[PlanLine, ...]
    candidates: int
    due_on: date
    # Teams with fewer candidates than asked for, by name.
    short: dict[str, int]
    # Auditors given nothing because they are away through the due date, by name.
    away: tuple[str, ...] = ()


async def plan_month(
    session: AsyncSession,
    *,
    tenant_id: str,
    month: date,
    per_team: int,
    seed: str,
    exclude_months: int,
    ignore_allocation: int | None = None,
) -> MonthPlan:
    """What `allocate` would do for the month starting `month`: the collaborative audits, and the
    senior manager and team manager audits the tenant's targets ask for; writes nothing. Given the month's
    own allocation as `ignore_allocation`, its audits are left out, so that unchanged candidates
    and loads with the stored seed show the same choice again."""
    since = rules.months_before(month, exclude_months)
    candidates = await store.candidates(
        session=session, tenant_id=tenant_id, since=since, ignore_allocation=ignore_allocation
    )
    due_on = rules.last_working_day(month)
    pool, away = await store.auditor_pool(
        session=session, tenant_id=tenant_id, due_on=due_on, ignore_allocation=ignore_allocation
    )
    targets = await tenants.targets(session=session, tenant_id=tenant_id)
    managers = await store.manager_pool(
        session=session, tenant_id=tenant_id, due_on=due_on, ignore_allocation=ignore_allocation
    )
    chosen = rules.plan(
        candidates,
        pool,
        per_team=per_team,
        seed=seed,
        managers=managers,
        per_team_manager=targets.team_manager,
        senior_manager=targets.senior_manager,
    )
    names = await store.names(session=session, tenant_id=tenant_id)
    teams = await store.team_names(session=session, tenant_id=tenant_id)
    lines = tuple(
        PlanLine(
            case_ref=pick.case.case_ref,
            team=teams.get(pick.case.team_id, "?"),
            worker=names.get(pick.case.worker_id, "?"),
            auditor=names.get(pick.auditor_id) if pick.auditor_id else None,
            due_on=due_on,
            kind=pick.kind,
        )
        for pick in (*chosen.picks, *chosen.programme)
    )
    short = {teams.get(t, "?"): n for t, n in chosen.short.items()}
    away_names = tuple(s.display_name for s in away)
    return MonthPlan(f"{month:%Y-%m}", chosen, lines, len(candidates), due_on, short, away_names)


async def allocate(
    session: AsyncSession,
    *,
    tenant_id: str,
    month_plan: MonthPlan,
    per_team: int,
    exclude_months: int,
    actor_id: int | None,
    today: date,
    now: datetime,
) -> list[Audit]:
    """Store the plan as the month's allocation and its audits, and send the assigned cards."""
    made = await store.create_allocation(
        session,
        tenant_id=tenant_id,
        month=month_plan.month,
        chosen=month_plan.plan,
        per_team=per_team,
        excluded_months=exclude_months,
        due_on=month_plan.due_on,
        actor_id=actor_id,
    )
    for audit in made:
        assert audit.id is not None
        await send_assigned(session, tenant_id=tenant_id, audit_id=audit.id, today=today, now=now)
    return made


async def send_assigned(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_id: int,
    today: date,
    now: datetime,
    copies: bool = True,
    actor_id: int | None = None,
    reassigned_from: int | None = None,
) -> list[str]:
    """Queue the assigned card to the auditor and (with `copies`) the copies to the practitioner
    and team manager; the names of those it was queued for (not the actor). `reassigned_from`:
    the auditor it was taken from, who is told it is no longer theirs, and the copies say the
    audit has a new auditor."""
    view = await store.assigned_view(session=session, tenant_id=tenant_id, audit_id=audit_id)
    assert view is not None
    subjects = [audit_subject(audit_id)]
    told = []
    auditor = await store.person(session=session, tenant_id=tenant_id, staff_id=view.auditor_id)
    if (
        auditor is not None
        and auditor.id != actor_id
        and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=auditor,
            kind=CardKind.AUDIT_ASSIGNED,
            key=f"{CardKind.AUDIT_ASSIGNED}:{audit_id}:{view.auditor_id}:{flows.stamp(now)}",
            summary=ASSIGNED_SUMMARY,
            card=audit_assigned_card(view, recipient_id=view.auditor_id, today=today),
            subjects=subjects,
        )
    ):
        told.append(auditor.display_name)
    if reassigned_from is not None and reassigned_from not in (actor_id, view.auditor_id):
        before = await store.person(session=session, tenant_id=tenant_id, staff_id=reassigned_from)
        if before is not None and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=before,
            kind=CardKind.AUDIT_ASSIGNED,
            key=f"{CardKind.AUDIT_ASSIGNED}:passed_on:{audit_id}:{reassigned_from}:{flows.stamp(now)}",
            summary=PASSED_ON_SUMMARY,
            card=audit_assigned_card(view, recipient_id=reassigned_from, today=today),
            subjects=subjects,
        ):
            told.append(before.display_name)
    if not copies:
        return told
    reassigned = reassigned_from is not None
    for person_id, summary in (
        (view.practitioner_id, PRACTITIONER_SUMMARY),
        (view.manager_id, MANAGER_SUMMARY),
    ):
        if person_id is None or person_id in (actor_id, view.auditor_id, reassigned_from):
            continue
        person = await store.person(session=session, tenant_id=tenant_id, staff_id=person_id)
        key = f"{CardKind.AUDIT_ASSIGNED_COPY}:{audit_id}:{person_id}"
        if person is not None and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=person,
            kind=CardKind.AUDIT_ASSIGNED_COPY,
            key=f"{key}:reassigned:{flows.stamp(now)}" if reassigned else key,
            summary=REASSIGNED_COPY_SUMMARY if reassigned else summary,
            card=audit_copy_card(view, recipient_id=person_id, today=today, reassigned=reassigned),
            subjects=subjects,
        ):
            told.append(person.display_name)
    return told


async def cancel(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    actor_id: int | None,
    reason: str,
    today: date,
    now: datetime,
    rebuilders: Rebuilders,
    except_activity_id: str | None = None,
) -> bool:
    """Cancel the audit and update every card posted about it, quietly: its auditor's card says
    it was cancelled and their reminders stop. False (nothing done) if its state changed since
    it was read."""
    assert audit.id is not None
    if not await store.cancel(session, audit, actor_id=actor_id, reason=reason):
        return False
    await refresh.refresh_cards(
        session,
        rebuilders,
        tenant_id=tenant_id,
        subjects=[audit_subject(audit.id)],
        today=today,
        change_key=f"cancelled:{flows.stamp(now)}",
        except_activity_id=except_activity_id,
    )
    return True


async def reassign(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    auditor_id: int,
    actor_id: int | None,
    today: date,
    now: datetime,
    rebuilders: Rebuilders,
    except_activity_id: str | None = None,
) -> bool:
    """Give the audit to `auditor_id`, send them the assigned card and update the posted cards;
    whether the new auditor's card was queued."""
    assert audit.id is not None
    before = audit.auditor_id
    store.reassign(session, audit, actor_id=actor_id, auditor_id=auditor_id)
    told = await send_assigned(
        session,
        tenant_id=tenant_id,
        audit_id=audit.id,
        today=today,
        now=now,
        actor_id=actor_id,
        reassigned_from=before,
    )
    await refresh.refresh_cards(
        session,
        rebuilders,
        tenant_id=tenant_id,
        subjects=[audit_subject(audit.id)],
        today=today,
        change_key=f"reassigned:{flows.stamp(now)}",
        except_activity_id=except_activity_id,
    )
    return bool(told)


async def tell_qa_waiting(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    today: date,
    now: datetime,
    except_person_id: int | None = None,
) -> int:
    """Send the QA team the "needs a new auditor" card for a declined audit, with who could
    take it; how many were told."""
    assert audit.id is not None
    view = await store.assigned_view(session=session, tenant_id=tenant_id, audit_id=audit.id)
    assert view is not None
    card = audit_declined_card(view, choices=await auditor_choices(session, audit), today=today)
    told = 0
    for person in await store.qa_team(session=session, tenant_id=tenant_id):
        if person.id == except_person_id:
            continue
        told += await notify.tell(
            session,
            tenant_id=tenant_id,
            person=person,
            kind=CardKind.AUDIT_DECLINED,
            key=f"{CardKind.AUDIT_DECLINED}:{audit.id}:{person.id}:{flows.stamp(now)}",
            summary=DECLINED_SUMMARY,
            card=card,
            subjects=[audit_subject(audit.id)],
        )
    return told


async def reassign_choices(session: AsyncSession, audit: Audit) -> list[AuditorChoice]:
    """Who could take the audit instead: other teams first, then the least loaded."""
    return await auditor_choices(session, audit)


async def auditor_choices(session: AsyncSession, audit: Audit) -> list[AuditorChoice]:
    tenant_id = audit.tenant_id
    if audit.kind == AuditKind.COLLABORATIVE:
        people = await store.auditors(session=session, tenant_id=tenant_id)
    else:
        people = await store.possible_auditors(session=session, tenant_id=tenant_id)
    return await store.auditor_choices(
        session=session,
        tenant_id=tenant_id,
        people=people,
        team_id=audit.team_id,
        leave_out=(audit.practitioner_id, audit.auditor_id),
        due_on=audit.due_on,
    )


async def reaudit_auditor(
    session: AsyncSession, audit: Audit, *, worker_id: int | None, due_on: date
) -> int | None:
    """Who re-audits `audit` by `due_on`: the auditor the normal choice puts first (another team,
    the least loaded, not away through the due day) among the same people who could have been
    given it, never its own auditor, its practitioner or the case's worker now; None if nobody
    else can."""
    tenant_id = audit.tenant_id
    if audit.kind == AuditKind.COLLABORATIVE:
        people = await store.auditors(session=session, tenant_id=tenant_id)
    else:
        people = await store.possible_auditors(session=session, tenant_id=tenant_id)
    choices = await store.auditor_choices(
        session=session,
        tenant_id=tenant_id,
        people=people,
        team_id=audit.team_id,
        leave_out=(audit.practitioner_id, audit.auditor_id, worker_id),
        due_on=due_on,
    )
    return choices[0].id if choices else None


@dataclass(frozen=True, slots=True)
class NewAudit:
    case_id: int
    case_ref: str
    kind: str
    theme: str | None
    auditor: Staff
    due_on: date


async def check_new_audit(
    session: AsyncSession,
    *,
    tenant_id: str,
    form: AuditForm,
    today: date,
    case_ref_pattern: str,
) -> NewAudit | str:
    """The audit the form describes, or what is wrong with it (the first problem)."""
    ref = form.case_ref.strip()
    if not ref:
        return "Please give the case reference."
    case = await store.case_by_ref(session=session, tenant_id=tenant_id, case_ref=ref)
    if case is None and ref.upper() != ref:
        case = await store.case_by_ref(session=session, tenant_id=tenant_id, case_ref=ref.upper())
    if case is None:
        if re.search(case_ref_pattern, ref.upper()) is None:
            return "That doesn't look like a case reference. Please use the case system's id, never a name."
        return "I can't find that case among the imported cases. Check the reference, or import it first."
    if form.kind not in AuditKind._value2member_map_:
        return "Please choose the kind of audit."
    theme = form.theme.strip() or None
    if form.kind == AuditKind.THEMATIC and theme is None:
        return "A thematic audit needs a theme, for example MASH strategy meetings."
    auditor = await _auditor_from(session, tenant_id, form.auditor)
    if auditor is None:
        return "I don't know that auditor. Please give the email of someone who audits."
    if auditor.id == case.worker_id:
        return f"{auditor.display_name} works this case, so can't audit it. Please choose someone else."
    due = _due_date(form.due_on, today)
    if isinstance(due, str):
        return due
    kind = AuditKind(form.kind)
    earlier = await store.open_audit_of(
        session=session, tenant_id=tenant_id, case_id=case.id or 0, kind=kind, theme=theme
    )
    if earlier is not None:
        return (
            f"There is already an open {label(AUDIT_KIND_LABELS, kind).lower()} of that case "
            f"(#{earlier.id}, due {uk_date(earlier.due_on, today=today)})."
        )
    return NewAudit(case.id or 0, case.case_ref, kind.value, theme, auditor, due)


async def create_audit(
    session: AsyncSession,
    *,
    tenant_id: str,
    new: NewAudit,
    actor_id: int | None,
    today: date,
    now: datetime,
) -> tuple[Audit, list[str]]:
    """Make the audit and send the assigned card and its copies; who was told."""
    case = await store.case_by_ref(session=session, tenant_id=tenant_id, case_ref=new.case_ref)
    assert case is not None and new.auditor.id is not None
    audit = await store.create_audit(
        session,
        tenant_id=tenant_id,
        case=case,
        kind=new.kind,
        theme=new.theme,
        auditor_id=new.auditor.id,
        due_on=new.due_on,
        actor_id=actor_id,
    )
    assert audit.id is not None
    told = await send_assigned(
        session, tenant_id=tenant_id, audit_id=audit.id, today=today, now=now, actor_id=actor_id
    )
    return audit, told


async def _auditor_from(session: AsyncSession, tenant_id: str, typed: str) -> Staff | None:
    typed = typed.strip()
    person = None
    if typed.isdigit() and len(typed) < 10:
        person = await store.person(session=session, tenant_id=tenant_id, staff_id=int(typed))
    elif "@" in typed:
        person = await store.staff_by_email(session=session, tenant_id=tenant_id, email=typed)
    if person is None or not person.active or not (store.AUDITING_ROLES & person.role_set):
        return None
    return person


def _due_date(typed: str, today: date) -> date | str:
    due = parse_day(typed, today=today) if typed.strip() else None
    if due is None:
        return "Please choose the due date."
    if due <= today:
        return "Please choose a due date after today."
    if due > today + MAX_AHEAD:
        return "Please choose a due date within a year."
    if not is_working_day(due):
        return (
            f"{uk_date(due, today=today)} is not a working day. Please choose a weekday that is "
            "not a bank holiday."
        )
    return due


DEFAULT_PER_TEAM = 3


DEFAULT_EXCLUDE_MONTHS = 12

"""Choosing and assigning audits: the month's random allocation, single audits made by QA, the
"audit assigned" card with its copies, "Can't do this one" and reassignment.

The chat flows check the person against the stored records and refuse with an audit-log row
("denied.<verb>" for the wrong person, "refused.<verb>" otherwise); the CLI uses the same steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import flows, notify, refresh
from bot.payloads import CardAction, Id, Payload, Reason, Text
from bot.rules import allocation as rules
from bot.rules.dates import MAX_AHEAD, parse_day
from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    OPEN_AUDIT_STATES,
    UNFINISHED_AUDIT_STATES,
    AuditKind,
    AuditState,
)
from bot.rules.roles import Role
from bot.rules.workdays import is_working_day
from bot.turn import Reply, Request
from cards.audit_assigned import (
    ASSIGNED_SUMMARY,
    DECLINED_SUMMARY,
    MANAGER_SUMMARY,
    PASSED_ON_SUMMARY,
    PRACTITIONER_SUMMARY,
    REASSIGNED_COPY_SUMMARY,
    AssignedView,
    AuditForm,
    AuditorChoice,
    audit_assigned_card,
    audit_cancel_card,
    audit_cancelled_card,
    audit_copy_card,
    audit_created_card,
    audit_declined_card,
    audit_reassign_card,
    new_audit_form,
)
from cards.common import card_json, label, uk_date
from cards.notices import error_card, usage_card
from storage import allocation as store
from storage import audits
from storage.models import Audit, SentCard, Staff

AUDIT_ASSIGNED = "audit_assigned"
AUDIT_ASSIGNED_COPY = "audit_assigned_copy"
AUDIT_DECLINED = "audit_declined"
DEFAULT_PER_TEAM = 3
DEFAULT_EXCLUDE_MONTHS = 12


# The month's allocation (the CLI's `allocate`).


@dataclass(frozen=True, slots=True)
class PlanLine:
    case_ref: str
    team: str
    worker: str
    auditor: str | None
    due_on: date


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
    """What `allocate` would do for the month starting `month`; writes nothing. Given the month's
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
    chosen = rules.plan(candidates, pool, per_team=per_team, seed=seed)
    names = await store.names(session=session, tenant_id=tenant_id)
    teams = await store.team_names(session=session, tenant_id=tenant_id)
    lines = tuple(
        PlanLine(
            case_ref=pick.case.case_ref,
            team=teams.get(pick.case.team_id, "?"),
            worker=names.get(pick.case.worker_id, "?"),
            auditor=names.get(pick.auditor_id) if pick.auditor_id else None,
            due_on=due_on,
        )
        for pick in chosen.picks
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
    subjects = [refresh.audit_subject(audit_id)]
    told = []
    auditor = await store.person(session=session, tenant_id=tenant_id, staff_id=view.auditor_id)
    if (
        auditor is not None
        and auditor.id != actor_id
        and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=auditor,
            kind=AUDIT_ASSIGNED,
            key=f"{AUDIT_ASSIGNED}:{audit_id}:{view.auditor_id}:{flows.stamp(now)}",
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
            kind=AUDIT_ASSIGNED,
            key=f"{AUDIT_ASSIGNED}:passed_on:{audit_id}:{reassigned_from}:{flows.stamp(now)}",
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
        key = f"{AUDIT_ASSIGNED_COPY}:{audit_id}:{person_id}"
        if person is not None and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=person,
            kind=AUDIT_ASSIGNED_COPY,
            key=f"{key}:reassigned:{flows.stamp(now)}" if reassigned else key,
            summary=REASSIGNED_COPY_SUMMARY if reassigned else summary,
            card=audit_copy_card(view, recipient_id=person_id, today=today, reassigned=reassigned),
            subjects=subjects,
        ):
            told.append(person.display_name)
    return told


# "Can't do this one" and reassignment.


class DeclineAudit(Payload):
    audit_id: Id
    reason: Reason
    problems: ClassVar[dict[str, str]] = {
        "reason": "Please say why you can't do it, in up to 2,000 characters."
    }
    item_key: ClassVar[str] = "audit_id"
    inputs: ClassVar[tuple[str, ...]] = ("reason",)


class CancelAudit(Payload):
    audit_id: Id
    cancel_reason: Reason
    problems: ClassVar[dict[str, str]] = {
        "cancel_reason": "Please say why it is cancelled, in up to 2,000 characters."
    }
    item_key: ClassVar[str] = "audit_id"
    inputs: ClassVar[tuple[str, ...]] = ("cancel_reason",)


class ReassignAudit(Payload):
    audit_id: Id
    auditor_id: Id
    # On `audit reassign` cards: whose the audit was when the card was made. Without it (the
    # card QA gets when an auditor can't do one) only a declined audit is reassigned.
    from_auditor: Id | None = None
    problems: ClassVar[dict[str, str]] = {"auditor_id": "Please choose who should do it."}
    item_key: ClassVar[str] = "audit_id"
    inputs: ClassVar[tuple[str, ...]] = ("auditor_id",)


async def on_decline(request: Request, payload: DeclineAudit) -> Reply:
    verb, audit_id = "decline_audit", payload.audit_id
    audit = await audits.audit_for_update(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id
    )
    if audit is None:
        return flows.refused(request, verb, audit_id, "not_found", _NOT_FOUND)
    if audit.auditor_id != request.person.id:
        message = "Only the audit's auditor can say they can't do it."
        return flows.refused(request, verb, audit_id, "not_auditor", message, denied=True)
    if audit.state not in OPEN_AUDIT_STATES:
        message = {
            AuditState.DECLINED: "You've already passed this audit back to the QA team.",
            AuditState.CANCELLED: "This audit was cancelled, so there is nothing to do.",
        }.get(AuditState(audit.state), "This audit is already completed.")
        return flows.refused(request, verb, audit_id, f"already_{audit.state}", message)
    if not await store.decline(
        request.session, audit, actor_id=flows.me(request), reason=payload.reason
    ):
        return flows.refused(request, verb, audit_id, "changed", flows.CHANGED_MEANWHILE)
    view = await _view(request, audit_id)
    card = audit_declined_card(
        view, choices=await _choices(request.session, audit), today=request.today
    )
    told = 0
    for person in await store.qa_team(session=request.session, tenant_id=request.tenant_id):
        if person.id == request.person.id:
            continue
        told += await notify.tell(
            request.session,
            tenant_id=request.tenant_id,
            person=person,
            kind=AUDIT_DECLINED,
            key=f"{AUDIT_DECLINED}:{audit_id}:{person.id}:{flows.stamp(request.now)}",
            summary=DECLINED_SUMMARY,
            card=card,
            subjects=[refresh.audit_subject(audit_id)],
        )
    await flows.refresh_posted(request, [refresh.audit_subject(audit_id)], "declined")
    then = "I've told the QA team" if told else "The QA team will see it"
    message = f"Thank you. {then}, and they will find someone else."
    return await _answer(request, audit_id, message)


async def on_reassign(request: Request, payload: ReassignAudit) -> Reply:
    verb, audit_id = "reassign_audit", payload.audit_id
    found = await _qa_changes(request, verb, audit_id, "reassign")
    if isinstance(found, Reply):
        return found
    audit = found
    waiting = (
        audit.state == AuditState.DECLINED
        if payload.from_auditor is None
        else audit.state in UNFINISHED_AUDIT_STATES and audit.auditor_id == payload.from_auditor
    )
    if not waiting:
        view = await _view(request, audit_id)
        if audit.state in UNFINISHED_AUDIT_STATES:
            message = f"Already reassigned: {view.auditor_name} has it."
        elif audit.state == AuditState.CANCELLED:
            message = "This audit was cancelled, so there is nothing to reassign."
        else:
            message = "This audit is already completed."
        return flows.refused(request, verb, audit_id, f"already_{audit.state}", message)
    choices = await _choices(request.session, audit)
    chosen = next((c for c in choices if c.id == payload.auditor_id), None)
    if chosen is None:
        message = "They can't take this audit. Please choose someone from the list."
        return flows.refused(request, verb, audit_id, "not_eligible", message)
    await reassign(
        request.session,
        tenant_id=request.tenant_id,
        audit=audit,
        auditor_id=chosen.id,
        actor_id=flows.me(request),
        today=request.today,
        now=request.now,
        except_activity_id=request.reply_to_id,
    )
    return await _answer(request, audit_id, f"Reassigned ✓ {chosen.name} has it now.")


# Cancelling an audit that will not be done: `audit cancel 12`, the QA team's card, the CLI.

_FINISHED = {
    AuditState.CANCELLED: "This audit is already cancelled.",
    AuditState.COMPLETED: "This audit is completed, so it can't be cancelled.",
    AuditState.MODERATED: "This audit is completed, so it can't be cancelled.",
}


async def show_cancel_form(request: Request) -> Reply:
    """`audit cancel 12` (QA): the audit and a reason to give, before anything changes."""
    found = await _unfinished_asked(request, "cancel", _FINISHED)
    if isinstance(found, Reply):
        return found
    card = audit_cancel_card(found, today=request.today)
    return Reply(card=card, summary=f"Cancel audit #{found.id}?", private=True)


async def show_reassign_form(request: Request) -> Reply:
    """`audit reassign 12` (QA): who could take it instead, before anything changes."""
    found = await _unfinished_asked(request, "reassign", _NOT_REASSIGNABLE)
    if isinstance(found, Reply):
        return found
    audit = await store.audit(
        session=request.session, tenant_id=request.tenant_id, audit_id=found.id
    )
    assert audit is not None
    choices = await _choices(request.session, audit)
    card = audit_reassign_card(found, choices=choices, today=request.today)
    return Reply(card=card, summary=f"Reassign audit #{found.id}", private=True)


_NOT_REASSIGNABLE = {
    AuditState.CANCELLED: "This audit was cancelled, so there is nothing to reassign.",
    AuditState.COMPLETED: "This audit is already completed.",
    AuditState.MODERATED: "This audit is already completed.",
}


async def _unfinished_asked(
    request: Request, doing: str, finished: dict[AuditState, str]
) -> AssignedView | Reply:
    """`audit <doing> 12` (QA): the audit typed, if it is not yet done; or what to say."""
    if Role.QA not in request.person.role_set:
        message = f"audit {doing} is for the QA team."
        return Reply(card=error_card(message), summary=message)
    typed = request.raw_args.strip().removeprefix("#")
    example = (
        f"For example: audit {doing} 12 (the audit's number, on its cards) or its case reference."
    )
    if not typed:
        return Reply(card=usage_card(f"Which audit? {example}"), summary="Which audit?")
    if typed.isdigit() and len(typed) <= 9 and int(typed) > 0:
        audit_id = int(typed)
    else:
        # A case reference: no answer repeats it, and the form goes to the asker's own chat.
        found = await store.unfinished_audits_of(
            session=request.session, tenant_id=request.tenant_id, case_ref=typed[:64]
        )
        if not found:
            message = f"I can't find an open audit by that number or case reference. {example}"
            return Reply(card=usage_card(message), summary="Which audit?")
        if len(found) > 1:
            numbers = ", ".join(
                f"#{a.id} ({label(AUDIT_KIND_LABELS, a.kind).lower()})" for a in found
            )
            message = f"That case has {len(found)} open audits: {numbers}. Which one? For example: audit {doing} {found[0].id}"
            return Reply(card=usage_card(message), summary="Which audit?", private=True)
        audit_id = found[0].id or 0
    view = await store.assigned_view(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id
    )
    if view is None:
        return Reply(card=error_card(_NOT_FOUND), summary=_NOT_FOUND)
    if view.state not in UNFINISHED_AUDIT_STATES:
        message = finished.get(AuditState(view.state), _NOT_FOUND)
        return Reply(card=error_card(message), summary=message)
    return view


async def on_cancel(request: Request, payload: CancelAudit) -> Reply:
    verb, audit_id = "cancel_audit", payload.audit_id
    found = await _qa_changes(request, verb, audit_id, "cancel")
    if isinstance(found, Reply):
        return found
    audit = found
    if audit.state not in UNFINISHED_AUDIT_STATES:
        message = _FINISHED.get(AuditState(audit.state), _NOT_FOUND)
        return flows.refused(request, verb, audit_id, f"already_{audit.state}", message)
    if not await cancel(
        request.session,
        tenant_id=request.tenant_id,
        audit=audit,
        actor_id=flows.me(request),
        reason=payload.cancel_reason,
        today=request.today,
        now=request.now,
        except_activity_id=request.reply_to_id,
    ):
        return flows.refused(request, verb, audit_id, "changed", flows.CHANGED_MEANWHILE)
    view = await _view(request, audit_id)
    card = audit_cancelled_card(view, reason=payload.cancel_reason, today=request.today)
    return Reply(card=card, summary=f"Audit #{audit_id} cancelled")


async def cancel(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    actor_id: int | None,
    reason: str,
    today: date,
    now: datetime,
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
        tenant_id=tenant_id,
        subjects=[refresh.audit_subject(audit.id)],
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
        tenant_id=tenant_id,
        subjects=[refresh.audit_subject(audit.id)],
        today=today,
        change_key=f"reassigned:{flows.stamp(now)}",
        except_activity_id=except_activity_id,
    )
    return bool(told)


async def reassign_choices(session: AsyncSession, audit: Audit) -> list[AuditorChoice]:
    """Who could take the audit instead: other teams first, then the least loaded."""
    return await _choices(session, audit)


async def _choices(session: AsyncSession, audit: Audit) -> list[AuditorChoice]:
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


# A single audit made by QA: `audit new` and its form, and the CLI's `audit new`.


class CreateAudit(Payload):
    # Kept as typed, so a value that does not fit comes back in the form with the message.
    case_ref: Text = Field("", max_length=64)
    kind: Text = Field("", max_length=32)
    theme: Text = Field("", max_length=200)
    auditor: Text = Field("", max_length=320)
    due_on: Text = Field("", max_length=32)
    problems: ClassVar[dict[str, str]] = {
        "case_ref": "A case reference is up to 32 characters.",
        "theme": "A theme can be up to 200 characters.",
        "auditor": "Please give the auditor's email.",
        "due_on": "Please choose the due date.",
    }


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


async def show_new_audit_form(request: Request) -> Reply:
    """`audit new`: the form (QA only)."""
    if Role.QA not in request.person.role_set:
        message = "audit new is for the QA team."
        return Reply(card=error_card(message), summary=message)
    card = new_audit_form(AuditForm(), auditors=await _form_auditors(request), today=request.today)
    return Reply(card=card, summary="A new audit", private=True)


async def on_create(request: Request, payload: CreateAudit) -> Reply:
    verb = "create_audit"
    if Role.QA not in request.person.role_set:
        message = "Only the QA team can create an audit."
        return flows.refused(request, verb, None, "not_qa", message, denied=True)
    form = AuditForm(
        case_ref=payload.case_ref,
        kind=payload.kind,
        theme=payload.theme,
        auditor=payload.auditor,
        due_on=payload.due_on,
    )
    checked = await check_new_audit(
        request.session,
        tenant_id=request.tenant_id,
        form=form,
        today=request.today,
        case_ref_pattern=request.settings.case_ref_pattern,
    )
    if isinstance(checked, str):
        flows.log_refusal(request, verb, None, "bad_input")
        card = new_audit_form(
            form, auditors=await _form_auditors(request), today=request.today, message=checked
        )
        return Reply(card=card, summary=checked, private=True)
    audit, told = await create_audit(
        request.session,
        tenant_id=request.tenant_id,
        new=checked,
        actor_id=flows.me(request),
        today=request.today,
        now=request.now,
    )
    assert audit.id is not None
    view = await _view(request, audit.id)
    said = f"Audit #{audit.id} created. " + (
        f"I've told {flows.names_and(told)}."
        if told
        else "Nobody could be told yet: they will see it in my audits."
    )
    return Reply(card=audit_created_card(view, told=said, today=request.today), summary=said)


async def _form_auditors(request: Request) -> list[AuditorChoice]:
    people = await store.possible_auditors(session=request.session, tenant_id=request.tenant_id)
    choices = await store.auditor_choices(
        session=request.session, tenant_id=request.tenant_id, people=people, team_id=None
    )
    return sorted(choices, key=lambda c: (c.name, c.id))


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


# Posted cards, rebuilt when the audit changes.


async def rebuild_assigned(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    view, recipient = await _posted(session, tenant_id, sent)
    if view is None or recipient is None:
        return None
    return card_json(audit_assigned_card(view, recipient_id=recipient, today=today)), (
        ASSIGNED_SUMMARY
    )


async def rebuild_copy(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    view, recipient = await _posted(session, tenant_id, sent)
    if view is None or recipient is None:
        return None
    summary = PRACTITIONER_SUMMARY if recipient == view.practitioner_id else MANAGER_SUMMARY
    return card_json(audit_copy_card(view, recipient_id=recipient, today=today)), summary


async def rebuild_declined(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    audit_id = refresh.subject_id(sent.subject, "audit")
    if audit_id is None:
        return None
    view = await store.assigned_view(session=session, tenant_id=tenant_id, audit_id=audit_id)
    audit = await store.audit(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if view is None or audit is None:
        return None
    choices = await _choices(session, audit) if audit.state == AuditState.DECLINED else []
    return card_json(audit_declined_card(view, choices=choices, today=today)), DECLINED_SUMMARY


async def _posted(
    session: AsyncSession, tenant_id: str, sent: SentCard
) -> tuple[AssignedView | None, int | None]:
    audit_id = refresh.subject_id(sent.subject, "audit")
    if audit_id is None:
        return None, None
    view = await store.assigned_view(session=session, tenant_id=tenant_id, audit_id=audit_id)
    recipient = await store.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=sent.conversation_ref_id
    )
    return view, recipient


refresh.register(AUDIT_ASSIGNED, rebuild_assigned)
refresh.register(AUDIT_ASSIGNED_COPY, rebuild_copy)
refresh.register(AUDIT_DECLINED, rebuild_declined)


# The steps the flows share.

_NOT_FOUND = "I can't find that audit. It may have been removed."


async def _answer(request: Request, audit_id: int, message: str) -> Reply:
    """The pressed card shown afresh; a card we did not post is answered with the auditor's card."""
    if request.reply_to_id and request.conversation_id:
        rebuilt = await refresh.rebuilt_card(
            request.session,
            tenant_id=request.tenant_id,
            subject=refresh.audit_subject(audit_id),
            conversation_id=request.conversation_id,
            activity_id=request.reply_to_id,
            today=request.today,
        )
        if rebuilt is not None:
            return Reply(card=rebuilt, summary=message)
    view = await _view(request, audit_id)
    if Role.QA in request.person.role_set and view.auditor_id != request.person.id:
        card = audit_declined_card(view, choices=[], today=request.today)
    else:
        card = audit_assigned_card(view, recipient_id=flows.me(request), today=request.today)
    return Reply(card=card, summary=message)


async def _qa_changes(request: Request, verb: str, audit_id: int, doing: str) -> Audit | Reply:
    """The audit, locked for a change only the QA team may make; or the refusal."""
    if Role.QA not in request.person.role_set:
        message = f"Only the QA team can {doing} an audit."
        return flows.refused(request, verb, audit_id, "not_qa", message, denied=True)
    audit = await audits.audit_for_update(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id
    )
    if audit is None:
        return flows.refused(request, verb, audit_id, "not_found", _NOT_FOUND)
    return audit


async def _view(request: Request, audit_id: int) -> AssignedView:
    view = await store.assigned_view(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id
    )
    assert view is not None
    return view


ACTIONS: dict[str, CardAction] = {
    "decline_audit": CardAction(DeclineAudit, on_decline),
    "reassign_audit": CardAction(ReassignAudit, on_reassign),
    "create_audit": CardAction(CreateAudit, on_create),
    "cancel_audit": CardAction(CancelAudit, on_cancel),
}

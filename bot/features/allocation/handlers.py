"""The allocation feature's chat side: "Can't do this one", reassigning, cancelling and creating
an audit from a card or `audit new|reassign|cancel`, and rebuilding the posted assigned cards.

Each press checks the person against the stored records and refuses with an audit-log row
("denied.<verb>" for the wrong person, "refused.<verb>" otherwise); the steps themselves are
bot.services.allocation's, which the CLI uses too.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload, Reason, Text
from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    OPEN_AUDIT_STATES,
    UNFINISHED_AUDIT_STATES,
    AuditState,
)
from bot.rules.roles import Role
from bot.services import flows, refresh
from bot.services.allocation import (
    auditor_choices,
    cancel,
    check_new_audit,
    create_audit,
    reassign,
    tell_qa_waiting,
)
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.audit_assigned import (
    ASSIGNED_SUMMARY,
    DECLINED_SUMMARY,
    MANAGER_SUMMARY,
    PRACTITIONER_SUMMARY,
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
from cards.common import card_json, label
from cards.names import CardVerb, Input, audit_subject, subject_id
from cards.notices import error_card, usage_card
from storage import allocation as store
from storage import audits
from storage.models import Audit, SentCard

# The month's allocation (the CLI's `allocate`).


# "Can't do this one" and reassignment.


class DeclineAudit(Payload):
    audit_id: Id
    reason: Reason
    problems: ClassVar[dict[str, str]] = {
        "reason": "Please say why you can't do it, in up to 2,000 characters."
    }
    item_key: ClassVar[str] = "audit_id"
    inputs: ClassVar[tuple[str, ...]] = (Input.REASON,)


class CancelAudit(Payload):
    audit_id: Id
    cancel_reason: Reason
    problems: ClassVar[dict[str, str]] = {
        "cancel_reason": "Please say why it is cancelled, in up to 2,000 characters."
    }
    item_key: ClassVar[str] = "audit_id"
    inputs: ClassVar[tuple[str, ...]] = (Input.CANCEL_REASON,)


class ReassignAudit(Payload):
    audit_id: Id
    auditor_id: Id
    # On `audit reassign` cards: whose the audit was when the card was made. Without it (the
    # card QA gets when an auditor can't do one) only a declined audit is reassigned.
    from_auditor: Id | None = None
    problems: ClassVar[dict[str, str]] = {"auditor_id": "Please choose who should do it."}
    item_key: ClassVar[str] = "audit_id"
    inputs: ClassVar[tuple[str, ...]] = (Input.AUDITOR_ID,)


async def on_decline(request: Request, payload: DeclineAudit) -> Reply:
    verb, audit_id = CardVerb.DECLINE_AUDIT, payload.audit_id
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
    told = await tell_qa_waiting(
        request.session,
        tenant_id=request.tenant_id,
        audit=audit,
        today=request.today,
        now=request.now,
        except_person_id=request.person.id,
    )
    await flows.refresh_posted(request, [audit_subject(audit_id)], "declined")
    then = "I've told the QA team" if told else "The QA team will see it"
    message = f"Thank you. {then}, and they will find someone else."
    return await _answer(request, audit_id, message)


async def on_reassign(request: Request, payload: ReassignAudit) -> Reply:
    verb, audit_id = CardVerb.REASSIGN_AUDIT, payload.audit_id
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
    choices = await auditor_choices(request.session, audit)
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
        rebuilders=request.rebuilders,
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
    choices = await auditor_choices(request.session, audit)
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
    verb, audit_id = CardVerb.CANCEL_AUDIT, payload.audit_id
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
        rebuilders=request.rebuilders,
        except_activity_id=request.reply_to_id,
    ):
        return flows.refused(request, verb, audit_id, "changed", flows.CHANGED_MEANWHILE)
    view = await _view(request, audit_id)
    card = audit_cancelled_card(view, reason=payload.cancel_reason, today=request.today)
    return Reply(card=card, summary=f"Audit #{audit_id} cancelled")


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


async def show_new_audit_form(request: Request) -> Reply:
    """`audit new`: the form (QA only)."""
    if Role.QA not in request.person.role_set:
        message = "audit new is for the QA team."
        return Reply(card=error_card(message), summary=message)
    card = new_audit_form(AuditForm(), auditors=await _form_auditors(request), today=request.today)
    return Reply(card=card, summary="A new audit", private=True)


async def on_create(request: Request, payload: CreateAudit) -> Reply:
    verb = CardVerb.CREATE_AUDIT
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


# Posted cards, rebuilt when the audit changes.


async def rebuild_assigned(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    view, recipient = await _posted(session, tenant_id, sent)
    if view is None or recipient is None:
        return None
    return card_json(audit_assigned_card(view, recipient_id=recipient, today=today)), (
        ASSIGNED_SUMMARY
    )


async def rebuild_copy(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    view, recipient = await _posted(session, tenant_id, sent)
    if view is None or recipient is None:
        return None
    summary = PRACTITIONER_SUMMARY if recipient == view.practitioner_id else MANAGER_SUMMARY
    return card_json(audit_copy_card(view, recipient_id=recipient, today=today)), summary


async def rebuild_declined(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    audit_id = subject_id(sent.subject, "audit")
    if audit_id is None:
        return None
    view = await store.assigned_view(session=session, tenant_id=tenant_id, audit_id=audit_id)
    audit = await store.audit(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if view is None or audit is None:
        return None
    choices = await auditor_choices(session, audit) if audit.state == AuditState.DECLINED else []
    return card_json(audit_declined_card(view, choices=choices, today=today)), DECLINED_SUMMARY


async def _posted(
    session: AsyncSession, tenant_id: str, sent: SentCard
) -> tuple[AssignedView | None, int | None]:
    audit_id = subject_id(sent.subject, "audit")
    if audit_id is None:
        return None, None
    view = await store.assigned_view(session=session, tenant_id=tenant_id, audit_id=audit_id)
    recipient = await store.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=sent.conversation_ref_id
    )
    return view, recipient


# The steps the flows share.

_NOT_FOUND = "I can't find that audit. It may have been removed."


async def _answer(request: Request, audit_id: int, message: str) -> Reply:
    """The pressed card shown afresh; a card we did not post is answered with the auditor's card."""
    if request.reply_to_id and request.conversation_id:
        rebuilt = await refresh.rebuilt_card(
            request.session,
            request.rebuilders,
            tenant_id=request.tenant_id,
            subject=audit_subject(audit_id),
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

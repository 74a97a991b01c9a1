"""The practitioner's own view of their collaborative audit: the form, opened from their copy of
the audit, and sending it (once). Only the audit's practitioner, only while the audit is open;
anyone else is refused and logged, and nothing changes."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from bot.payloads import Id, Payload
from bot.rules.grades import OPEN_AUDIT_STATES, AuditKind, Grade, Standard
from bot.services import flows
from bot.services.practice import practice_for
from bot.turn import Reply, Request
from cards.names import CardVerb, Input, audit_subject, item_input
from cards.own_view import (
    OWN_VIEW_SUMMARY,
    SAVED_SUMMARY,
    OwnViewAbout,
    own_view_form_card,
    own_view_saved_card,
)
from storage import audits, own_views, staff
from storage.models import Audit

NOT_FOUND = "I can't find that audit. It may have been removed."
NOT_YOURS = "Only the practitioner whose case is audited can give their own view of it."
NOT_COLLABORATIVE = "Your own view is asked for in collaborative audits only."
CLOSED = (
    "This audit is no longer open, so your own view can't be added now. When it is completed "
    "you'll see the auditor's grades."
)
NONE_CHOSEN = "Please choose a grade for at least one standard, or leave the form."
ALREADY = "Already sent ✓ Your own view can't be changed once sent."


class OwnView(Payload):
    audit_id: Id


class SubmitOwnView(Payload):
    audit_id: Id
    # Standard → grade, from the form's per-standard choices; a standard left out is not here.
    grades: dict[Standard, Grade] = Field(default_factory=dict)
    problems: ClassVar[dict[str, str]] = {"grades": "Please choose the grades from the lists."}

    @model_validator(mode="before")
    @classmethod
    def _grades_sent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        chosen = {
            standard.value: sent
            for standard in Standard
            if (sent := data.get(item_input(Input.OWN_GRADE, standard.value)))
        }
        return {**data, "grades": chosen}


async def on_open_own_view(request: Request, payload: OwnView) -> Reply:
    found = await _audit_for(request, CardVerb.OPEN_OWN_VIEW, payload.audit_id)
    if isinstance(found, Reply):
        return found
    _, about = found
    given = await own_views.own_grades(
        session=request.session, tenant_id=request.tenant_id, audit_id=payload.audit_id
    )
    if given:
        return Reply(card=own_view_saved_card(about, given, notice=ALREADY), summary=SAVED_SUMMARY)
    card = own_view_form_card(about, practice=practice_for(request.settings))
    return Reply(card=card, summary=OWN_VIEW_SUMMARY)


async def on_submit_own_view(request: Request, payload: SubmitOwnView) -> Reply:
    verb = CardVerb.SUBMIT_OWN_VIEW
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit, about = found
    session, tenant_id = request.session, request.tenant_id
    given = await own_views.own_grades(session=session, tenant_id=tenant_id, audit_id=audit.id or 0)
    if given:
        flows.log_refusal(request, verb, payload.audit_id, "already_given")
        return Reply(card=own_view_saved_card(about, given, notice=ALREADY), summary=ALREADY)
    if not payload.grades:
        flows.log_refusal(request, verb, payload.audit_id, "none_chosen")
        card = own_view_form_card(
            about, practice=practice_for(request.settings), message=NONE_CHOSEN
        )
        return Reply(card=card, summary=NONE_CHOSEN)
    grades = {s.value: payload.grades[s].value for s in Standard if s in payload.grades}
    own_views.save_own_grades(session, audit, practitioner_id=flows.me(request), grades=grades)
    await flows.refresh_posted(request, [audit_subject(payload.audit_id)], "own_view")
    notice = "Thank you: your own view is saved ✓"
    return Reply(card=own_view_saved_card(about, grades, notice=notice), summary=SAVED_SUMMARY)


async def _audit_for(
    request: Request, verb: str, audit_id: int
) -> tuple[Audit, OwnViewAbout] | Reply:
    """The audit (locked) if it is the person's own collaborative audit and still open."""
    session, tenant_id = request.session, request.tenant_id
    audit = await audits.audit_for_update(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if audit is None:
        return flows.refused(request, verb, audit_id, "not_found", NOT_FOUND)
    if audit.practitioner_id != request.person.id:
        return flows.refused(request, verb, audit_id, "not_practitioner", NOT_YOURS, denied=True)
    if audit.kind != AuditKind.COLLABORATIVE:
        return flows.refused(request, verb, audit_id, "not_collaborative", NOT_COLLABORATIVE)
    if audit.state not in OPEN_AUDIT_STATES:
        return flows.refused(request, verb, audit_id, f"audit_{audit.state}", CLOSED)
    row = await audits.with_case_and_team(session=session, tenant_id=tenant_id, audit_id=audit_id)
    assert row is not None
    _, case_ref, _ = row
    names = await staff.names(session=session, tenant_id=tenant_id, ids={audit.auditor_id})
    auditor = names.get(audit.auditor_id, "the auditor")
    return audit, OwnViewAbout(audit_id, case_ref, audit.kind, auditor)

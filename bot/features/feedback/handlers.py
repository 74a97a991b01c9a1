"""The practitioner's feedback on their audit: the form, one response per audit editable for 7 days
with every version kept, and `feedback` (forms I still owe)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload, Text
from bot.rules.grades import DONE_AUDIT_STATES
from bot.rules.reminders import FEEDBACK_EDIT_WINDOW, feedback_listed_since
from bot.services import flows, refresh
from bot.services.feedback import about_view
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.common import card_json, counted
from cards.feedback import (
    RATINGS,
    SCALE,
    Answers,
    Given,
    feedback_form_card,
    feedback_form_summary,
    feedback_owed_card,
    feedback_thanks_card,
)
from cards.names import CardVerb, feedback_subject, subject_id
from storage import actions, reminders
from storage import feedback as store
from storage.models import Feedback, SentCard

FEEDBACK_STATES = DONE_AUDIT_STATES

WINDOW_CLOSED = "Feedback can be changed for 7 days after you first sent it."
NOT_YOURS = "Only the practitioner whose case was audited can give this feedback."
NOT_FOUND = "I can't find that audit. It may have been removed."
NOT_FINISHED = "This audit isn't completed, so there is no feedback to give yet."
MISSING = "Please choose 1 to 5 for each of the four statements."
THANKS = "Thank you for your feedback"


class SubmitFeedback(Payload):
    audit_id: Id
    # The version the form's answers came from (0: a first response), so a repeat is recognised.
    version: int = Field(0, ge=0, le=100_000)
    involved: str = Field("", max_length=8)
    helped_see_good: str = Field("", max_length=8)
    understand_grade: str = Field("", max_length=8)
    actions_clear: str = Field("", max_length=8)
    worked_well: Text = ""
    could_be_better: Text = ""
    problems: ClassVar[dict[str, str]] = {
        "worked_well": "What worked well can be up to 2,000 characters.",
        "could_be_better": "What could be better can be up to 2,000 characters.",
    }


class OpenFeedback(Payload):
    audit_id: Id


async def show_feedback(request: Request) -> Reply:
    """`feedback`: the forms I still owe, each opening in place."""
    assert request.person.id is not None
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    owed = await reminders.feedback_owed(
        session=request.session,
        tenant_id=request.tenant_id,
        completed_since=feedback_listed_since(request.today),
        zone=zone,
        practitioner_id=request.person.id,
    )
    count = len(owed)
    summary = f"{counted(count, 'feedback form')} to give" if count else "No feedback owed"
    return Reply(card=feedback_owed_card(owed, today=request.today), summary=summary, private=True)


async def on_submit_feedback(request: Request, payload: SubmitFeedback) -> Reply:
    verb = CardVerb.SUBMIT_FEEDBACK
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    about = await about_view(request.session, request.tenant_id, found)
    feedback, given = await _given(request, payload.audit_id)
    current = given.version if given else 0
    if payload.version != current:
        assert feedback is not None and given is not None
        # A double press, or a form opened before the answers last changed.
        notice = (
            "Already sent ✓ Nothing was changed."
            if payload.version == 0
            else "Your answers changed since this form was opened, so nothing was changed. "
            "Here they are now."
        )
        flows.log_refusal(request, verb, payload.audit_id, "stale_version")
        return Reply(
            card=feedback_thanks_card(about, given, today=request.today, notice=notice),
            summary=notice,
        )
    if given is not None and given.editable_until is None:
        return flows.refused(request, verb, payload.audit_id, "window_closed", WINDOW_CLOSED)
    answers = _answers(payload)
    if answers is None:
        flows.log_refusal(request, verb, payload.audit_id, "missing_ratings")
        values = payload.model_dump(include={*RATINGS, "worked_well", "could_be_better"})
        form = feedback_form_card(
            about, today=request.today, version=current, values=values, message=MISSING
        )
        return Reply(card=form, summary=MISSING)
    feedback = await store.save_answers(
        request.session,
        tenant_id=request.tenant_id,
        audit_id=payload.audit_id,
        practitioner_id=flows.me(request),
        feedback=feedback,
        version=current + 1,
        answers=answers,
        now=request.now,
    )
    await refresh.refresh_cards(
        request.session,
        request.rebuilders,
        tenant_id=request.tenant_id,
        subjects=[feedback_subject(payload.audit_id)],
        today=request.today,
        change_key=f"feedback:{payload.audit_id}:v{current + 1}",
        except_activity_id=request.reply_to_id,
    )
    _, given = await _given(request, payload.audit_id)
    assert given is not None
    notice = (
        "Thank you! Your answers help us make audits better."
        if current == 0
        else ("Your changes are saved ✓")
    )
    card = feedback_thanks_card(about, given, today=request.today, notice=notice)
    return Reply(card=card, summary=THANKS if current == 0 else "Your feedback was changed")


async def on_open_feedback(request: Request, payload: OpenFeedback, *, verb: str) -> Reply:
    """The form, blank or with the latest answers while they can still change; else the summary."""
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    about = await about_view(request.session, request.tenant_id, found)
    _, given = await _given(request, payload.audit_id)
    if given is None:
        form = feedback_form_card(about, today=request.today)
        return Reply(card=form, summary=feedback_form_summary())
    if given.editable_until is None:
        flows.log_refusal(request, verb, payload.audit_id, "window_closed")
        card = feedback_thanks_card(about, given, today=request.today, notice=WINDOW_CLOSED)
        return Reply(card=card, summary=WINDOW_CLOSED)
    if verb == CardVerb.GIVE_FEEDBACK:
        # From a list shown before the feedback was sent: show what was sent, with "Change".
        notice = "You've already sent feedback for this audit."
        card = feedback_thanks_card(about, given, today=request.today, notice=notice)
        return Reply(card=card, summary=notice)
    values = {name: str(getattr(given.answers, name)) for name in RATINGS} | {
        "worked_well": given.answers.worked_well or "",
        "could_be_better": given.answers.could_be_better or "",
    }
    form = feedback_form_card(about, today=request.today, version=given.version, values=values)
    return Reply(card=form, summary="Change your feedback")


async def on_edit_feedback(request: Request, payload: OpenFeedback) -> Reply:
    return await on_open_feedback(request, payload, verb=CardVerb.EDIT_FEEDBACK)


async def on_give_feedback(request: Request, payload: OpenFeedback) -> Reply:
    return await on_open_feedback(request, payload, verb=CardVerb.GIVE_FEEDBACK)


async def rebuild_feedback_form(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """A posted form becomes the thank-you summary once the feedback is sent (from anywhere);
    until then it is left alone, so nothing half-typed is wiped."""
    audit_id = subject_id(sent.subject, "feedback") or subject_id(sent.subject, "audit")
    if audit_id is None:
        return None
    found = await store.about_audit(session=session, tenant_id=tenant_id, audit_id=audit_id)
    feedback = await store.feedback_of(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if found is None or feedback is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    given = await _given_of(session, tenant_id, feedback, zone=zone, today=today)
    if given is None:
        return None
    about = await about_view(session, tenant_id, found)
    return card_json(feedback_thanks_card(about, given, today=today)), THANKS


# The steps the flows share.


async def _audit_for(request: Request, verb: str, audit_id: int) -> store.AuditForFeedback | Reply:
    """The audit (locked) if it is the person's own case and completed; else the refusal."""
    found = await store.about_audit(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id, lock=True
    )
    if found is None:
        return flows.refused(request, verb, audit_id, "not_found", NOT_FOUND)
    if found.audit.practitioner_id != request.person.id:
        return flows.refused(request, verb, audit_id, "not_practitioner", NOT_YOURS, denied=True)
    if found.audit.state not in FEEDBACK_STATES:
        return flows.refused(request, verb, audit_id, f"audit_{found.audit.state}", NOT_FINISHED)
    return found


async def _given(request: Request, audit_id: int) -> tuple[Feedback | None, Given | None]:
    session, tenant_id = request.session, request.tenant_id
    feedback = await store.feedback_of(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if feedback is None:
        return None, None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    return feedback, await _given_of(session, tenant_id, feedback, now=request.now, zone=zone)


async def _given_of(
    session: AsyncSession,
    tenant_id: str,
    feedback: Feedback,
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
    today: date | None = None,
) -> Given | None:
    """The latest answers; still open to change at `now` (or, for a rebuilt card, on `today`)."""
    assert feedback.id is not None
    latest = await store.latest_version(
        session=session, tenant_id=tenant_id, feedback_id=feedback.id
    )
    if latest is None:
        return None
    closes = feedback.created_at + FEEDBACK_EDIT_WINDOW
    open_now = (
        now <= closes
        if now is not None
        else today is not None and today <= closes.astimezone(zone).date()
    )
    return Given(
        answers=store.answers_of(latest),
        version=latest.version,
        sent_at=latest.submitted_at.astimezone(zone),
        editable_until=closes.astimezone(zone).date() if open_now else None,
    )


def _answers(payload: SubmitFeedback) -> Answers | None:
    ratings: dict[str, int] = {}
    for name in RATINGS:
        value = getattr(payload, name).strip()
        if not value.isdigit() or int(value) not in SCALE:
            return None
        ratings[name] = int(value)
    return Answers(
        **ratings,
        worked_well=payload.worked_well or None,
        could_be_better=payload.could_be_better or None,
    )

"""Grading an audit in place: the six standards and the overall grade with the limiting-judgement
rule, SMART actions, and completing the audit.

Each press loads the audit locked, checks the person against it (its auditor, or the QA team),
and answers with the card that replaces the one pressed: the grading form, the working card
(grades, actions, Complete audit) or the completed audit. A form with a problem comes back with the
message and what was typed. A press on a card the audit has moved past says where it stands.
Every change and every refusal leaves an audit-log row.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import Field, StringConstraints, field_validator, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload, Text
from bot.rules.grades import (
    DONE_AUDIT_STATES,
    GRADE_LABELS,
    OPEN_AUDIT_STATES,
    STANDARD_LABELS,
    AuditState,
    Grade,
    Standard,
    limiting_judgement_applies,
    limiting_judgement_problem,
)
from bot.rules.roles import Role
from bot.rules.smart import smart_problems
from bot.rules.themes import THEME_KEY, THEME_KEY_LIMIT, Finding
from bot.rules.workdays import weekdays_of
from bot.services import audit_result, feedback, flows, inadequate, notify
from bot.services import templates as audit_templates
from bot.services.practice import practice_for, practice_with_exemplars
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.action_done import uk_moment
from cards.action_form import (
    ACTION_TEXT_LIMIT,
    FIELDS,
    ActionDraft,
    action_assigned_card,
    action_assigned_summary,
    problem_messages,
)
from cards.common import card_json, counted, uk_date
from cards.grading import (
    ANY,
    GradesDraft,
    GradingView,
    TaggedTheme,
    audit_status_card,
    completed_card,
    completed_line,
    grading_form_card,
    working_card,
)
from cards.names import (
    CardKind,
    CardVerb,
    Input,
    action_subject,
    audit_subject,
    item_input,
    subject_id,
)
from cards.practice import Practice
from storage import actions, audits, grading, themes
from storage.models import Audit, SentCard

FORMS = (*(s.value for s in Standard), ANY)
UNADDED = (
    "The audit is not completed yet: an action is typed but not added. Press Add action to "
    "keep it, or clear what you typed, then press Complete audit again."
)
UNADDED_HERE = "Typed but not added yet."
EMAIL_LIMIT = 320
ThemeKey = Annotated[str, StringConstraints(max_length=THEME_KEY_LIMIT, pattern=THEME_KEY.pattern)]
ActionText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=ACTION_TEXT_LIMIT)]


class OpenGrading(Payload):
    audit_id: Id


def drafts_sent(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What each action form on the card held when a button sent them, by form."""
    drafts = {
        form: {
            name: value[:2000]
            for name in FIELDS
            if isinstance(value := data.get(f"{name}_{form}"), str)
        }
        for form in FORMS
    }
    return {form: d for form, d in drafts.items() if d}


class CompleteAudit(Payload):
    audit_id: Id
    # The action forms as sent, so an action typed but not added is not lost on completing.
    drafts: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _keep_drafts(cls, data: Any) -> Any:
        return {**data, "drafts": drafts_sent(data)} if isinstance(data, dict) else data

    def unadded(self) -> dict[str, ActionDraft]:
        """The forms with an action typed in them."""
        drafts = {form: ActionDraft.of(values) for form, values in self.drafts.items()}
        return {form: draft for form, draft in drafts.items() if draft.typed}


class SaveGrades(Payload):
    audit_id: Id
    grade_heart: Grade | None = None
    grade_assessment: Grade | None = None
    grade_plans: Grade | None = None
    grade_records: Grade | None = None
    grade_oversight: Grade | None = None
    grade_strengths: Grade | None = None
    overall_grade: Grade | None = None
    summary: Text = ""
    strengths_seen: Text = ""
    limiting_reason: Text = ""
    risk_identified: bool = False
    # The themes ticked, as (standard, finding, theme key), from each standard's multi-selects.
    ticks: list[tuple[Standard, Finding, ThemeKey]] = Field(default_factory=list, max_length=200)
    problems: ClassVar[dict[str, str]] = {
        "ticks": "Please choose the themes from the lists.",
        "summary": "A summary can be up to 2,000 characters.",
        "strengths_seen": "Strengths seen can be up to 2,000 characters.",
        "limiting_reason": "A reason can be up to 2,000 characters.",
    }

    @field_validator(
        "grade_heart",
        "grade_assessment",
        "grade_plans",
        "grade_records",
        "grade_oversight",
        "grade_strengths",
        "overall_grade",
        mode="before",
    )
    @classmethod
    def _unchosen_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @model_validator(mode="before")
    @classmethod
    def _ticks_sent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ticks = [
            (standard.value, finding.value, key.strip())
            for standard in Standard
            for name, finding in (
                (Input.STRENGTH, Finding.STRENGTH),
                (Input.TO_IMPROVE, Finding.TO_IMPROVE),
            )
            if isinstance(sent := data.get(item_input(name, standard.value)), str)
            for key in sent.split(",")
            if key.strip()
        ]
        return {**data, "ticks": ticks}

    def grades(self) -> dict[str, str | None]:
        return {s.value: getattr(self, f"grade_{s.value}") for s in Standard}

    def ticked(self) -> dict[str, str]:
        """Theme key → finding; a theme ticked both ways keeps the last (refused before use)."""
        return {key: finding.value for _, finding, key in self.ticks}

    def both_ways(self) -> list[str]:
        """Themes ticked as a strength and to improve."""
        strengths = {k for _, f, k in self.ticks if f == Finding.STRENGTH}
        return sorted({k for _, f, k in self.ticks if f == Finding.TO_IMPROVE} & strengths)

    def draft(self) -> GradesDraft:
        return GradesDraft(
            grades={k: v or "" for k, v in self.grades().items()},
            overall_grade=self.overall_grade or "",
            summary=self.summary,
            strengths_seen=self.strengths_seen,
            risk_identified=self.risk_identified,
            limiting_reason=self.limiting_reason,
            themes=self.ticked(),
        )


class AddAction(Payload):
    """One action form's fields; a card holds several forms, so inputs end in the form's name."""

    audit_id: Id
    form: str = Field(ANY, pattern=r"^[a-z_]{1,24}$")
    standard: Standard | None = None
    what: ActionText = ""
    measure: ActionText = ""
    owner: str = Field("", pattern=r"^\d{0,9}$")
    owner_email: str = Field("", max_length=EMAIL_LIMIT)
    due_on: date | None = None
    # Every form's inputs as sent, so what was typed in the other forms is kept too.
    drafts: dict[str, dict[str, str]] = Field(default_factory=dict)

    item_key: ClassVar[str] = "form"
    inputs: ClassVar[tuple[str, ...]] = FIELDS
    problems: ClassVar[dict[str, str]] = {
        "due_on": "Please choose the due date from the calendar.",
        "standard": "Please choose a practice standard from the list.",
        "what": "What will be done can be up to 500 characters.",
        "measure": "How we will know can be up to 500 characters.",
        "owner_email": "That email is too long.",
    }

    @model_validator(mode="before")
    @classmethod
    def _keep_drafts(cls, data: Any) -> Any:
        return {**data, "drafts": drafts_sent(data)} if isinstance(data, dict) else data

    @field_validator("due_on", "standard", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("owner_email", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    def typed(self) -> ActionDraft:
        return ActionDraft(
            what=self.what,
            measure=self.measure,
            owner=self.owner,
            owner_email=self.owner_email,
            due_on=self.due_on.isoformat() if self.due_on else "",
            standard=self.standard.value if self.standard else "",
        )


# The flows.


async def on_open_grading(request: Request, payload: OpenGrading) -> Reply:
    verb = CardVerb.OPEN_GRADING
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit = found
    if audit.state == AuditState.ASSIGNED:
        grading.start(request.session, audit, actor_id=flows.me(request))
        await flows.refresh_posted(request, [audit_subject(payload.audit_id)], "started")
    view = await _view(request, payload.audit_id)
    card = grading_form_card(
        view,
        draft=GradesDraft.of(view),
        message=None,
        today=request.today,
        practice=practice_for(request.settings),
    )
    return Reply(card=card, summary="Record grades")


async def on_save_grades(request: Request, payload: SaveGrades) -> Reply:
    verb = CardVerb.SAVE_GRADES
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit = found
    grades = payload.grades()
    missing = [STANDARD_LABELS[Standard(s)] for s, g in grades.items() if g is None]
    if payload.overall_grade is None:
        missing.append("the overall grade")
    if missing:
        message = "Please choose a grade for every standard and overall. Still to grade: "
        return await _form_again(
            request, payload, "grades_missing", message + "; ".join(missing) + "."
        )
    inadequate_ones = limiting_judgement_problem(
        grades, payload.overall_grade, payload.limiting_reason
    )
    if inadequate_ones:
        which = "; ".join(STANDARD_LABELS[s] for s in inadequate_ones)
        overall = GRADE_LABELS[Grade(payload.overall_grade)] if payload.overall_grade else ""
        message = (
            f"Inadequate: {which}. So the overall grade is Inadequate, unless you say why it "
            f"should be {overall}. Choose Inadequate overall, or write the reason."
        )
        return await _form_again(request, payload, "limiting_reason_needed", message)
    practice = practice_for(request.settings)
    if both := payload.both_ways():
        which = "; ".join(_theme_title(practice, key) for key in both)
        message = f"Ticked as both a strength and to improve: {which}. Please choose one."
        return await _form_again(request, payload, "theme_both_ways", message)
    ticks: list[TaggedTheme] = []
    for standard, finding, key in payload.ticks:
        theme = practice.theme(key)
        if theme is None or theme.standard != standard:
            message = (
                "A theme ticked is no longer in the list (the QA team may have changed it). "
                "Please tick the themes again."
            )
            return await _form_again(request, payload, "theme_unknown", message)
        ticks.append(TaggedTheme(key, standard.value, theme.title, finding.value))
    assert payload.overall_grade is not None
    # A reason is kept only where it explains an override: those are listed for moderation.
    reason = (
        payload.limiting_reason or None
        if limiting_judgement_applies(grades, payload.overall_grade)
        else None
    )
    changed = grading.save_grades(
        request.session,
        audit,
        actor_id=flows.me(request),
        grades={s: g for s, g in grades.items() if g is not None},
        overall_grade=payload.overall_grade,
        limiting_reason=reason,
        summary=payload.summary or None,
        strengths_seen=payload.strengths_seen or None,
        risk_identified=payload.risk_identified,
    )
    retagged = await themes.set_audit_themes(
        request.session, audit, actor_id=flows.me(request), ticks=ticks
    )
    if changed or retagged:
        await flows.refresh_posted(request, [audit_subject(payload.audit_id)], "graded")
    view = await _view(request, payload.audit_id)
    then = (
        "Add an action for each standard that needs one, then complete the audit."
        if view.without_action()
        else "When the actions are agreed, complete the audit."
    )
    return await working_reply(request, audit, view, message=f"Grades saved ✓ {then}")


async def on_add_action(request: Request, payload: AddAction) -> Reply:
    verb = CardVerb.ADD_ACTION
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit = found
    view = await _view(request, payload.audit_id)
    if not view.graded:
        return _refuse(
            request, verb, audit, "not_graded", "Please save the grades before adding actions."
        )
    session, tenant_id = request.session, request.tenant_id
    owner = None
    if payload.owner_email:
        owner = await grading.active_person(
            session=session, tenant_id=tenant_id, email=payload.owner_email
        )
    elif payload.owner:
        owner = await grading.active_person(
            session=session, tenant_id=tenant_id, staff_id=int(payload.owner)
        )
    found_problems = smart_problems(
        what=payload.what,
        measure=payload.measure,
        owner_given=bool(payload.owner_email or payload.owner),
        owner_known=owner is not None,
        due_on=payload.due_on,
        today=request.today,
        owner_weekdays=weekdays_of(owner.working_days if owner else None),
    )
    problems = problem_messages(
        found_problems,
        due_on=payload.due_on,
        owner_name=owner.display_name if owner else None,
        today=request.today,
    )
    if payload.standard is None:
        problems["standard"] = "Choose the practice standard this action improves."
    drafts = {form: ActionDraft.of(values) for form, values in payload.drafts.items()}
    drafts[payload.form] = payload.typed()
    if problems:
        _log_refusal(request, verb, audit, "not_smart", fields=sorted(problems))
        message = "This action isn't SMART yet, so nothing was added. Please see below."
        return await working_reply(
            request, audit, view, message=message, drafts=drafts, problems={payload.form: problems}
        )
    assert owner is not None and owner.id is not None
    assert payload.standard is not None and payload.due_on is not None
    del drafts[payload.form]
    same = await grading.same_open_action(
        session=session,
        tenant_id=tenant_id,
        audit_id=payload.audit_id,
        standard=payload.standard.value,
        what=payload.what,
        owner_id=owner.id,
        due_on=payload.due_on,
    )
    if same is not None:
        _log_refusal(request, verb, audit, "repeat")
        return await working_reply(
            request, audit, view, message=f"Already added: action #{same.id}.", drafts=drafts
        )
    action = await grading.add_action(
        session,
        audit,
        actor_id=flows.me(request),
        standard=payload.standard.value,
        what=payload.what,
        measure=payload.measure,
        owner_id=owner.id,
        due_on=payload.due_on,
    )
    assert action.id is not None
    told = False
    if owner.id != request.person.id:
        zone = await actions.display_zone(session=session, tenant_id=tenant_id)
        status = await actions.action_status(
            session=session, tenant_id=tenant_id, action_id=action.id, zone=zone
        )
        assert status is not None
        told = await notify.tell(
            session,
            tenant_id=tenant_id,
            person=owner,
            kind=CardKind.ACTION_ASSIGNED,
            key=f"{CardKind.ACTION_ASSIGNED}:{action.id}",
            summary=action_assigned_summary(request.person.display_name),
            card=action_assigned_card(
                status, by_name=request.person.display_name, today=request.today
            ),
            subjects=[action_subject(action.id)],
        )
    await flows.refresh_posted(
        request, [audit_subject(payload.audit_id)], f"action_added:{action.id}"
    )
    due = uk_date(payload.due_on, today=request.today)
    who = "you" if owner.id == request.person.id else owner.display_name
    message = f"Action #{action.id} added ✓ for {who}, due {due}."
    if told:
        message += f" I've told {owner.display_name}."
    elif owner.id != request.person.id:
        message += f" {owner.display_name} will see it in my actions."
    view = await _view(request, payload.audit_id)
    return await working_reply(request, audit, view, message=message, drafts=drafts)


async def on_complete_audit(request: Request, payload: CompleteAudit) -> Reply:
    verb = CardVerb.COMPLETE_AUDIT
    found = await _audit_for(request, verb, payload.audit_id)
    if isinstance(found, Reply):
        return found
    audit = found
    view = await _view(request, payload.audit_id)
    if not view.graded:
        return _refuse(
            request,
            verb,
            audit,
            "not_graded",
            "Please save the grades before completing the audit.",
        )
    progress = await audit_templates.progress(request, audit)
    if progress is not None and not progress.done:
        _log_refusal(request, verb, audit, "template_unanswered")
        left = progress.total - progress.answered
        return await working_reply(
            request,
            audit,
            view,
            message=(
                f"The audit is not completed yet: {counted(left, 'template question')} "
                "still to answer (Not applicable is an answer). Press Answer the questions."
            ),
            warn=True,
            summary="The audit is not completed yet: template questions to answer",
        )
    if unadded := payload.unadded():
        _log_refusal(request, verb, audit, "action_not_added", fields=sorted(unadded))
        return await working_reply(
            request,
            audit,
            view,
            message=UNADDED,
            drafts=unadded,
            problems={form: {"form": UNADDED_HERE} for form in unadded},
            summary="The audit is not completed yet: an action is typed but not added",
        )
    session, tenant_id = request.session, request.tenant_id
    if not await grading.complete(session, audit, actor_id=flows.me(request), now=request.now):
        again = await _audit_for(request, verb, payload.audit_id)  # says where it stands now
        return again if isinstance(again, Reply) else flows.error_reply(flows.CHANGED_MEANWHILE)
    # The safeguarding response first (a child visit is the practitioner's to do today), then the
    # audit itself, listing that visit among their actions, then the feedback form on it.
    responded = await inadequate.respond_to_completed(
        session,
        tenant_id=tenant_id,
        audit=audit,
        actor_id=flows.me(request),
        today=request.today,
        now=request.now,
    )
    await audit_result.send_audit_result(
        session,
        tenant_id=tenant_id,
        audit=audit,
        today=request.today,
        practice=await practice_with_exemplars(
            session, tenant_id=tenant_id, settings=request.settings
        ),
    )
    asked = await feedback.ask_for_feedback(
        session, tenant_id=tenant_id, audit=audit, today=request.today
    )
    said: list[str] = []
    if asked and view.practitioner_name:
        said.append(f"I've asked {view.practitioner_name} for feedback on how the audit felt.")
    if responded:
        said.append(_response_said(audit, request.today))
    await flows.refresh_posted(request, [audit_subject(payload.audit_id)], "completed")
    view = await _view(request, payload.audit_id)
    card = completed_card(view, today=request.today, message=" ".join(said) or None)
    return Reply(card=card, summary=completed_line(view, today=request.today))


def _response_said(audit: Audit, today: date) -> str:
    """What completing started: the alert, and when the meeting and the visit are due."""
    if audit.overall_grade == Grade.INADEQUATE:
        said = "As it is inadequate, I've alerted the managers and the QA team."
    else:
        said = "As risk was identified, I've told the team manager, service manager and QA team."
    if audit.meeting_due_on:
        said += f" The action meeting is due by {uk_date(audit.meeting_due_on, today=today)}."
    if audit.visit_due_on:
        said += f" The child visit is due by {uk_date(audit.visit_due_on, today=today)}."
    return said


# The steps the flows share.


async def audit_view_for(
    request: Request, verb: str, audit_id: int
) -> tuple[Audit, GradingView] | Reply:
    """The audit (locked) and its view if the person may grade it and it is open or completed
    (what an exemplar is suggested from); else the answer."""
    found = await _audit_for(request, verb, audit_id, states=OPEN_AUDIT_STATES | DONE_AUDIT_STATES)
    if isinstance(found, Reply):
        return found
    return found, await _view(request, audit_id)


async def _audit_for(
    request: Request, verb: str, audit_id: int, *, states: frozenset[str] = OPEN_AUDIT_STATES
) -> Audit | Reply:
    """The audit (locked) if the person may grade it and it is still open; else the answer."""
    audit = await audits.audit_for_update(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id
    )
    if audit is None:
        message = "I can't find that audit. It may have been removed."
        return flows.refused(request, verb, audit_id, "not_found", message)
    if audit.auditor_id != request.person.id and Role.QA not in request.person.role_set:
        view = await _view(request, audit_id)
        message = (
            f"Only the audit's auditor or the QA team can do this. "
            f"This audit is with {view.auditor_name}."
        )
        return _refuse(request, verb, audit, "not_auditor", message, denied=True)
    if audit.state not in states:
        return await _as_it_stands(request, verb, audit)
    return audit


async def _as_it_stands(request: Request, verb: str, audit: Audit) -> Reply:
    """A press on a card for an audit that has moved on: say where it stands; nothing changes."""
    assert audit.id is not None
    view = await _view(request, audit.id)
    today = request.today
    _log_refusal(request, verb, audit, f"already_{audit.state}")
    if audit.state in DONE_AUDIT_STATES:
        if verb == CardVerb.COMPLETE_AUDIT:
            message = f"Already {completed_line(view, today=today)[0].lower()}{completed_line(view, today=today)[1:]}."
        else:
            when = f" on {uk_moment(view.completed_at, today=today)}" if view.completed_at else ""
            message = (
                f"This audit was completed by {view.completed_by or 'someone'}{when}, "
                "so it can't be changed here."
            )
        return Reply(card=completed_card(view, today=today, message=message), summary=message)
    if audit.state == AuditState.DECLINED:
        message = (
            "This audit was declined, so there is nothing to grade. The QA team will reassign it."
        )
    else:
        message = "This audit was cancelled, so there is nothing to grade."
    return Reply(card=audit_status_card(view, message=message, today=today), summary=message)


async def _form_again(request: Request, payload: SaveGrades, reason: str, message: str) -> Reply:
    """The grading form back, with the message and everything as it was sent."""
    audit_view = await _view(request, payload.audit_id)
    _log_refusal_id(request, CardVerb.SAVE_GRADES, payload.audit_id, reason)
    card = grading_form_card(
        audit_view,
        draft=payload.draft(),
        message=message,
        today=request.today,
        practice=practice_for(request.settings),
    )
    return Reply(card=card, summary="The grades were not saved")


async def working_reply(
    request: Request,
    audit: Audit,
    view: GradingView,
    *,
    message: str,
    drafts: dict[str, ActionDraft] | None = None,
    problems: dict[str, dict[str, str]] | None = None,
    summary: str | None = None,
    warn: bool = False,
) -> Reply:
    owners = await grading.likely_owners(
        session=request.session, tenant_id=request.tenant_id, audit=audit
    )
    card = working_card(
        view,
        owners=owners,
        today=request.today,
        drafts=drafts,
        problems=problems,
        message=message,
        template=await audit_templates.progress(request, audit),
        warn=warn,
    )
    if summary is None:
        summary = message if not problems else "The action was not added"
    return Reply(card=card, summary=summary)


def _refuse(
    request: Request,
    verb: str,
    audit: Audit,
    reason: str,
    message: str,
    *,
    denied: bool = False,
) -> Reply:
    _log_refusal(request, verb, audit, reason, denied=denied)
    return flows.error_reply(message)


def _log_refusal(
    request: Request,
    verb: str,
    audit: Audit,
    reason: str,
    *,
    denied: bool = False,
    fields: list[str] | None = None,
) -> None:
    assert audit.id is not None
    _log_refusal_id(request, verb, audit.id, reason, denied=denied, fields=fields)


def _log_refusal_id(
    request: Request,
    verb: str,
    audit_id: int,
    reason: str,
    *,
    denied: bool = False,
    fields: list[str] | None = None,
) -> None:
    flows.log_refusal(
        request,
        verb,
        audit_id,
        reason if fields is None else f"{reason}: {', '.join(fields)}",
        denied=denied,
    )


def _theme_title(practice: Practice, key: str) -> str:
    theme = practice.theme(key)
    return theme.title if theme else key


async def _view(request: Request, audit_id: int) -> GradingView:
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    view = await grading.grading_view(
        session=request.session, tenant_id=request.tenant_id, audit_id=audit_id, zone=zone
    )
    assert view is not None
    return view


# The owner's card about a new action, rebuilt when the action changes (done, more time, ...).


async def rebuild_action_assigned(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    action_id = subject_id(sent.subject, "action")
    if action_id is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    status = await actions.action_status(
        session=session, tenant_id=tenant_id, action_id=action_id, zone=zone
    )
    by_name = await grading.creator_name(session=session, tenant_id=tenant_id, action_id=action_id)
    if status is None:
        return None
    by = by_name or "The auditor"
    return card_json(
        action_assigned_card(status, by_name=by, today=today)
    ), action_assigned_summary(by)

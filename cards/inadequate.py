"""The cards of the response to an inadequate audit or to risk identified: the alert to the
service's managers and QA (Meeting held / Visit done), the social worker's child-visit card, and
the card telling someone of an action the meeting gave them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Container,
    DateInput,
    ExecuteAction,
    ShowCardAction,
    TextBlock,
    TextColor,
    TextInput,
    TextRun,
)

from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    GRADE_LABELS,
    STANDARD_LABELS,
    ActionState,
    Grade,
)
from cards.action_buttons import owner_buttons
from cards.action_done import uk_moment
from cards.action_form import OwnerChoice
from cards.common import (
    AFTER_TODAY,
    heading,
    label,
    literal,
    new_card,
    note,
    run,
    too_long,
    truncate,
    uk_date,
)
from cards.names import CardVerb, Input, item_input

# Up to three actions from the meeting fit one form; more are added with the action form later.
MEETING_ACTIONS = 3
TEXT_LIMIT = 2000
SHOWN_LIMIT = 500
# A choice per likely owner; more would make the three pickers long and the card heavy.
MAX_OWNER_CHOICES = 15


@dataclass(frozen=True, slots=True)
class Step:
    """The meeting or the visit, as the Action that tracks it."""

    action_id: int
    owner_name: str
    due_on: date
    state: str
    done_by: str | None = None
    done_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Allocated:
    id: int
    what: str
    owner_name: str
    due_on: date


@dataclass(frozen=True, slots=True)
class MeetingRecord:
    held_on: date
    attendees: str
    recorded_by: str
    recorded_at: datetime
    actions: tuple[Allocated, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertView:
    audit_id: int
    case_ref: str
    team: str
    kind: str
    practitioner: str | None
    auditor: str
    completed_on: date | None
    # (standard, grade) for the six standards, in order.
    grades: tuple[tuple[str, str | None], ...]
    overall: str | None
    limiting_reason: str | None
    risk_identified: bool
    meeting_due_on: date | None
    visit_due_on: date | None
    # The day the child was seen; None for a visit marked done without one (before it was asked).
    visited_on: date | None
    meeting: Step | None
    visit: Step | None
    record: MeetingRecord | None
    owners: tuple[OwnerChoice, ...] = ()
    # The tenant's deadlines in words: "within 3 working days", "by the next working day".
    meeting_deadline: str = ""
    visit_deadline: str = ""

    @property
    def inadequate(self) -> bool:
        """Graded inadequate overall (an action meeting is due); else risk alone was identified."""
        return self.overall == Grade.INADEQUATE

    @property
    def meeting_open(self) -> bool:
        """The meeting can still be recorded: no record yet and its action not cancelled."""
        return (
            self.record is None
            and self.meeting is not None
            and self.meeting.state != ActionState.CANCELLED
        )

    @property
    def visit_open(self) -> bool:
        return self.visit is not None and self.visit.state == ActionState.OPEN


@dataclass(frozen=True, slots=True)
class Draft:
    """One action typed into the meeting form, as typed."""

    what: str = ""
    measure: str = ""
    owner: str = ""
    owner_email: str = ""
    due_on: str = ""

    @property
    def blank(self) -> bool:
        return not any((self.what, self.measure, self.owner, self.owner_email, self.due_on))


@dataclass(frozen=True, slots=True)
class MeetingForm:
    """The meeting form's values as typed, so a form with a problem comes back as it was."""

    held_on: str = ""
    attendees: str = ""
    drafts: tuple[Draft, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class VisitForm:
    visited_on: str = ""
    note: str = ""


# Notification previews: never a case reference.


def alert_summary(view: AlertView, *, today: date) -> str:
    if not view.inadequate:
        if view.visit_due_on is None or not view.visit_open:
            return "Risk was identified in an audit"
        return f"Risk was identified in an audit: child visit due {_day(view.visit_due_on, today)}"
    if view.record is not None:
        return "The action meeting for an inadequate audit was held"
    if view.meeting_due_on is None:
        return "An audit was graded inadequate"
    return f"An audit was graded inadequate: action meeting due {_day(view.meeting_due_on, today)}"


def visit_summary(view: AlertView, *, today: date) -> str:
    if view.visit_due_on is None or not view.visit_open:
        return "Your child visit after risk was identified"
    return f"Please visit the child: due {_day(view.visit_due_on, today)}"


def assigned_summary(*, due_on: date, today: date) -> str:
    return f"You have a new action from an action meeting, due {_day(due_on, today)}"


# The cards.


def inadequate_alert_card(
    view: AlertView,
    *,
    today: date,
    notice: str | None = None,
    meeting_form: MeetingForm | None = None,
    visit_form: VisitForm | None = None,
    problem: str | None = None,
    prompt: str | None = None,
) -> AdaptiveCard:
    """To HoS, SM, TM and QA (risk alone: SM, TM and QA). A form given (with a problem, or a
    prompt saying what it needs) is shown open, its values kept."""
    title = "Inadequate audit: action needed" if view.inadequate else "Risk identified: visit due"
    body: list[CardElement] = [heading(title)]
    body += _message(notice, problem, prompt)
    body += _about_audit(view, today)
    body += _grades(view)
    if view.inadequate or view.meeting is not None:
        body += _meeting_section(view, today)
    if view.risk_identified:
        body += _visit_section(view, today)
    actions: list[Action] = []
    if meeting_form is not None and view.meeting_open:
        body += _meeting_inputs(view, meeting_form, today)
        body.append(ActionSet(actions=[_record_meeting_button(view)]))
    elif visit_form is not None and view.visit_open:
        body += _visit_inputs(visit_form, today)
        body.append(ActionSet(actions=[_visit_button(view, card=None)]))
    else:
        if view.meeting_open:
            actions.append(_meeting_show_card(view, today))
        if view.visit_open:
            actions.append(_visit_show_card(view, today, card=None))
    return new_card(body, actions)


def child_visit_card(
    view: AlertView,
    *,
    today: date,
    notice: str | None = None,
    visit_form: VisitForm | None = None,
    problem: str | None = None,
    prompt: str | None = None,
) -> AdaptiveCard:
    """To the social worker: visit the child by the tenant's deadline, then record it here. A
    form given (with a problem or a prompt) is shown open."""
    body: list[CardElement] = [heading("Please visit the child")]
    body += _message(notice, problem, prompt)
    graded = (
        " was graded inadequate with risk identified." if view.inadequate else " identified risk."
    )
    body.append(
        literal(
            "An audit of ",
            run(view.case_ref, bold=True),
            graded,
            " Please visit the child and record the visit on the case file.",
        )
    )
    body += _visit_section(view, today)
    actions: list[Action] = []
    if view.visit_open:
        if visit_form is not None:
            body += _visit_inputs(visit_form, today)
            body.append(ActionSet(actions=[_visit_button(view, card="visit")]))
        else:
            actions.append(_visit_show_card(view, today, card="visit"))
    return new_card(body, actions, wide=False)


def meeting_action_card(
    *,
    action_id: int,
    what: str,
    measure: str,
    due_on: date,
    case_ref: str,
    allocated_by: str,
    today: date,
) -> AdaptiveCard:
    """To the owner of an action agreed at the meeting, with the owner's buttons."""
    return new_card(
        [
            heading("A new action for you"),
            literal(
                run(allocated_by, bold=True),
                " recorded an action meeting on ",
                run(case_ref, bold=True),
                " and gave this action to you.",
            ),
            literal(
                run(f"Action #{action_id}", bold=True), f" · due {uk_date(due_on, today=today)}"
            ),
            literal(truncate(what, SHOWN_LIMIT)),
            literal(run("How we'll know: ", bold=True), truncate(measure, SHOWN_LIMIT)),
            ActionSet.model_validate(owner_buttons(action_id, today=today)),
        ],
        wide=False,
    )


# The parts.


def _day(day: date, today: date) -> str:
    return uk_date(day, today=today)


def _message(
    notice: str | None, problem: str | None, prompt: str | None = None
) -> list[CardElement]:
    if problem is not None:
        return [literal(run(problem, bold=True, color="Attention"))]
    if prompt is not None:
        return [literal(run(prompt, bold=True))]
    if notice is not None:
        return [literal(run(notice, bold=True, color="Good"))]
    return []


def _about_audit(view: AlertView, today: date) -> list[CardElement]:
    about: list[str | TextRun] = [run(view.case_ref, bold=True), " · ", view.team]
    about += [" · ", label(AUDIT_KIND_LABELS, view.kind)]
    parts: list[CardElement] = [literal(*about)]
    if view.practitioner:
        parts.append(literal(run("Practitioner: ", bold=True), view.practitioner))
    line: list[str | TextRun] = [run("Auditor: ", bold=True), view.auditor]
    if view.completed_on:
        line.append(f" · completed {uk_date(view.completed_on, today=today)}")
    parts.append(literal(*line))
    return parts


def _grades(view: AlertView) -> list[CardElement]:
    parts: list[CardElement] = [_subheading("Grades")]
    for standard, grade in view.grades:
        shown = label(GRADE_LABELS, grade) if grade else "Not graded"
        graded = run(shown, bold=True, color="Attention" if grade == "inadequate" else None)
        parts.append(literal(label(STANDARD_LABELS, standard) + ": ", graded))
    overall = label(GRADE_LABELS, view.overall) if view.overall else "Not graded"
    colour: TextColor | None = "Attention" if view.inadequate else None
    parts.append(literal(run("Overall: ", bold=True), run(overall, bold=True, color=colour)))
    if view.limiting_reason:
        parts.append(
            literal(
                run("Limiting judgement, the auditor's reason: ", bold=True),
                truncate(view.limiting_reason, SHOWN_LIMIT),
            )
        )
    parts.append(
        literal(
            run("Risk identified: ", bold=True),
            run("Yes", bold=True, color="Attention") if view.risk_identified else "No",
        )
    )
    return parts


def _meeting_section(view: AlertView, today: date) -> list[CardElement]:
    parts: list[CardElement] = [_subheading("Multi-disciplinary action meeting")]
    record, step = view.record, view.meeting
    if record is not None:
        parts.append(
            literal(
                run(
                    f"Meeting held ✓ {uk_date(record.held_on, today=today)}",
                    color="Good",
                    bold=True,
                ),
                f" · recorded by {record.recorded_by}, {uk_moment(record.recorded_at, today=today)}",
            )
        )
        parts.append(literal(run("Present: ", bold=True), truncate(record.attendees, SHOWN_LIMIT)))
        for item in record.actions:
            parts.append(
                literal(
                    run(f"Action #{item.id}", bold=True),
                    f" · {item.owner_name} · due {uk_date(item.due_on, today=today)} · ",
                    truncate(item.what, 200),
                )
            )
        return parts
    if step is None:
        parts.append(note("No action meeting is being tracked for this audit."))
        return parts
    if step.state == ActionState.CANCELLED:
        parts.append(note("The action meeting was cancelled."))
        return parts
    if step.state in (ActionState.DONE, ActionState.CONFIRMED):
        done = "Marked done ✓"
        if step.done_by:
            done += f" by {step.done_by}"
        if step.done_at:
            done += f", {uk_moment(step.done_at, today=today)}"
        parts.append(literal(run(done, color="Good", bold=True)))
        parts.append(note("Who attended and the actions agreed are not recorded yet.", subtle=True))
        return parts
    parts.append(_due_line("Due", step, today, view.meeting_deadline))
    parts.append(literal(run("Arranged by ", subtle=True), step.owner_name))
    return parts


def _visit_section(view: AlertView, today: date) -> list[CardElement]:
    parts: list[CardElement] = [_subheading("Child visit by the social worker")]
    step = view.visit
    if step is None:
        parts.append(note("No child visit is being tracked for this audit."))
        return parts
    if step.state == ActionState.CANCELLED:
        parts.append(note("The child visit was cancelled."))
        return parts
    if step.state in (ActionState.DONE, ActionState.CONFIRMED):
        line = "Visit done ✓"
        if view.visited_on is not None:
            line += f" {uk_date(view.visited_on, today=today)}"
        if step.done_by:
            line += f" · recorded by {step.done_by}"
        if step.done_at:
            line += f", {uk_moment(step.done_at, today=today)}"
        parts.append(literal(run(line, color="Good", bold=True)))
        if step.note:
            parts.append(literal(run("Note: ", bold=True), truncate(step.note, SHOWN_LIMIT)))
        return parts
    parts.append(_due_line("Due", step, today, view.visit_deadline))
    parts.append(literal(run("Social worker: ", subtle=True), step.owner_name))
    return parts


def _due_line(word: str, step: Step, today: date, deadline: str) -> CardElement:
    """ "Due Tue 1 Dec · within 3 working days · Action #5": the day and the rule that set it."""
    due = uk_date(step.due_on, today=today)
    rule = f"  ·  {deadline}" if deadline else ""
    if step.due_on < today:
        return literal(
            run(f"Overdue: was due {due}", bold=True, color="Attention"), run(rule, subtle=True)
        )
    return literal(
        run(f"{word} {due}", bold=True),
        run(f"{rule}  ·  Action #{step.action_id}", subtle=True),
    )


def _subheading(text: str) -> TextBlock:
    return TextBlock(text=text, weight="Bolder", size="Medium", wrap=True, spacing="Large")


def _meeting_show_card(view: AlertView, today: date) -> ShowCardAction:
    form = new_card(
        [*_meeting_inputs(view, MeetingForm(), today)],
        [_record_meeting_button(view)],
        wide=False,
    )
    return ShowCardAction(title="Meeting held", card=form)


def _record_meeting_button(view: AlertView) -> ExecuteAction:
    return ExecuteAction(
        title="Record the meeting",
        verb=CardVerb.MEETING_HELD,
        data={"action": CardVerb.MEETING_HELD, "audit_id": view.audit_id},
        style="positive",
    )


def _meeting_inputs(view: AlertView, form: MeetingForm, today: date) -> list[CardElement]:
    parts: list[CardElement] = [
        DateInput(
            id="held_on",
            label="Date held",
            max=today.isoformat(),
            value=form.held_on or today.isoformat(),
            is_required=True,
            error_message="Please give the date of the meeting.",
        ),
        TextInput(
            id="attendees",
            label="Who attended (roles and names of staff; no child or family names)",
            placeholder="e.g. SW Alex Wilber, TM Megan Bowen, IRO, CP chair",
            is_multiline=True,
            max_length=TEXT_LIMIT,
            value=form.attendees or None,
            is_required=True,
            error_message="Please say who attended.",
        ),
        note(
            "Actions agreed (up to three here): what will be done, how we'll know, who owns "
            "it and when it's due. Don't use a child's or family member's name.",
            subtle=True,
        ),
    ]
    drafts = list(form.drafts) + [Draft()] * (MEETING_ACTIONS - len(form.drafts))
    choices = [Choice(title=f"{o.name} ({o.part})", value=str(o.id)) for o in view.owners]
    first_day = (today + timedelta(days=1)).isoformat()
    for n, draft in enumerate(drafts[:MEETING_ACTIONS], start=1):
        parts.append(
            Container(
                separator=True,
                spacing="Medium",
                items=[
                    TextBlock(text=f"Action {n}", weight="Bolder", wrap=True),
                    TextInput(
                        id=item_input(Input.WHAT, n),
                        label="What will be done",
                        is_multiline=True,
                        max_length=TEXT_LIMIT,
                        error_message=too_long(TEXT_LIMIT),
                        value=draft.what or None,
                    ),
                    TextInput(
                        id=item_input(Input.MEASURE, n),
                        label="How we will know it's done",
                        max_length=TEXT_LIMIT,
                        error_message=too_long(TEXT_LIMIT),
                        value=draft.measure or None,
                    ),
                    ChoiceSetInput(
                        id=item_input(Input.OWNER, n),
                        label="Owner",
                        style="compact",
                        placeholder="Choose who owns it",
                        choices=choices[:MAX_OWNER_CHOICES],
                        value=draft.owner or None,
                    ),
                    TextInput(
                        id=item_input(Input.OWNER_EMAIL, n),
                        label="Or the owner's work email (e.g. the CP chair or IRO)",
                        max_length=320,
                        error_message=too_long(320),
                        value=draft.owner_email or None,
                    ),
                    DateInput(
                        id=item_input(Input.DUE_ON, n),
                        label="Due (a working day)",
                        min=first_day,
                        error_message=AFTER_TODAY,
                        value=draft.due_on or None,
                    ),
                ],
            )
        )
    return parts


def _visit_show_card(view: AlertView, today: date, *, card: str | None) -> ShowCardAction:
    form = new_card(_visit_inputs(VisitForm(), today), [_visit_button(view, card=card)], wide=False)
    return ShowCardAction(title="Visit done", card=form)


def _visit_button(view: AlertView, *, card: str | None) -> ExecuteAction:
    data: dict[str, object] = {"action": CardVerb.VISIT_DONE, "audit_id": view.audit_id}
    if card is not None:
        data["card"] = card
    return ExecuteAction(
        title="Record the visit", verb=CardVerb.VISIT_DONE, data=data, style="positive"
    )


def _visit_inputs(form: VisitForm, today: date) -> list[CardElement]:
    return [
        DateInput(
            id="visited_on",
            label="Date of the visit",
            max=today.isoformat(),
            value=form.visited_on or today.isoformat(),
            is_required=True,
            error_message="Please give the date of the visit.",
        ),
        TextInput(
            id="visit_note",
            label="Short note (no child or family names)",
            is_multiline=True,
            max_length=TEXT_LIMIT,
            error_message=too_long(TEXT_LIMIT),
            value=form.note or None,
        ),
    ]

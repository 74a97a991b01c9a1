"""The auditor's grading cards: the form (six standards, overall, summary, strengths, risk), the
working card (grades, actions with a draft for each weak standard, Complete audit), and the card a
completed audit shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    ExecuteAction,
    ShowCardAction,
    TextBlock,
    TextColor,
    TextInput,
    TextRun,
    ToggleInput,
)
from microsoft_teams.cards import (
    Choice as CardChoice,
)

from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    GRADE_LABELS,
    STANDARD_LABELS,
    ActionState,
    Grade,
    Standard,
    needs_action,
)
from bot.rules.themes import Finding
from cards.action_done import uk_moment
from cards.action_form import NO_NAMES, TEXT_LIMIT, ActionDraft, OwnerChoice, action_form
from cards.common import (
    heading,
    label,
    literal,
    new_card,
    note,
    run,
    too_long,
    truncate,
    uk_date,
    up_to,
)
from cards.exemplars import suggest_exemplar_actions
from cards.names import CardVerb, Input, item_input
from cards.practice import Practice, Theme, descriptor_toggle
from cards.template import TemplateProgress

ANY = "any"
WHAT_LIMIT = 300
MEASURE_LIMIT = 200
# The working card also holds the forms; the completed card shows these in full.
NOTE_LIMIT = 500
# Enough for any real audit; each card stays below 40 KB with long text in every field (the
# working card also holds up to seven action forms).
MAX_ACTIONS_SHOWN = 20
MAX_ACTIONS_WORKING = 10
THEMES_HINT = (
    "Under each standard, tick the themes you saw as strengths or to improve: they show the "
    "practitioner the learning for them, and the QA team what to train on."
)
LIMITING_HINT = (
    "Limiting judgement: if any standard is inadequate, the overall grade is inadequate unless "
    "you say why it should be better. Reasons are listed for moderation."
)


@dataclass(frozen=True, slots=True)
class ActionLine:
    id: int
    standard: str | None
    what: str
    measure: str
    owner_name: str
    due_on: date
    state: str
    owner_id: int | None = None


@dataclass(frozen=True, slots=True)
class TaggedTheme:
    """A theme ticked in an audit: its key, standard, name when ticked and the finding."""

    key: str
    standard: str
    title: str
    finding: str


@dataclass(frozen=True, slots=True)
class GradingView:
    """An audit as its grading cards show it; times already in the tenant's zone."""

    id: int
    case_ref: str
    kind: str
    theme: str | None
    state: str
    due_on: date
    auditor_name: str
    practitioner_name: str | None
    grades: Mapping[str, str | None]
    overall_grade: str | None
    limiting_reason: str | None = None
    risk_identified: bool = False
    summary: str | None = None
    strengths_seen: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    actions: tuple[ActionLine, ...] = ()
    themes: tuple[TaggedTheme, ...] = ()
    # The practitioner's own grades (a collaborative audit), shown beside the auditor's once the
    # audit is completed; never before.
    own_grades: Mapping[str, str] = field(default_factory=dict)

    @property
    def graded(self) -> bool:
        return self.overall_grade is not None and all(self.grades.get(s) for s in Standard)

    def without_action(self) -> list[Standard]:
        """Weak standards with no action yet: each gets a draft action form."""
        covered = {a.standard for a in self.actions if a.state != ActionState.CANCELLED}
        return [s for s in Standard if needs_action(self.grades.get(s)) and s not in covered]


@dataclass(frozen=True, slots=True)
class GradesDraft:
    """The grading form's values, as saved or as just sent."""

    grades: Mapping[str, str] = field(default_factory=dict)
    overall_grade: str = ""
    summary: str = ""
    strengths_seen: str = ""
    risk_identified: bool = False
    limiting_reason: str = ""
    # Theme key → finding, as ticked.
    themes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, view: GradingView) -> GradesDraft:
        return cls(
            themes={t.key: t.finding for t in view.themes},
            grades={s.value: view.grades.get(s) or "" for s in Standard},
            overall_grade=view.overall_grade or "",
            summary=view.summary or "",
            strengths_seen=view.strengths_seen or "",
            risk_identified=view.risk_identified,
            limiting_reason=view.limiting_reason or "",
        )


def completed_line(view: GradingView, *, today: date) -> str:
    """ "Completed ✓ by Patti Fernandez, 26 Nov 10:02"."""
    line = "Completed ✓"
    if view.completed_by:
        line += f" by {view.completed_by}"
    if view.completed_at:
        line += f", {uk_moment(view.completed_at, today=today)}"
    return line


# The form.


def grading_form_card(
    view: GradingView,
    *,
    draft: GradesDraft,
    message: str | None,
    today: date,
    practice: Practice | None = None,
) -> AdaptiveCard:
    practice = practice or Practice()
    body: list[CardElement] = [heading("Record grades"), *_about(view, today)]
    if message:
        body.append(_attention(message))
    body.append(_subheading("Practice standards"))
    if practice.themes:
        body.append(note(THEMES_HINT, subtle=True))
    for standard in Standard:
        body.append(
            _grade_choice(
                f"grade_{standard.value}",
                STANDARD_LABELS[standard],
                draft.grades.get(standard.value, ""),
            )
        )
        body += descriptor_toggle(
            practice.descriptors.get(standard.value),
            item=standard.value,
            title="What good looks like and each grade",
        )
        body += _theme_choices(practice.themes_of(standard.value), standard.value, draft.themes)
    body += [
        _subheading("Overall"),
        _grade_choice("overall_grade", "Overall grade", draft.overall_grade),
        TextInput(
            id="limiting_reason",
            label=up_to(
                "Why the overall grade is better than an inadequate standard (if it is)",
                TEXT_LIMIT,
            ),
            is_multiline=True,
            max_length=TEXT_LIMIT,
            error_message=too_long(TEXT_LIMIT),
            value=draft.limiting_reason or None,
        ),
        note(LIMITING_HINT, subtle=True),
        TextInput(
            id="summary",
            label=up_to("Summary", TEXT_LIMIT),
            placeholder=NO_NAMES,
            is_multiline=True,
            max_length=TEXT_LIMIT,
            error_message=too_long(TEXT_LIMIT),
            value=draft.summary or None,
        ),
        TextInput(
            id="strengths_seen",
            label=up_to("Strengths seen", TEXT_LIMIT),
            placeholder=NO_NAMES,
            is_multiline=True,
            max_length=TEXT_LIMIT,
            error_message=too_long(TEXT_LIMIT),
            value=draft.strengths_seen or None,
        ),
        ToggleInput(
            id="risk_identified",
            title="Risk identified: the child needs a visit by their social worker",
            value="true" if draft.risk_identified else "false",
            value_on="true",
            value_off="false",
            wrap=True,
        ),
    ]
    save = ExecuteAction(
        title="Save grades",
        verb=CardVerb.SAVE_GRADES,
        data={"action": CardVerb.SAVE_GRADES, "audit_id": view.id},
        style="positive",
    )
    return new_card(body, [save])


def _theme_choices(
    themes: Sequence[Theme], standard: str, ticked: Mapping[str, str]
) -> list[CardElement]:
    """Two compact multi-selects: the standard's themes seen as strengths, and to improve."""
    if not themes:
        return []
    choices = [CardChoice(title=t.title, value=t.key) for t in themes]
    return [
        ChoiceSetInput(
            id=item_input(name, standard),
            label=text,
            style="compact",
            is_multi_select=True,
            value=",".join(t.key for t in themes if ticked.get(t.key) == finding) or None,
            choices=choices,
        )
        for name, finding, text in (
            (Input.STRENGTH, Finding.STRENGTH, "Themes seen as strengths"),
            (Input.TO_IMPROVE, Finding.TO_IMPROVE, "Themes to improve"),
        )
    ]


def _grade_choice(input_id: str, text: str, value: str) -> ChoiceSetInput:
    return ChoiceSetInput(
        id=input_id,
        label=text,
        style="compact",
        placeholder="Choose a grade",
        value=value or None,
        choices=[CardChoice(title=GRADE_LABELS[g], value=g.value) for g in Grade],
    )


# The working card.


def working_card(
    view: GradingView,
    *,
    owners: Sequence[OwnerChoice],
    today: date,
    drafts: Mapping[str, ActionDraft] | None = None,
    problems: Mapping[str, Mapping[str, str]] | None = None,
    message: str | None = None,
    template: TemplateProgress | None = None,
    warn: bool = False,
) -> AdaptiveCard:
    """Grades saved: what they are, the actions so far, a draft action for each weak standard
    without one, Add an action, Change grades and Complete audit; and the audit template's
    questions answered so far, if it has one. `drafts` and `problems` are keyed by form (a
    standard's value, or "any")."""
    drafts = drafts or {}
    problems = problems or {}
    body: list[CardElement] = [heading("Grades and actions"), *_about(view, today)]
    if message:
        body.append(
            _attention(message)
            if problems or warn
            else literal(run(message, bold=True, color="Good"))
        )
    body += _grades_section(view, NOTE_LIMIT)
    if template is not None:
        body += [_subheading("Template questions"), literal(template.line())]
    body += _actions_section(view, today, MAX_ACTIONS_WORKING)
    extra = {"audit_id": view.id}
    for standard in view.without_action():
        body.append(
            action_form(
                action=CardVerb.ADD_ACTION,
                form=standard.value,
                owners=owners,
                today=today,
                draft=drafts.get(standard.value),
                problems=problems.get(standard.value),
                standard=standard.value,
                title=f"Draft action: {STANDARD_LABELS[standard]}",
                extra=extra,
            )
        )
    any_form = new_card(
        [
            action_form(
                action=CardVerb.ADD_ACTION,
                form=ANY,
                owners=owners,
                today=today,
                draft=drafts.get(ANY),
                problems=problems.get(ANY),
                extra=extra,
            )
        ],
        wide=False,
    )
    answer = (
        [
            ExecuteAction(
                title="Check the answers" if template.done else "Answer the questions",
                verb=CardVerb.OPEN_TEMPLATE,
                data={
                    "action": CardVerb.OPEN_TEMPLATE,
                    "audit_id": view.id,
                    "page": template.first_open_page,
                },
                associated_inputs="none",
            )
        ]
        if template is not None
        else []
    )
    buttons = [
        *answer,
        ShowCardAction(title="Add an action", card=any_form),
        ExecuteAction(
            title="Change grades",
            verb=CardVerb.OPEN_GRADING,
            data={"action": CardVerb.OPEN_GRADING, "audit_id": view.id},
            associated_inputs="none",
        ),
        *exemplar_actions(view),
        ExecuteAction(
            title="Complete audit",
            verb=CardVerb.COMPLETE_AUDIT,
            data={"action": CardVerb.COMPLETE_AUDIT, "audit_id": view.id},
            # The draft forms go too, so an action typed but not added is not lost.
            style="positive",
        ),
    ]
    return new_card(body, buttons)


# A completed audit, and one that can no longer be graded.


def completed_card(view: GradingView, *, today: date, message: str | None = None) -> AdaptiveCard:
    body: list[CardElement] = [
        heading("Audit completed"),
        *_about(view, today),
        literal(run(completed_line(view, today=today), bold=True, color="Good")),
    ]
    if message:
        body.append(literal(message))
    body += _grades_section(view)
    body += _own_view_line(view)
    body += _actions_section(view, today)
    return new_card(body, exemplar_actions(view))


def audit_status_card(view: GradingView, *, message: str, today: date) -> AdaptiveCard:
    """A press on a card for an audit that was cancelled or declined: where it stands."""
    return new_card([heading("Audit"), *_about(view, today), literal(run(message, bold=True))])


# Parts.


def _about(view: GradingView, today: date) -> list[CardElement]:
    kind = label(AUDIT_KIND_LABELS, view.kind)
    line: list[str | TextRun] = [run(view.case_ref, bold=True), f" · {kind}"]
    if view.theme:
        line += [": ", view.theme]
    who = f"Practitioner: {view.practitioner_name} · " if view.practitioner_name else ""
    return [
        literal(*line),
        literal(f"{who}Auditor: {view.auditor_name} · Due {uk_date(view.due_on, today=today)}"),
    ]


def _grades_section(view: GradingView, limit: int = TEXT_LIMIT) -> list[CardElement]:
    if view.overall_grade is None:
        return []
    parts: list[CardElement] = [_subheading("Grades")]
    for standard in Standard:
        grade = view.grades.get(standard)
        parts.append(literal(f"{STANDARD_LABELS[standard]}: ", grade_run(grade, bold=False)))
    parts.append(literal(run("Overall: ", bold=True), grade_run(view.overall_grade, bold=True)))
    if view.limiting_reason:
        parts.append(
            literal(
                run("Why better than an inadequate standard: ", bold=True),
                truncate(view.limiting_reason, limit),
            )
        )
    if view.risk_identified:
        parts.append(
            literal(run("Risk identified: a visit by the social worker is due", bold=True))
        )
    if view.summary:
        parts.append(literal(run("Summary: ", bold=True), truncate(view.summary, limit)))
    if view.strengths_seen:
        parts.append(
            literal(run("Strengths seen: ", bold=True), truncate(view.strengths_seen, limit))
        )
    parts += themes_lines(view)
    return parts


def exemplar_actions(view: GradingView) -> list[Action]:
    """ "Suggest an exemplar", for an audit with themes ticked as strengths."""
    strengths = [(t.key, t.title) for t in view.themes if t.finding == Finding.STRENGTH]
    return suggest_exemplar_actions(view.id, strengths)


def _own_view_line(view: GradingView) -> list[CardElement]:
    """The practitioner's own grades, given before they saw these (the audit is completed)."""
    if not view.own_grades:
        return []
    given = [
        f"{STANDARD_LABELS[s]}: {label(GRADE_LABELS, grade)}"
        for s in Standard
        if (grade := view.own_grades.get(s.value))
    ]
    name = view.practitioner_name or "The practitioner"
    return [literal(run(f"{name}'s own view: ", bold=True), "; ".join(given))]


def themes_lines(view: GradingView) -> list[CardElement]:
    """ "Themes seen as strengths: …" and "Themes to improve: …", as ticked."""
    lines: list[CardElement] = []
    for finding, text in (
        (Finding.STRENGTH, "Themes seen as strengths: "),
        (Finding.TO_IMPROVE, "Themes to improve: "),
    ):
        titles = [t.title for t in view.themes if t.finding == finding]
        if titles:
            lines.append(literal(run(text, bold=True), "; ".join(titles)))
    return lines


def grade_run(grade: str | None, *, bold: bool) -> TextRun:
    colour: TextColor | None = None
    if grade == Grade.INADEQUATE:
        colour = "Attention"
    elif grade == Grade.REQUIRES_IMPROVEMENT:
        colour = "Warning"
    elif grade in (Grade.GOOD, Grade.OUTSTANDING):
        colour = "Good"
    return run(label(GRADE_LABELS, grade) if grade else "not graded", bold=bold, color=colour)


def _actions_section(
    view: GradingView, today: date, shown: int = MAX_ACTIONS_SHOWN
) -> list[CardElement]:
    parts: list[CardElement] = [_subheading("Actions")]
    if not view.actions:
        parts.append(note("No actions yet.", subtle=True))
    for action in view.actions[:shown]:
        about: list[str | TextRun] = [run(f"#{action.id}", bold=True)]
        if action.standard:
            about.append(" · " + label(STANDARD_LABELS, action.standard))
        state = "" if action.state == ActionState.OPEN else f" · {action.state}"
        items: list[CardElement] = [
            literal(*about),
            literal(truncate(action.what, WHAT_LIMIT)),
            literal(run("How we'll know: ", bold=True), truncate(action.measure, MEASURE_LIMIT)),
            literal(
                f"Owner: {action.owner_name} · due {uk_date(action.due_on, today=today)}{state}"
            ),
        ]
        parts.append(Container(items=items, separator=True))
    if len(view.actions) > shown:
        parts.append(note(f"And {len(view.actions) - shown} more.", subtle=True))
    return parts


def _subheading(text: str) -> TextBlock:
    return TextBlock(text=text, weight="Bolder", size="Medium", wrap=True, spacing="Large")


def _attention(message: str) -> CardElement:
    return literal(run(message, bold=True, color="Attention"))

"""The practitioner's own copy of their completed audit: the grades and why, what the auditor saw
and the actions that are theirs. The feedback form follows it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from microsoft_teams.cards import Action, AdaptiveCard, CardElement, Container, TextRun

from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    STANDARD_LABELS,
    ActionState,
    Grade,
    Standard,
)
from bot.rules.themes import Finding
from cards.action_form import TEXT_LIMIT
from cards.common import (
    counted,
    heading,
    im_back,
    label,
    literal,
    new_card,
    note,
    run,
    section,
    truncate,
    uk_date,
)
from cards.grading import (
    MEASURE_LIMIT,
    WHAT_LIMIT,
    ActionLine,
    GradingView,
    grade_run,
    themes_lines,
)
from cards.practice import Practice, descriptor_toggle, learning_links

# Each with the longest what and how-we'll-know in any script, the card stays under 40 KB; more
# are one `my actions` away.
ACTIONS_SHOWN = 8
STATE_WORDS: dict[str, str] = {
    ActionState.DONE: "done ✓",
    ActionState.CONFIRMED: "done and confirmed ✓",
    ActionState.CANCELLED: "cancelled",
}


def audit_result_summary() -> str:
    """The notification preview: no case reference."""
    return "Your audit is complete: your grades and actions"


def audit_result_card(
    view: GradingView, *, practitioner_id: int, today: date, practice: Practice | None = None
) -> AdaptiveCard:
    """`view` as the completed audit stands; the actions listed are those `practitioner_id` owns.
    Each grade opens its descriptor; the themes ticked come with their learning links."""
    practice = practice or Practice()
    kind = label(AUDIT_KIND_LABELS, view.kind)
    about: list[str | TextRun] = [run(view.case_ref, bold=True), f" · {kind}"]
    if view.theme:
        about += [": ", view.theme]
    done = (
        f" · completed {uk_date(view.completed_at.date(), today=today)}"
        if view.completed_at
        else ""
    )
    body: list[CardElement] = [
        heading("Your audit is complete"),
        literal(*about),
        literal(f"Audited by {view.auditor_name}{done}"),
        section("Grades: the auditor's and your own view" if view.own_grades else "Grades"),
    ]
    for standard in Standard:
        grade = view.grades.get(standard)
        body.append(_grade_line(standard, grade, view.own_grades))
        body += descriptor_toggle(
            practice.descriptors.get(standard.value),
            item=standard.value,
            title="What this grade means",
            grade=grade,
        )
    body.append(literal(run("Overall: ", bold=True), grade_run(view.overall_grade, bold=True)))
    body += _why(view)
    if view.risk_identified:
        body.append(
            literal(
                run("Risk identified: the child needs a visit by their social worker.", bold=True)
            )
        )
    if view.strengths_seen:
        body.append(
            literal(run("Strengths seen: ", bold=True), truncate(view.strengths_seen, TEXT_LIMIT))
        )
    if view.summary:
        body.append(literal(run("Summary: ", bold=True), truncate(view.summary, TEXT_LIMIT)))
    body += themes_lines(view)
    # Learning for what is to improve first, then for the strengths.
    ticked = sorted(view.themes, key=lambda t: t.finding != Finding.TO_IMPROVE)
    known = [theme for t in ticked if (theme := practice.theme(t.key)) is not None]
    learning, link_buttons = learning_links(known)
    body += learning
    mine = [a for a in view.actions if a.owner_id == practitioner_id]
    others = [
        a
        for a in view.actions
        if a.owner_id != practitioner_id and a.state != ActionState.CANCELLED
    ]
    body.append(section("Your actions"))
    if not mine:
        body.append(note("No actions for you from this audit."))
    for action in mine[:ACTIONS_SHOWN]:
        body.append(_action(action, today))
    if len(mine) > ACTIONS_SHOWN:
        more = len(mine) - ACTIONS_SHOWN
        body.append(note(f"{counted(more, 'more action')}: type my actions to see them all."))
    if others:
        held = "is" if len(others) == 1 else "are"
        body.append(
            note(
                f"{counted(len(others), 'other action')} from this audit {held} with someone else."
            )
        )
    body.append(note("A short feedback form follows: how did the audit feel?", subtle=True))
    buttons: list[Action] = [im_back("My actions", "my actions")] if mine else []
    return new_card(body, [*buttons, *link_buttons])


def _grade_line(standard: Standard, grade: str | None, own: Mapping[str, str]) -> CardElement:
    """The auditor's grade; beside it the practitioner's own, when they gave their view."""
    if not own:
        return literal(f"{STANDARD_LABELS[standard]}: ", grade_run(grade, bold=False))
    mine = own.get(standard.value)
    return literal(
        f"{STANDARD_LABELS[standard]}: ",
        "Auditor ",
        grade_run(grade, bold=True),
        " · You ",
        grade_run(mine, bold=True) if mine else run("left out", subtle=True),
    )


def _why(view: GradingView) -> list[CardElement]:
    """The limiting judgement, where it shaped the overall grade."""
    if view.limiting_reason:
        return [
            literal(
                run("Why better than an inadequate standard: ", bold=True),
                truncate(view.limiting_reason, TEXT_LIMIT),
            )
        ]
    inadequate = [s for s in Standard if view.grades.get(s) == Grade.INADEQUATE]
    if view.overall_grade == Grade.INADEQUATE and inadequate:
        which = counted(len(inadequate), "standard")
        return [
            note(
                f"Why inadequate overall: {which} {'is' if len(inadequate) == 1 else 'are'} "
                "inadequate, and an inadequate standard limits the overall grade."
            )
        ]
    return []


def _action(action: ActionLine, today: date) -> Container:
    about: list[str | TextRun] = [run(f"#{action.id}", bold=True)]
    if action.standard:
        about.append(" · " + label(STANDARD_LABELS, action.standard))
    state = STATE_WORDS.get(action.state)
    due = f"Due {uk_date(action.due_on, today=today)}" + (f" · {state}" if state else "")
    return Container(
        items=[
            literal(*about),
            literal(truncate(action.what, WHAT_LIMIT)),
            literal(run("How we'll know: ", bold=True), truncate(action.measure, MEASURE_LIMIT)),
            literal(due),
        ],
        separator=True,
    )

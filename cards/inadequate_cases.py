"""The `inadequate` card: every case judged inadequate in the last 12 months and what followed —
the action meeting, the child visit, the actions (done and verified) and the re-audit with how
each standard changed. Case references only; it is sent privately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import AdaptiveCard, CardElement, Container

from bot.rules.deadlines import Timeliness
from bot.rules.reaudit import CHANGE_LABELS, Change
from cards.common import (
    counted,
    heading,
    label,
    literal,
    new_card,
    note,
    paging_actions,
    run,
    showing_line,
    uk_date,
)
from cards.digest import STANDARD_SHORT
from cards.names import CardVerb
from cards.views import Page


@dataclass(frozen=True, slots=True)
class Step:
    """The meeting or the visit: when it was due, when it happened, and so where it stands."""

    due_on: date
    done_on: date | None
    timeliness: Timeliness


@dataclass(frozen=True, slots=True)
class Reaudit:
    audit_id: int | None
    # "due", "done", "cancelled" or "not_scheduled"
    state: str
    due_on: date | None = None
    auditor: str | None = None
    completed_on: date | None = None
    # (standard, change) in the framework's order; None where a grade is missing.
    changes: tuple[tuple[str, Change | None], ...] = ()
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TrackedCase:
    audit_id: int
    case_ref: str
    team: str
    completed_on: date
    meeting: Step | None
    visit: Step | None
    actions: int
    done: int
    verified: int
    reaudit: Reaudit


def inadequate_cases_card(*, cases: list[TrackedCase], page: Page, today: date) -> AdaptiveCard:
    title = heading("Children's cases judged inadequate")
    if not cases and page.offset == 0:
        return new_card([title, note("No case was judged inadequate in the last 12 months.")])
    body: list[CardElement] = [
        title,
        note(
            f"{counted(page.total, 'case')} in the last 12 months, newest first: the meeting, "
            "the visit, the actions and the re-audit. An action is verified when the re-audit "
            "shows its standard is no longer inadequate."
        ),
    ]
    if showing := showing_line(page, len(cases)):
        body.append(note(showing, subtle=True))
    body += [_case(c, today) for c in cases]
    return new_card(body, paging_actions(page, CardVerb.INADEQUATE_PAGE))


def inadequate_cases_summary(total: int) -> str:
    return f"{counted(total, 'case')} judged inadequate in the last 12 months"


def _case(case: TrackedCase, today: date) -> Container:
    return Container(
        separator=True,
        items=[
            literal(
                run(case.case_ref, bold=True),
                f" · {case.team} · judged inadequate {uk_date(case.completed_on, today=today)}",
                f" (audit #{case.audit_id})",
            ),
            literal(run("Meeting: ", bold=True), _step(case.meeting, "held", today)),
            literal(run("Visit: ", bold=True), _step(case.visit, "done", today)),
            literal(run("Actions: ", bold=True), _actions(case)),
            literal(run("Re-audit: ", bold=True), _reaudit(case.reaudit, today)),
        ],
    )


def _step(step: Step | None, done: str, today: date) -> str:
    if step is None:
        return "none was due"
    due = uk_date(step.due_on, today=today)
    if step.done_on is not None:
        when = uk_date(step.done_on, today=today)
        if step.timeliness is Timeliness.IN_TIME:
            return f"{done} {when}, in time ✓"
        return f"{done} {when}, late (due {due})"
    if step.timeliness is Timeliness.OVERDUE:
        return f"not {done}, overdue since {due}"
    return f"due by {due}"


def _actions(case: TrackedCase) -> str:
    if case.actions == 0:
        return "none recorded"
    return f"{case.done} of {case.actions} done, {case.verified} verified"


def _reaudit(again: Reaudit, today: date) -> str:
    number = f" (audit #{again.audit_id})" if again.audit_id else ""
    if again.state == "not_scheduled":
        return f"not scheduled: {again.reason}" if again.reason else "not scheduled"
    if again.state == "cancelled":
        return f"cancelled{number}: {again.reason}" if again.reason else f"cancelled{number}"
    if again.state == "due" and again.due_on is not None:
        who = f" with {again.auditor}" if again.auditor else ""
        return f"due {uk_date(again.due_on, today=today)}{who}{number}"
    if again.completed_on is None:
        return f"done{number}"
    said = f"done {uk_date(again.completed_on, today=today)}{number}"
    grouped = [
        f"{label(CHANGE_LABELS, c)}: "
        + ", ".join(STANDARD_SHORT.get(s, s) for s, moved in again.changes if moved == c)
        for c in Change
        if any(moved == c for _, moved in again.changes)
    ]
    return said + (" — " + "; ".join(grouped) if grouped else "")

"""The `team` card for managers: what waits for their decision, overdue actions, this month's audit
compliance and audit programme, and who is away."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from microsoft_teams.cards import ActionSet, AdaptiveCard, CardElement, Container

from bot.rules.digest import percent, share
from bot.rules.grades import STANDARD_LABELS
from bot.rules.programmes import Progress
from cards.action_done import decision_buttons
from cards.common import (
    counted,
    heading,
    label,
    literal,
    new_card,
    note,
    paging_actions,
    run,
    section,
    showing_line,
    truncate,
    uk_date,
)
from cards.digest import programme_line
from cards.extension import extension_buttons
from cards.names import CardVerb, ListCard
from cards.practice import Theme, learning_links
from cards.views import Page

WHAT_LIMIT = 200
REASON_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Overdue:
    action_id: int
    owner_name: str
    what: str
    case_ref: str | None
    standard: str | None
    due_on: date
    overdue_days: int


@dataclass(frozen=True, slots=True)
class WaitingExtension:
    request_id: int
    action_id: int
    owner_name: str
    what: str
    old_due_on: date
    new_due_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class WaitingDone:
    action_id: int
    owner_name: str
    what: str
    done_note: str | None


@dataclass(frozen=True, slots=True)
class Compliance:
    team: str
    due: int
    completed: int
    # Declined and not reassigned: due, and not done.
    declined: int = 0
    # Not shown (bot.rules.disclosure): it rests on too few audits.
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class TeamView:
    title: str
    extensions: list[WaitingExtension]
    confirmations: list[WaitingDone]
    more_waiting: bool
    overdue: list[Overdue]
    page: Page
    compliance: list[Compliance]
    away: list[tuple[str, date]]
    away_total: int
    # Every team's together, hidden ones too; None: the rows' sum (none hidden).
    compliance_total: Compliance | None = None
    # How a hidden figure reads: "fewer than 3".
    hidden_text: str = ""
    # Each programme's audits completed this month against its target.
    programmes: list[Progress] = field(default_factory=list)
    # A team's or service's card: the three council programmes' figures are the council's.
    council_wide: bool = False
    # A team manager's team's top areas to improve this quarter, with their learning links.
    learning: list[Theme] = field(default_factory=list)


def team_card(view: TeamView, *, today: date, notice: str | None = None) -> AdaptiveCard:
    body: list[CardElement] = [heading(view.title)]
    if notice:
        body.append(literal(run(notice, bold=True, color="Good")))
    extra = {"card": ListCard.TEAM, "offset": view.page.offset}
    if view.extensions or view.confirmations:
        body.append(section("Waiting for you"))
        body += [_extension(item, today, extra) for item in view.extensions]
        body += [_confirmation(item, extra) for item in view.confirmations]
        if view.more_waiting:
            body.append(note("More are waiting: they show here as you decide these.", subtle=True))
    body.append(section(_overdue_title(view.page.total)))
    if showing := showing_line(view.page, len(view.overdue)):
        body.append(note(showing, subtle=True))
    if not view.overdue and view.page.offset == 0:
        body.append(note("Nothing is overdue. Good work, everyone."))
    body += [_overdue(item, today) for item in view.overdue]
    body.append(section("Audits due this month"))
    body += _compliance(view)
    if any(p.target or p.completed or p.hidden for p in view.programmes):
        body.append(section("Audit programme this month"))
        body += [
            note(programme_line(p, view.hidden_text, council_wide=view.council_wide))
            for p in view.programmes
        ]
    body += _learning(view.learning)
    body.append(section("Away"))
    if not view.away:
        body.append(note("Nobody is away."))
    body += [
        literal(run(name, bold=True), f" until {uk_date(until, today=today)}")
        for name, until in view.away
    ]
    if view.away_total > len(view.away):
        body.append(note(f"And {view.away_total - len(view.away)} more.", subtle=True))
    return new_card(body, paging_actions(view.page, CardVerb.TEAM_PAGE))


def _learning(themes: list[Theme]) -> list[CardElement]:
    lines, buttons = learning_links(themes)
    if not lines:
        return []
    parts: list[CardElement] = [
        section("Your team's top areas to improve this quarter"),
        *lines,
    ]
    if buttons:
        parts.append(ActionSet(actions=list(buttons)))
    return parts


def _overdue_title(total: int) -> str:
    return f"Overdue actions: {total}" if total else "Overdue actions"


def _extension(item: WaitingExtension, today: date, extra: dict[str, object]) -> Container:
    return Container(
        items=[
            literal(
                run(item.owner_name, bold=True),
                f" asks to move action #{item.action_id} from "
                f"{uk_date(item.old_due_on, today=today)} to {uk_date(item.new_due_on, today=today)}",
            ),
            literal(truncate(item.what, WHAT_LIMIT)),
            literal(run("Why: ", bold=True), truncate(item.reason, REASON_LIMIT)),
            extension_buttons(item.request_id, extra=dict(extra)),
        ],
        separator=True,
    )


def _confirmation(item: WaitingDone, extra: dict[str, object]) -> Container:
    parts: list[CardElement] = [
        literal(run(item.owner_name, bold=True), f" marked action #{item.action_id} done"),
        literal(truncate(item.what, WHAT_LIMIT)),
    ]
    if item.done_note:
        parts.append(
            literal(run("Their note: ", bold=True), truncate(item.done_note, REASON_LIMIT))
        )
    parts.append(decision_buttons(item.action_id, extra=dict(extra)))
    return Container(items=parts, separator=True)


def _overdue(item: Overdue, today: date) -> Container:
    days = item.overdue_days
    late = (
        f"Overdue by {counted(days, 'working day')}"
        if days
        else f"Overdue: was due {uk_date(item.due_on, today=today)}"
    )
    about = f"Action #{item.action_id}"
    if item.case_ref:
        about += f" · {item.case_ref}"
    if item.standard:
        about += f" · {label(STANDARD_LABELS, item.standard)}"
    return Container(
        items=[
            literal(run(item.owner_name, bold=True), "  ·  ", run(late, color="Attention")),
            literal(run(about, subtle=True)),
            literal(truncate(item.what, WHAT_LIMIT)),
        ],
        separator=True,
    )


def _compliance(view: TeamView) -> list[CardElement]:
    rows = view.compliance
    total = view.compliance_total or Compliance(
        "All",
        sum(r.due for r in rows),
        sum(r.completed for r in rows),
        sum(r.declined for r in rows),
    )
    if total.hidden:
        return [
            note(
                f"{view.hidden_text.capitalize()} audits are due: not shown, so that no one's "
                "audit can be told apart."
            )
        ]
    if not total.due:
        return [note("No audits are due this month.")]
    lines: list[CardElement] = [note(_completed(total))]
    if len(rows) > 1:
        lines += [
            literal(
                run(r.team, bold=True),
                f": {view.hidden_text} audits due" if r.hidden else f": {_completed(r)}",
            )
            for r in rows
        ]
    return lines


def _completed(c: Compliance) -> str:
    """ "2 of 3 completed (67%); 1 declined, not reassigned"."""
    line = f"{c.completed} of {c.due} completed ({percent(share(c.completed, c.due))})"
    return f"{line}; {c.declined} declined, not reassigned" if c.declined else line

"""The escalation card: a manager's team (or service) actions overdue long enough for a nudge, and
plainly, any safeguarding step (a child visit or action meeting) that is overdue."""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import AdaptiveCard, CardElement, Container, TextBlock, TextRun

from bot.rules.grades import CHILD_VISIT, STANDARD_LABELS
from bot.rules.reminders import (
    ORDINARY_LADDER,
    URGENT_LADDER,
    EscalatedAction,
    Escalation,
    most_overdue,
)
from cards.common import counted, heading, label, literal, new_card, note, run, truncate, uk_date

# Fifteen a section keeps the card well under the 40 KB limit; `team` shows the whole list.
MAX_PER_SECTION = 15
WHAT_LIMIT = 200


def _where(escalation: Escalation) -> str:
    return "your service" if escalation.for_a_service or escalation.service else "your team"


def _verb(n: int) -> str:
    return "is" if n == 1 else "are"


def escalation_summary(escalation: Escalation) -> str:
    """The notification preview: a count only, never a case reference."""
    n = escalation.count
    if not n:
        return "Nothing overdue to chase now"
    where = _where(escalation)
    urgent = escalation.urgent
    if urgent:
        said = f"{counted(urgent, 'safeguarding step')} in {where} {_verb(urgent)} overdue"
        if n > urgent:
            said += f", and {counted(n - urgent, 'other action')}"
        return said
    return f"{counted(n, 'action')} in {where} {_verb(n)} overdue"


def escalation_card(escalation: Escalation, *, today: date) -> AdaptiveCard:
    if not escalation.count:  # re-rendered after the last one was done
        return new_card(
            [heading("Overdue actions"), note("Nothing is overdue to chase now. Thank you!")]
        )
    urgent = escalation.urgent
    ordinary = escalation.count - urgent
    body: list[CardElement] = [
        heading("A safeguarding step is overdue" if urgent else "Overdue actions")
    ]
    if urgent:
        steps = (
            "child visit or action meeting" if urgent == 1 else "child visits or action meetings"
        )
        body.append(
            literal(
                run(
                    f"{counted(urgent, 'safeguarding step')} in {_where(escalation)} "
                    f"{_verb(urgent)} overdue: the {steps} below {_verb(urgent)} about a "
                    "child's safety. Please make sure it happens today and is recorded.",
                    bold=True,
                    color="Attention",
                )
            )
        )
    if ordinary:
        others = "The other actions are" if urgent else "These actions are"
        body.append(
            note(
                f"{others} past their due date. A kind word with the owner often helps; "
                "they can also ask you for more time."
            )
        )
    if escalation.for_a_service:
        everything = tuple(sorted((*escalation.team, *escalation.service), key=most_overdue))
        body += _section("Your service", everything, today)
    else:
        if escalation.team:
            body += _section("Your team", escalation.team, today)
        if escalation.service:
            body += _section("Your service", escalation.service, today)
    body.append(note(_footnote(), subtle=True))
    return new_card(body)


def _footnote() -> str:
    (tm, _), (sm, _) = ORDINARY_LADDER
    (u_tm, _), (u_sm, _), (u_hos, _) = URGENT_LADDER
    return (
        f"Actions are listed once {counted(tm, 'working day')} overdue ({sm} for the service "
        f"manager). A child visit or action meeting goes to the team manager once "
        f"{counted(u_tm, 'working day')} overdue, the service manager at {u_sm} and the head of "
        f"service at {u_hos}; if nobody is there that day, to the next one up."
    )


def _section(title: str, items: tuple[EscalatedAction, ...], today: date) -> list[CardElement]:
    parts: list[CardElement] = [
        TextBlock(text=title, weight="Bolder", size="Medium", wrap=True, spacing="Large")
    ]
    parts += [_item(item, today) for item in items[:MAX_PER_SECTION]]
    if len(items) > MAX_PER_SECTION:
        parts.append(note(f"And {len(items) - MAX_PER_SECTION} more — type team to see them all."))
    return parts


def _item(item: EscalatedAction, today: date) -> Container:
    action = item.action
    about: list[str | TextRun] = [run(item.owner.name, bold=True)]
    why: list[CardElement] = []
    if action.urgent:
        step = (
            "Child visit after risk identified"
            if action.source == CHILD_VISIT
            else "Action meeting after an inadequate audit"
        )
        why.append(literal(run(f"Safeguarding: {step}", bold=True, color="Attention")))
    if action.case_ref:
        about += [" · ", action.case_ref]
    if action.standard:
        about += [" · ", label(STANDARD_LABELS, action.standard)]
    return Container(
        items=[
            *why,
            literal(
                run(
                    f"Overdue by {counted(item.overdue_days, 'working day')}",
                    bold=True,
                    color="Attention",
                ),
                run(
                    f"  ·  was due {uk_date(action.due_on, today=today)}  ·  Action #{action.id}",
                    subtle=True,
                ),
            ),
            literal(*about),
            literal(truncate(action.what, WHAT_LIMIT)),
        ],
        separator=True,
        spacing="Medium",
    )

"""The escalation card: a manager's team (or service) actions overdue long enough for a nudge."""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import AdaptiveCard, CardElement, Container, TextBlock, TextRun

from bot.rules.grades import CHILD_VISIT, STANDARD_LABELS
from bot.rules.reminders import (
    ESCALATE_TO_SERVICE_MANAGER,
    ESCALATE_TO_TEAM_MANAGER,
    URGENT_TO_SERVICE_MANAGER,
    URGENT_TO_TEAM_MANAGER,
    EscalatedAction,
    Escalation,
)
from cards.common import heading, label, literal, new_card, note, run, truncate, uk_date

# Fifteen a section keeps the card well under the 40 KB limit; `team` shows the whole list.
MAX_PER_SECTION = 15
WHAT_LIMIT = 200


def escalation_summary(escalation: Escalation) -> str:
    """The notification preview: a count only, never a case reference."""
    n = escalation.count
    if not n:
        return "Nothing overdue to chase now"
    where = "your team" if not escalation.service else "your service"
    return f"{n} action{'' if n == 1 else 's'} in {where} {'is' if n == 1 else 'are'} overdue"


def escalation_card(escalation: Escalation, *, today: date) -> AdaptiveCard:
    if not escalation.count:  # re-rendered after the last one was done
        return new_card(
            [heading("Overdue actions"), note("Nothing is overdue to chase now. Thank you!")]
        )
    body: list[CardElement] = [
        heading("Overdue actions"),
        note(
            "These actions are past their due date. A kind word with the owner "
            "often helps; they can also ask you for more time."
        ),
    ]
    if escalation.team:
        body += _section("Your team", escalation.team, today)
    if escalation.service:
        body += _section("Your service", escalation.service, today)
    body.append(
        note(
            f"Actions are listed once {ESCALATE_TO_TEAM_MANAGER} working days overdue "
            f"({ESCALATE_TO_SERVICE_MANAGER} for your service). A child visit or action meeting "
            f"after an inadequate audit is listed once {_days(URGENT_TO_TEAM_MANAGER)} overdue "
            f"({URGENT_TO_SERVICE_MANAGER} for your service).",
            subtle=True,
        )
    )
    return new_card(body)


def _days(n: int) -> str:
    return f"{n} working day{'' if n == 1 else 's'}"


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
    days = item.overdue_days
    about: list[str | TextRun] = [run(item.owner.name, bold=True)]
    why: list[CardElement] = []
    if action.urgent:
        step = "Child visit" if action.source == CHILD_VISIT else "Action meeting"
        why.append(literal(run(f"{step} after an inadequate audit", bold=True)))
    if action.case_ref:
        about += [" · ", action.case_ref]
    if action.standard:
        about += [" · ", label(STANDARD_LABELS, action.standard)]
    return Container(
        items=[
            *why,
            literal(
                run(
                    f"Overdue by {_days(days)}",
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

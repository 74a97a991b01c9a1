"""The `my actions` card: a page of the person's open actions, overdue first, each with Mark done,
Snooze and Ask for more time, with paging."""

from __future__ import annotations

from datetime import date

from microsoft_teams.cards import Container

from bot.rules.grades import STANDARD_LABELS
from cards.action_buttons import owner_buttons
from cards.common import counted, label, showing_line, truncate, uk_date
from cards.names import CardVerb, ListCard
from cards.plain import Json, element, heading, literal, new_card, note, paging_actions, run
from cards.views import ActionItem, Page

# Built as plain JSON (cards.plain): it is the card of every `my actions` and every press on it.
# Sent with every button, so the answer to a press is this card again, on the same page.
# A list is for scanning and must stay far below the message size limit for ten 2,000-character
# actions in any script; the full text is on the action's own card.
WHAT_LIMIT = 500
MEASURE_LIMIT = 200


def my_actions_card(
    *,
    items: list[ActionItem],
    page: Page,
    overdue_total: int,
    today: date,
    notice: str | None = None,
) -> Json:
    """`notice` says what a button just did ("Done ✓ by Alex Wilber, 26 Nov 10:02")."""
    top: list[Json] = [heading("My actions")]
    if notice:
        top.append(literal(run(notice, bold=True, color="Good")))
    if not items and page.offset == 0:
        return new_card([*top, note("You have no open actions. Nice work.")])
    counts = f"{page.total} open" + (f", {overdue_total} overdue" if overdue_total else "")
    body: list[Json] = [*top, note(counts)]
    if showing := showing_line(page, len(items)):
        body.append(note(showing, subtle=True))
    body += [_action(item, today, page.offset) for item in items]
    return new_card(body, paging_actions(page, CardVerb.MY_ACTIONS_PAGE))


def _action(item: ActionItem, today: date, offset: int) -> Json:
    about: list[str | Json] = []
    if item.case_ref:
        about.append(run(item.case_ref, bold=True))
    if item.standard:
        about.append((" · " if about else "") + label(STANDARD_LABELS, item.standard))
    parts: list[Json] = [literal(_status(item, today), run(f"  ·  Action #{item.id}", subtle=True))]
    if about:
        parts.append(literal(*about))
    parts += [
        literal(truncate(item.what, WHAT_LIMIT)),
        literal(run("How we'll know: ", bold=True), truncate(item.measure, MEASURE_LIMIT)),
        owner_buttons(item.id, today=today, extra=_hint(offset), source=item.source),
    ]
    return element(Container, items=parts, separator=True, spacing="Medium")


def _hint(offset: int) -> dict[str, str | int]:
    return (
        {"card": ListCard.MY_ACTIONS, "offset": offset} if offset else {"card": ListCard.MY_ACTIONS}
    )


def _status(item: ActionItem, today: date) -> Json:
    if item.due_status == "overdue":
        days = item.overdue_days
        text = (
            f"Overdue by {counted(days, 'working day')}"
            if days
            else f"Overdue: was due {uk_date(item.due_on, today=today)}"
        )
        return run(text, bold=True, color="Attention")
    if item.due_status == "today":
        return run("Due today", bold=True, color="Warning")
    return run(f"Due {uk_date(item.due_on, today=today)}", bold=True)

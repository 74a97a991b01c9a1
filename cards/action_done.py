"""One action's state after a button or `done`: the answer card, the manager's confirm card and the
owner's notices when it is confirmed or reopened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    ExecuteAction,
    TextInput,
    TextRun,
)

from bot.rules.grades import STANDARD_LABELS, ActionState
from cards.common import (
    heading,
    im_back,
    label,
    literal,
    new_card,
    run,
    too_long,
    truncate,
    uk_date,
)
from cards.names import CardVerb, Input, item_input

WHAT_LIMIT = 500
MEASURE_LIMIT = 300
TEXT_LIMIT = 2000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class ActionStatus:
    """An action as its cards show it; times are already in the tenant's zone."""

    id: int
    what: str
    measure: str
    case_ref: str | None
    standard: str | None
    owner_name: str
    state: str
    due_on: date
    snoozed_until: date | None
    done_note: str | None
    done_by: str | None
    done_at: datetime | None
    confirmed_by: str | None
    confirmed_at: datetime | None


def uk_moment(moment: datetime, *, today: date) -> str:
    """ "26 Nov 10:02"; the year only when it is not this year's."""
    day = f"{moment.day} {_MONTHS[moment.month - 1]}"
    if moment.year != today.year:
        day += f" {moment.year}"
    return f"{day} {moment:%H:%M}"


def done_line(status: ActionStatus, *, today: date) -> str:
    """ "Done ✓ by Alex Wilber, 26 Nov 10:02"."""
    line = "Done ✓"
    if status.done_by:
        line += f" by {status.done_by}"
    if status.done_at:
        line += f", {uk_moment(status.done_at, today=today)}"
    return line


def state_line(status: ActionStatus, *, today: date) -> str:
    """Where the action stands, in a few words."""
    if status.state == ActionState.DONE:
        return done_line(status, today=today) + " · waiting for a manager to confirm"
    if status.state == ActionState.CONFIRMED:
        line = done_line(status, today=today) + " · confirmed"
        if status.confirmed_by:
            line += f" by {status.confirmed_by}"
        if status.confirmed_at:
            line += f", {uk_moment(status.confirmed_at, today=today)}"
        return line
    if status.state == ActionState.CANCELLED:
        return "Cancelled"
    line = f"Open · due {uk_date(status.due_on, today=today)}"
    if status.snoozed_until and status.snoozed_until > today:
        line += f" · snoozed until {uk_date(status.snoozed_until, today=today)}"
    return line


def action_status_card(status: ActionStatus, *, message: str, today: date) -> AdaptiveCard:
    """The answer to a button or `done`: what happened, then the action; no buttons to press twice."""
    body: list[CardElement] = [
        heading(f"Action #{status.id}"),
        literal(run(message, bold=True, color="Good")),
        *_about(status),
    ]
    if status.state != ActionState.OPEN:
        body.append(literal(run(state_line(status, today=today), subtle=True)))
    return new_card(body, [im_back("My actions", "my actions")], wide=False)


def confirm_done_card(
    status: ActionStatus, *, today: date, extra: dict[str, Any] | None = None
) -> AdaptiveCard:
    """To the owner's manager: confirm the action is done, or reopen it."""
    body: list[CardElement] = [heading("Please confirm an action is done")]
    if status.done_at:
        body.append(
            literal(
                run(status.owner_name, bold=True),
                f" marked action #{status.id} done on {uk_moment(status.done_at, today=today)}.",
            )
        )
    body += _about(status)
    body.append(
        literal(run("How we'll know: ", bold=True), truncate(status.measure, MEASURE_LIMIT))
    )
    if status.done_note:
        body.append(literal(run("Their note: ", bold=True), status.done_note))
    if status.state == ActionState.DONE:
        body.append(
            TextInput(
                id=item_input(Input.REASON, status.id),
                label="If you reopen it, say why (optional)",
                is_multiline=True,
                max_length=TEXT_LIMIT,
                error_message=too_long(TEXT_LIMIT),
            )
        )
        body.append(decision_buttons(status.id, extra=extra))
        return new_card(body, wide=False)
    if status.state == ActionState.OPEN:
        line = f"Reopened: open again, due {uk_date(status.due_on, today=today)}"
    else:
        line = state_line(status, today=today)
    body.append(literal(run(line, bold=True)))
    return new_card(body, wide=False)


def decision_buttons(action_id: int, *, extra: dict[str, Any] | None = None) -> ActionSet:
    """Confirm / Reopen for a done action."""

    def data(action: str) -> dict[str, Any]:
        return {"action": action, "action_id": action_id, **(extra or {})}

    return ActionSet(
        actions=[
            ExecuteAction(
                title="Confirm",
                verb=CardVerb.CONFIRM_DONE,
                data=data(CardVerb.CONFIRM_DONE),
                style="positive",
            ),
            ExecuteAction(title="Reopen", verb=CardVerb.REOPEN, data=data(CardVerb.REOPEN)),
        ]
    )


def action_confirmed_card(status: ActionStatus, *, today: date) -> AdaptiveCard:
    """To the owner: their manager agrees the action is done."""
    who = status.confirmed_by or "Your manager"
    return new_card(
        [
            heading("Action confirmed ✓"),
            literal(run(who, bold=True), f" confirmed action #{status.id} is done. Thank you."),
            *_about(status),
        ],
        wide=False,
    )


def action_reopened_card(
    status: ActionStatus, *, reopened_by: str, reason: str | None, today: date
) -> AdaptiveCard:
    """To the owner: their manager does not agree it is done yet."""
    body: list[CardElement] = [
        heading("An action is open again"),
        literal(
            run(reopened_by, bold=True),
            f" reopened action #{status.id}. It is due {uk_date(status.due_on, today=today)}.",
        ),
    ]
    if reason:
        body.append(literal(run("Why: ", bold=True), reason))
    body += _about(status)
    return new_card(body, [im_back("My actions", "my actions")], wide=False)


def _about(status: ActionStatus) -> list[CardElement]:
    about: list[str | TextRun] = []
    if status.case_ref:
        about.append(run(status.case_ref, bold=True))
    if status.standard:
        about.append((" · " if about else "") + label(STANDARD_LABELS, status.standard))
    lines: list[CardElement] = [literal(*about)] if about else []
    lines.append(literal(truncate(status.what, WHAT_LIMIT)))
    return lines


def confirm_done_summary(owner_name: str) -> str:
    return f"{owner_name} marked an action done"

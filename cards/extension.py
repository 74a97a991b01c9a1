"""Asking for more time: the manager's Approve / Decline card and the owner's answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from microsoft_teams.cards import ActionSet, AdaptiveCard, CardElement, ExecuteAction, TextRun

from bot.rules.grades import STANDARD_LABELS
from cards.action_done import uk_moment
from cards.common import heading, im_back, label, literal, new_card, run, truncate, uk_date
from cards.names import CardVerb

WHAT_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ExtensionView:
    """One request for a later due date; times are already in the tenant's zone."""

    id: int
    action_id: int
    what: str
    case_ref: str | None
    standard: str | None
    owner_name: str
    old_due_on: date
    new_due_on: date
    # The action's due date now (the new one once approved).
    due_on: date
    reason: str
    # pending, approved, declined or withdrawn (the action was done first)
    state: str
    decided_by: str | None
    decided_at: datetime | None


def decided_line(view: ExtensionView, *, today: date) -> str:
    """ "Approved ✓ by Megan Bowen, 26 Nov 10:05: now due Thu 10 Dec"."""
    when = f", {uk_moment(view.decided_at, today=today)}" if view.decided_at else ""
    by = f" by {view.decided_by}" if view.decided_by else ""
    if view.state == "approved":
        return f"Approved ✓{by}{when}: now due {uk_date(view.new_due_on, today=today)}"
    if view.state == "declined":
        return f"Declined{by}{when}: still due {uk_date(view.due_on, today=today)}"
    if view.state == "withdrawn":
        return "Withdrawn: the action was marked done"
    return "Waiting for a decision"


def extension_request_card(
    view: ExtensionView, *, today: date, extra: dict[str, Any] | None = None
) -> AdaptiveCard:
    """To the owner's manager: the action, old and new date, the reason; Approve / Decline."""
    body: list[CardElement] = [
        heading("More time asked for"),
        literal(
            run(view.owner_name, bold=True),
            f" asks to move action #{view.action_id} from {uk_date(view.old_due_on, today=today)}"
            f" to {uk_date(view.new_due_on, today=today)}.",
        ),
        *_about(view),
        literal(run("Why: ", bold=True), view.reason),
    ]
    if view.state == "pending":
        body.append(extension_buttons(view.id, extra=extra))
    else:
        body.append(literal(run(decided_line(view, today=today), bold=True)))
    return new_card(body, wide=False)


def extension_buttons(request_id: int, *, extra: dict[str, Any] | None = None) -> ActionSet:
    def data(decision: str) -> dict[str, Any]:
        return {
            "action": CardVerb.DECIDE_EXTENSION,
            "request_id": request_id,
            "decision": decision,
            **(extra or {}),
        }

    return ActionSet(
        actions=[
            ExecuteAction(
                title="Approve",
                verb=CardVerb.DECIDE_EXTENSION,
                data=data("approve"),
                style="positive",
            ),
            ExecuteAction(title="Decline", verb=CardVerb.DECIDE_EXTENSION, data=data("decline")),
        ]
    )


def extension_decided_card(view: ExtensionView, *, today: date) -> AdaptiveCard:
    """To the owner: "Megan Bowen approved your new date: Thu 10 Dec" (or kept the old one)."""
    who = view.decided_by or "Your manager"
    if view.state == "approved":
        title = "More time agreed ✓"
        said = f" approved your new date: {uk_date(view.new_due_on, today=today)}."
    else:
        title = "More time not agreed"
        said = (
            f" declined your new date, so action #{view.action_id} is still due"
            f" {uk_date(view.due_on, today=today)}."
        )
    return new_card(
        [heading(title), literal(run(who, bold=True), said), *_about(view)],
        [im_back("My actions", "my actions")],
        wide=False,
    )


def _about(view: ExtensionView) -> list[CardElement]:
    about: list[str | TextRun] = [run(f"Action #{view.action_id}", bold=True)]
    if view.case_ref:
        about.append(" · " + view.case_ref)
    if view.standard:
        about.append(" · " + label(STANDARD_LABELS, view.standard))
    return [literal(*about), literal(truncate(view.what, WHAT_LIMIT))]


def extension_request_summary(owner_name: str) -> str:
    return f"{owner_name} asks for more time on an action"

"""Cards about a case that closed or changed worker, and about a person who left: QA told what
was cancelled, the workers and managers told what moved, and the manager's "pass these on" card
with an owner picker per action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    ExecuteAction,
)

from bot.rules.grades import ActionState
from cards.common import counted, heading, im_back, literal, new_card, note, run, truncate, uk_date
from cards.names import CardVerb, Input, item_input

WHAT_LIMIT = 120
# Enough for a long-serving worker's actions; more go to `my actions`, where the manager holds them.
MAX_LISTED = 25


@dataclass(frozen=True, slots=True)
class AuditLine:
    id: int
    kind: str
    due_on: date
    auditor_name: str


@dataclass(frozen=True, slots=True)
class ActionLine:
    id: int
    what: str
    due_on: date
    owner_name: str


@dataclass(frozen=True, slots=True)
class CaseEnded:
    case_ref: str
    # "case closed" or "case transferred".
    reason: str
    cancelled: tuple[AuditLine, ...]
    closed_actions: tuple[ActionLine, ...]
    kept_actions: tuple[ActionLine, ...]
    setting: str


def case_ended_summary(view: CaseEnded) -> str:
    """The preview: no case reference."""
    return f"A case ended: {counted(len(view.cancelled), 'audit')} cancelled"


def case_ended_card(view: CaseEnded, *, today: date) -> AdaptiveCard:
    """To the QA team: a case closed or moved out, and what that did to its open work."""
    body: list[CardElement] = [heading(f"Case {view.case_ref}: {view.reason}")]
    if view.cancelled:
        body.append(note("Audits cancelled (compliance leaves them out, with this reason):"))
        body += [
            literal(f"#{a.id} {a.kind}, due {uk_date(a.due_on, today=today)}, ", a.auditor_name)
            for a in view.cancelled
        ]
    else:
        body.append(note("It had no open audits."))
    if view.closed_actions:
        body.append(note(f"Actions closed, as the setting says ({view.setting}):"))
        body += [_action_line(a, today) for a in view.closed_actions]
    if view.kept_actions:
        body.append(note("Actions kept open with their owners:"))
        body += [_action_line(a, today) for a in view.kept_actions]
    return new_card(body, [im_back("My audits", "my audits")])


@dataclass(frozen=True, slots=True)
class NewWorker:
    case_ref: str
    old_worker: str
    new_worker: str
    moved_actions: tuple[ActionLine, ...]
    # Unfinished audits whose practitioner is now the new worker.
    audits: tuple[AuditLine, ...]
    # Audits the new worker was auditing: back with QA for another auditor.
    returned: tuple[AuditLine, ...]


NEW_WORKER_SUMMARY = "A case has a new worker"


def new_worker_card(view: NewWorker, *, today: date) -> AdaptiveCard:
    """To the old and new worker and their managers: who has the case and its open items now."""
    body: list[CardElement] = [
        heading(f"Case {view.case_ref} has a new worker"),
        literal(run(view.new_worker, bold=True), " takes over from ", view.old_worker, "."),
    ]
    if view.moved_actions:
        body.append(note(f"{counted(len(view.moved_actions), 'open action')} moved with it:"))
        body += [_action_line(a, today) for a in view.moved_actions]
    if view.audits:
        body.append(note("Audits of the case now involve the new worker:"))
        body += [
            literal(f"#{a.id} {a.kind}, due {uk_date(a.due_on, today=today)}") for a in view.audits
        ]
    if view.returned:
        body.append(note("The new worker can't audit their own case, so QA will reassign:"))
        body += [literal(f"#{a.id} {a.kind}") for a in view.returned]
    if not (view.moved_actions or view.audits or view.returned):
        body.append(note("There were no open items to move."))
    return new_card(body, [im_back("My actions", "my actions")])


def _action_line(a: ActionLine, today: date) -> CardElement:
    return literal(
        run(f"#{a.id} ", bold=True),
        truncate(a.what, WHAT_LIMIT),
        f" ({a.owner_name}, due {uk_date(a.due_on, today=today)})",
    )


# --- the manager's card: a leaver's actions, to pass on ------------------------------------------


@dataclass(frozen=True, slots=True)
class OwnerChoice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class HeldItem:
    """One of the leaver's actions as it stands now."""

    id: int
    what: str
    due_on: date
    state: str
    owner_id: int
    owner_name: str
    case_ref: str | None
    # Who may own it next: the active people of its audit's team.
    choices: tuple[OwnerChoice, ...] = ()


@dataclass(frozen=True, slots=True)
class LeaverActions:
    leaver_id: int
    leaver_name: str
    # Who the card is for: the holder of the actions, or QA when the leaver had no manager.
    recipient_id: int
    items: tuple[HeldItem, ...]


def leaver_actions_summary(leaver_name: str) -> str:
    return f"{leaver_name} has left: their actions need new owners"


def leaver_actions_card(view: LeaverActions, *, today: date) -> AdaptiveCard:
    """Each of the leaver's actions with who should own it now; passed-on ones say to whom."""
    holders = (view.recipient_id, view.leaver_id)
    to_pass_on = [i for i in view.items if i.state == ActionState.OPEN and i.owner_id in holders]
    body: list[CardElement] = [heading(f"{view.leaver_name} has left")]
    if to_pass_on:
        body.append(
            note("Their open actions wait with you until you pass them on. Choose who owns each.")
        )
    else:
        body.append(note("All their actions are passed on or finished. Thank you."))
    actions: list[Action] = []
    for item in view.items[:MAX_LISTED]:
        line = literal(
            run(f"#{item.id} ", bold=True),
            truncate(item.what, WHAT_LIMIT),
            f" (case {item.case_ref}, due {uk_date(item.due_on, today=today)})"
            if item.case_ref
            else f" (due {uk_date(item.due_on, today=today)})",
            separator=True,
        )
        body.append(line)
        if item.state != ActionState.OPEN:
            body.append(literal(run(f"{item.state.capitalize()} ✓", color="Good")))
        elif item in to_pass_on:
            body += _picker(item, [c for c in item.choices if c.id != item.owner_id])
        else:
            body.append(
                literal(run("Passed on ✓ ", bold=True, color="Good"), f"{item.owner_name} has it.")
            )
    if len(view.items) > MAX_LISTED:
        more = len(view.items) - MAX_LISTED
        body.append(note(f"{counted(more, 'more action')}: see my actions."))
    actions.append(im_back("My actions", "my actions"))
    return new_card(body, actions)


def _picker(item: HeldItem, choices: Sequence[OwnerChoice]) -> list[CardElement]:
    if not choices:
        return [note("There is no one in the team to pass it to yet. It stays with you.")]
    picker = ChoiceSetInput(
        id=item_input(Input.NEW_OWNER, item.id),
        label="Give it to",
        choices=[Choice(title=c.name, value=str(c.id)) for c in choices],
        is_required=True,
        error_message="Please choose who should own it.",
    )
    data: dict[str, object] = {
        "action": CardVerb.PASS_ON_ACTION,
        "action_id": item.id,
        "from_owner": item.owner_id,
    }
    button = ExecuteAction(
        title="Pass on", verb=CardVerb.PASS_ON_ACTION, data=data, style="positive"
    )
    return [picker, ActionSet(actions=[button])]

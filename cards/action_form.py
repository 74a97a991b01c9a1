"""The SMART action form (what, how we will know, owner, due date, standard), and the card that
tells an owner about their new action. The form is a Container any card can hold several of:
its input ids end in the form's name ("what_plans"), and its button sends that name as "form".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    Container,
    DateInput,
    ExecuteAction,
    TextBlock,
    TextInput,
    TextRun,
)
from microsoft_teams.cards import (
    Choice as CardChoice,
)

from bot.rules.grades import STANDARD_LABELS, ActionState
from bot.rules.smart import SmartField, SmartProblem
from cards.action_buttons import owner_buttons
from cards.action_done import ActionStatus, state_line
from cards.common import AFTER_TODAY, label, literal, new_card, run, too_long, truncate, uk_date

TEXT_LIMIT = 2000
# An action is a sentence or two; a form's text is kept when it comes back, and a card holds up to
# seven forms, so each field is held to this to keep the card under 40 KB.
ACTION_TEXT_LIMIT = 500
EMAIL_LIMIT = 320
WHAT_LIMIT = 500
MEASURE_LIMIT = 300
NO_NAMES = "No child's names, please"
# The fields a form sends, each as "<field>_<form>".
FIELDS = ("standard", "what", "measure", "owner", "owner_email", "due_on")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class OwnerChoice:
    """Someone likely to own the action, and why they are offered ("practitioner")."""

    id: int
    name: str
    part: str


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """What is typed in a form, kept as sent so a form that comes back loses nothing."""

    what: str = ""
    measure: str = ""
    # A staff id from the owner choices, as text.
    owner: str = ""
    owner_email: str = ""
    # As the date input sends it: "2026-12-03", or "".
    due_on: str = ""
    standard: str = ""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ActionDraft:
        def text(name: str) -> str:
            value = values.get(name)
            return value[:ACTION_TEXT_LIMIT] if isinstance(value, str) else ""

        return cls(**{name: text(name) for name in FIELDS})

    @property
    def typed(self) -> bool:
        """Something was typed beyond the owner offered by default."""
        return any((self.what, self.measure, self.owner_email, self.due_on))


def input_id(name: str, form: str) -> str:
    return f"{name}_{form}"


def action_form(
    *,
    action: str,
    form: str,
    owners: Sequence[OwnerChoice],
    today: date,
    draft: ActionDraft | None = None,
    problems: Mapping[str, str] | None = None,
    standard: str | None = None,
    title: str | None = None,
    submit: str = "Add action",
    extra: Mapping[str, Any] | None = None,
) -> Container:
    """One action's form. With `standard` the form is for that standard; without, it asks which.

    Pressing `submit` sends {"action": action, "form": form, "standard"?: ..., **extra} with the
    inputs; `problems` (per field) are shown under their fields and `draft` fills the inputs.
    """
    draft = draft or ActionDraft()
    problems = problems or {}
    items: list[CardElement] = []
    if title:
        items.append(TextBlock(text=title, weight="Bolder", wrap=True))
    if problems.get("form"):
        items.append(_problem(problems["form"]))
    if standard is None:
        items.append(
            ChoiceSetInput(
                id=input_id("standard", form),
                label="Practice standard it improves",
                style="compact",
                placeholder="Choose a standard",
                value=draft.standard or None,
                choices=[
                    CardChoice(title=text, value=s.value) for s, text in STANDARD_LABELS.items()
                ],
            )
        )
        items += _under("standard", problems)
    items.append(
        TextInput(
            id=input_id("what", form),
            label="What will be done (be specific)",
            placeholder=NO_NAMES,
            is_multiline=True,
            max_length=ACTION_TEXT_LIMIT,
            error_message=too_long(ACTION_TEXT_LIMIT),
            value=draft.what or None,
        )
    )
    items += _under("what", problems)
    items.append(
        TextInput(
            id=input_id("measure", form),
            label="How we will know it has happened (measurable)",
            placeholder="For example: plan on file with dates, reviewed at the next meeting",
            is_multiline=True,
            max_length=ACTION_TEXT_LIMIT,
            error_message=too_long(ACTION_TEXT_LIMIT),
            value=draft.measure or None,
        )
    )
    items += _under("measure", problems)
    if owners:
        chosen = draft.owner if any(str(o.id) == draft.owner for o in owners) else str(owners[0].id)
        items.append(
            ChoiceSetInput(
                id=input_id("owner", form),
                label="Owner",
                style="compact",
                value=chosen,
                choices=[CardChoice(title=f"{o.name} ({o.part})", value=str(o.id)) for o in owners],
            )
        )
    items.append(
        TextInput(
            id=input_id("owner_email", form),
            label="Or someone else: their work email" if owners else "Owner's work email",
            style="Email",
            max_length=EMAIL_LIMIT,
            error_message=too_long(EMAIL_LIMIT),
            value=draft.owner_email or None,
        )
    )
    items += _under("owner", problems)
    items.append(
        DateInput(
            id=input_id("due_on", form),
            label="Due date (a working day)",
            min=(today + timedelta(days=1)).isoformat(),
            error_message=AFTER_TODAY,
            value=draft.due_on or None,
        )
    )
    items += _under("due_on", problems)
    data: dict[str, Any] = {"action": action, "form": form}
    if standard is not None:
        data["standard"] = standard
    data |= dict(extra or {})
    items.append(ActionSet(actions=[ExecuteAction(title=submit, verb=action, data=data)]))
    return Container(items=items, separator=True, spacing="Large")


def problem_messages(
    problems: Mapping[SmartField, SmartProblem],
    *,
    due_on: date | None,
    owner_name: str | None,
    today: date,
) -> dict[str, str]:
    """The SMART check's findings in words, per field."""
    shown = uk_date(due_on, today=today) if due_on else ""
    words = {
        SmartProblem.WHAT_MISSING: "Say what will be done.",
        SmartProblem.WHAT_VAGUE: "Say a little more about what will be done, so it is specific.",
        SmartProblem.MEASURE_MISSING: "Say how we will know it has happened.",
        SmartProblem.MEASURE_VAGUE: (
            "Say how we will know in a few more words: what will we see, and where?"
        ),
        SmartProblem.OWNER_MISSING: "Choose who owns this action.",
        SmartProblem.OWNER_UNKNOWN: (
            "I can't find anyone in QA Loop with that email. Check it, or choose from the list."
        ),
        SmartProblem.DUE_MISSING: "Choose a due date.",
        SmartProblem.DUE_NOT_FUTURE: f"{shown[:1].upper()}{shown[1:]} is not in the future. "
        "Choose a later working day.",
        SmartProblem.DUE_TOO_FAR: "Choose a due date within a year.",
        SmartProblem.DUE_NOT_WORKING_DAY: f"{shown} is not a working day. "
        "Choose a weekday that is not a bank holiday.",
        SmartProblem.DUE_OWNER_OFF: (
            f"{owner_name or 'The owner'} doesn't work on "
            f"{_WEEKDAYS[due_on.weekday()] if due_on else 'that day'}s. "
            "Choose one of their working days."
        ),
    }
    return {field.value: words[problem] for field, problem in problems.items()}


def _under(field: str, problems: Mapping[str, str]) -> list[CardElement]:
    return [_problem(problems[field])] if problems.get(field) else []


def _problem(message: str) -> CardElement:
    # The message may quote what was typed (an email), so it is shown literally.
    return literal(run(message, color="Attention"))


# The owner's card.


def action_assigned_summary(by_name: str) -> str:
    """The notification preview: who, never the case."""
    return f"{by_name} gave you a new QA action"


def action_assigned_card(status: ActionStatus, *, by_name: str, today: date) -> AdaptiveCard:
    """To the owner of a new action: what, how we will know, when; with the owner's buttons while
    it is open, and where it stands once it is not (the card is rebuilt when that changes)."""
    about: list[str | TextRun] = []
    if status.case_ref:
        about.append(run(status.case_ref, bold=True))
    if status.standard:
        about.append((" · " if about else "") + label(STANDARD_LABELS, status.standard))
    body: list[CardElement] = [
        TextBlock(
            text="A new action for you", style="heading", size="Large", weight="Bolder", wrap=True
        ),
        literal(run(by_name, bold=True), f" agreed action #{status.id} with you."),
    ]
    if about:
        body.append(literal(*about))
    body += [
        literal(truncate(status.what, WHAT_LIMIT)),
        literal(run("How we'll know: ", bold=True), truncate(status.measure, MEASURE_LIMIT)),
    ]
    if status.state == ActionState.OPEN:
        body.append(literal(run(state_line(status, today=today), bold=True)))
        body.append(ActionSet.model_validate(owner_buttons(status.id, today=today)))
    else:
        body.append(literal(run(state_line(status, today=today), bold=True, color="Good")))
    return new_card(body, wide=False)

"""The Practitioner's Feedback Sheet: the form, the thank-you summary it turns into, and the list
of forms someone still owes.

Ratings are compact ChoiceSets, not Input.Rating, which the Agents Playground does not render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Container,
    ExecuteAction,
    TextInput,
    TextRun,
)

from bot.rules.reminders import FeedbackOwed
from cards.common import heading, literal, new_card, note, run, too_long, uk_date
from cards.names import CardVerb
from cards.views import Page

TEXT_LIMIT = 2000
MAX_OWED = 10

# (input id and stored column, the statement the practitioner rates)
STATEMENTS = (
    ("involved", "I was involved in the audit"),
    ("helped_see_good", "It helped me see what good practice looks like"),
    ("understand_grade", "I understand the grade and why"),
    ("actions_clear", "The actions are clear and achievable"),
)
RATINGS = tuple(name for name, _ in STATEMENTS)
SCALE = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither agree nor disagree",
    4: "Agree",
    5: "Strongly agree",
}
NO_NAMES = "Please don't write names: case references only."


@dataclass(frozen=True, slots=True)
class Answers:
    involved: int
    helped_see_good: int
    understand_grade: int
    actions_clear: int
    worked_well: str | None = None
    could_be_better: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackAbout:
    """Which audit the feedback is about."""

    audit_id: int
    case_ref: str
    auditor_name: str
    completed_on: date | None


@dataclass(frozen=True, slots=True)
class Given:
    """The latest answers, when and how often they were sent, and until when they can change."""

    answers: Answers
    version: int
    sent_at: datetime
    editable_until: date | None


def feedback_form_summary() -> str:
    """The notification preview: no case reference."""
    return "How did your audit feel? It takes two minutes"


def rating_label(value: int) -> str:
    return f"{value} – {SCALE[value]}"


def feedback_form_card(
    about: FeedbackAbout,
    *,
    today: date,
    version: int = 0,
    values: dict[str, str] | None = None,
    message: str | None = None,
) -> AdaptiveCard:
    """The form; `version` is the one its answers were built from (0: none sent yet), so a submit
    from an out-of-date form is recognised. `values` are shown as chosen or typed."""
    values = values or {}
    body: list[CardElement] = [
        heading("How did your audit feel?" if version == 0 else "Change your feedback"),
        _about(about, today),
    ]
    if message:
        body.append(literal(run(message, color="Attention", bold=True)))
    body.append(
        note("How far do you agree? 1 is strongly disagree, 5 strongly agree.", subtle=True)
    )
    for name, statement in STATEMENTS:
        body.append(
            ChoiceSetInput(
                id=name,
                label=statement,
                style="compact",
                placeholder="Choose 1 to 5",
                choices=[Choice(title=rating_label(n), value=str(n)) for n in SCALE],
                value=values.get(name) or None,
                is_required=True,
                error_message="Please choose 1 to 5.",
            )
        )
    for name, label, hint in (
        ("worked_well", "What worked well?", NO_NAMES),
        ("could_be_better", "What could be better?", NO_NAMES),
    ):
        body.append(
            TextInput(
                id=name,
                label=label,
                placeholder=hint,
                is_multiline=True,
                max_length=TEXT_LIMIT,
                error_message=too_long(TEXT_LIMIT),
                value=values.get(name) or None,
            )
        )
    send = ExecuteAction(
        title="Send feedback",
        verb=CardVerb.SUBMIT_FEEDBACK,
        data={"action": CardVerb.SUBMIT_FEEDBACK, "audit_id": about.audit_id, "version": version},
        style="positive",
    )
    return new_card(body, [send])


def feedback_thanks_card(
    about: FeedbackAbout, given: Given, *, today: date, notice: str | None = None
) -> AdaptiveCard:
    """What they sent, shown literally, with "Change my answers" while it can still change."""
    answers = given.answers
    sent = f"{uk_date(given.sent_at.date(), today=today)} at {given.sent_at:%H:%M}"
    body: list[CardElement] = [
        heading("Thank you for your feedback"),
        _about(about, today),
    ]
    if notice:
        body.append(literal(run(notice, bold=True)))
    body.append(
        note(
            f"Sent {sent}." if given.version == 1 else f"Changed {sent} (version {given.version}).",
            subtle=True,
        )
    )
    for name, statement in STATEMENTS:
        value = getattr(answers, name)
        body.append(literal(run(statement, subtle=True), "\n", run(rating_label(value), bold=True)))
    for label, text in (
        ("What worked well", answers.worked_well),
        ("What could be better", answers.could_be_better),
    ):
        body.append(literal(run(label, subtle=True), "\n", text or "—"))
    actions: list[Action] = []
    if given.editable_until is not None:
        until = uk_date(given.editable_until, today=today)
        body.append(note(f"You can change your answers until {until}.", subtle=True))
        actions.append(
            ExecuteAction(
                title="Change my answers",
                verb=CardVerb.EDIT_FEEDBACK,
                data={"action": CardVerb.EDIT_FEEDBACK, "audit_id": about.audit_id},
                associated_inputs="none",
            )
        )
    return new_card(body, actions)


def feedback_owed_card(owed: list[FeedbackOwed], *, today: date) -> AdaptiveCard:
    """Forms someone still owes, each with "Give feedback", which opens the form in place."""
    if not owed:
        return new_card(
            [
                heading("Feedback"),
                note("You don't owe any feedback at the moment. Thank you!"),
                note("When an audit of one of your cases is completed, I'll ask you here."),
            ],
            wide=False,
        )
    page = Page(offset=0, size=MAX_OWED, total=len(owed))
    body: list[CardElement] = [
        heading("Feedback we'd love from you"),
        note("How did the audit of your case feel? Each form takes two minutes.", subtle=True),
    ]
    for item in owed[: page.size]:
        completed = uk_date(item.completed_on, today=today)
        body.append(
            Container(
                items=[
                    literal(run(item.case_ref, bold=True), f" · audit completed {completed}"),
                ],
                separator=True,
                spacing="Medium",
            )
        )
        body.append(
            ActionSet(
                actions=[
                    ExecuteAction(
                        title="Give feedback",
                        verb=CardVerb.GIVE_FEEDBACK,
                        data={"action": CardVerb.GIVE_FEEDBACK, "audit_id": item.audit_id},
                        associated_inputs="none",
                    )
                ]
            )
        )
    if page.has_more:
        body.append(
            note(f"And {page.total - page.size} more: send these first, then type feedback.")
        )
    return new_card(body)


def _about(about: FeedbackAbout, today: date) -> CardElement:
    parts: list[str | TextRun] = [
        run(about.case_ref, bold=True),
        f" · audited by {about.auditor_name}",
    ]
    if about.completed_on is not None:
        parts.append(f" · completed {uk_date(about.completed_on, today=today)}")
    return literal(*parts)

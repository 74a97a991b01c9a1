"""Exemplars: the auditor's "Suggest an exemplar" form (on the grading cards), the QA team's card
to approve or decline one, and the auditor's note of the decision. Pure: built from the views
below. An exemplar carries no case details, so none of these cards shows a case reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    ExecuteAction,
    ShowCardAction,
    TextColor,
    TextInput,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.rules.exemplars import (
    APPROVED,
    SUGGESTED,
    TEXT_LIMIT,
    TITLE_LIMIT,
)
from bot.rules.grades import STANDARD_LABELS
from cards.action_done import uk_moment
from cards.common import heading, im_back, label, literal, new_card, note, run, too_long, up_to
from cards.names import CardVerb

REVIEW_SUMMARY = "An exemplar to approve"
NO_CASE_DETAILS = (
    "Exemplars are shared with staff as good practice, so write it to carry no case details: "
    "no names of children, family members or workers, and no case references."
)
# The inputs of the suggestion form: once per card.
THEME_INPUT = "exemplar_theme"
TITLE_INPUT = "exemplar_title"
TEXT_INPUT = "exemplar_text"


@dataclass(frozen=True, slots=True)
class ExemplarDraft:
    """What was typed into the suggestion form, kept when it comes back with a problem."""

    theme: str = ""
    title: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class ExemplarView:
    """An exemplar as the QA team's card shows it; `decided_at` in the tenant's zone."""

    id: int
    standard: str
    theme_title: str
    title: str
    text: str
    state: str
    suggested_by: str
    audit_id: int | None
    decided_by: str | None = None
    decided_at: datetime | None = None


def suggest_exemplar_actions(audit_id: int, strengths: Sequence[tuple[str, str]]) -> list[Action]:
    """ "Suggest an exemplar" for an audit with themes ticked as strengths ((key, title) pairs)."""
    if not strengths:
        return []
    form = new_card(_form(audit_id, strengths, ExemplarDraft()), [_send(audit_id)], wide=False)
    return [ShowCardAction(title="Suggest an exemplar", card=form)]


def exemplar_form_card(
    audit_id: int,
    strengths: Sequence[tuple[str, str]],
    *,
    draft: ExemplarDraft,
    message: str,
) -> AdaptiveCard:
    """The suggestion form on its own, back with what was wrong and what was typed."""
    body: list[CardElement] = [
        heading("Suggest an exemplar"),
        literal(run(message, bold=True, color="Attention")),
        *_form(audit_id, strengths, draft),
    ]
    return new_card(body, [_send(audit_id)])


def _form(
    audit_id: int, strengths: Sequence[tuple[str, str]], draft: ExemplarDraft
) -> list[CardElement]:
    return [
        note(
            "A strength you saw that others could learn from. Once the QA team approves it, it "
            "is shown with the theme's learning and may go in a briefing."
        ),
        note(NO_CASE_DETAILS),
        ChoiceSetInput(
            id=THEME_INPUT,
            label="The strength it shows",
            style="compact",
            choices=[CardChoice(title=title, value=key) for key, title in strengths],
            value=draft.theme or strengths[0][0],
            is_required=True,
            error_message="Please choose the strength it shows.",
        ),
        TextInput(
            id=TITLE_INPUT,
            label=up_to("Title", TITLE_LIMIT),
            placeholder="A plan the family wrote with us",
            value=draft.title or None,
            max_length=TITLE_LIMIT,
            is_required=True,
            error_message="Please give it a title.",
        ),
        TextInput(
            id=TEXT_INPUT,
            label=up_to("What made it good practice", TEXT_LIMIT),
            placeholder="No names, no case references",
            value=draft.text or None,
            is_multiline=True,
            max_length=TEXT_LIMIT,
            is_required=True,
            error_message=too_long(TEXT_LIMIT) + " Or write what made it good practice.",
        ),
    ]


def _send(audit_id: int) -> ExecuteAction:
    return ExecuteAction(
        title="Send to the QA team",
        verb=CardVerb.SUGGEST_EXEMPLAR,
        data={"action": CardVerb.SUGGEST_EXEMPLAR, "audit_id": audit_id},
        style="positive",
    )


def exemplar_review_card(
    view: ExemplarView, *, today: date, message: str | None = None
) -> AdaptiveCard:
    """To each member of the QA team: Approve or Decline while it waits; then who decided."""
    body: list[CardElement] = [heading("An exemplar to approve"), *_exemplar(view)]
    if message:
        body.append(literal(run(message, bold=True)))
    if view.state != SUGGESTED:
        body.append(literal(run(decided_line(view, today=today), bold=True, color=_colour(view))))
        return new_card(body)
    body.append(
        note(
            "Approve it if it carries no case details and shows good practice: it then appears "
            "with the theme's learning links, for every practitioner and manager, and in "
            "briefings drafted from the theme."
        )
    )
    return new_card(body, [_decide(view.id, "Approve", True), _decide(view.id, "Decline", False)])


def exemplar_decided_card(view: ExemplarView, *, today: date) -> AdaptiveCard:
    """To the auditor who suggested it."""
    approved = view.state == APPROVED
    body: list[CardElement] = [
        heading("Your exemplar is approved" if approved else "Your exemplar was not approved"),
        *_exemplar(view, by=False),
        literal(run(decided_line(view, today=today), bold=True, color=_colour(view))),
    ]
    if approved:
        body.append(note(f"It now appears with the learning for “{view.theme_title}”. Thank you."))
    else:
        body.append(note("Ask the QA team if you would like to know why."))
    return new_card(body, [im_back("My audits", "my audits")])


def decided_summary(view: ExemplarView) -> str:
    return (
        "Your exemplar is approved" if view.state == APPROVED else "Your exemplar was not approved"
    )


def decided_line(view: ExemplarView, *, today: date) -> str:
    """ "Approved ✓ by Patti Fernandez, 26 Nov 10:02"."""
    line = "Approved ✓" if view.state == APPROVED else "Declined"
    if view.decided_by:
        line += f" by {view.decided_by}"
    if view.decided_at:
        line += f", {uk_moment(view.decided_at, today=today)}"
    return line


def _exemplar(view: ExemplarView, *, by: bool = True) -> list[CardElement]:
    standard = label(STANDARD_LABELS, view.standard)
    parts: list[CardElement] = [
        literal(run("Theme: ", bold=True), view.theme_title, f" ({standard})"),
        literal(run(view.title, bold=True)),
        literal(view.text),
    ]
    if by:
        source = f" from audit #{view.audit_id}" if view.audit_id else ""
        parts.append(note(f"Suggested by {view.suggested_by}{source}.", subtle=True))
    return parts


def _decide(exemplar_id: int, title: str, approve: bool) -> ExecuteAction:
    return ExecuteAction(
        title=title,
        verb=CardVerb.DECIDE_EXEMPLAR,
        data={"action": CardVerb.DECIDE_EXEMPLAR, "exemplar_id": exemplar_id, "approve": approve},
        style="positive" if approve else "destructive",
        associated_inputs="none",
    )


def _colour(view: ExemplarView) -> TextColor:
    return "Good" if view.state == APPROVED else "Attention"

"""The practitioner's own view of their collaborative audit: a grade per standard, given before
they see the auditor's (the form, and what they sent). Pure: built from the view below."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from microsoft_teams.cards import AdaptiveCard, CardElement, ChoiceSetInput, ExecuteAction
from microsoft_teams.cards import Choice as CardChoice

from bot.rules.grades import AUDIT_KIND_LABELS, GRADE_LABELS, STANDARD_LABELS, Grade, Standard
from cards.common import heading, im_back, label, literal, new_card, note, run
from cards.names import CardVerb, Input, item_input
from cards.practice import Practice, descriptor_toggle

OWN_VIEW_SUMMARY = "Your own view of your audit"
SAVED_SUMMARY = "Your own view is saved"


@dataclass(frozen=True, slots=True)
class OwnViewAbout:
    audit_id: int
    case_ref: str
    kind: str
    auditor_name: str


def own_view_form_card(
    about: OwnViewAbout,
    *,
    practice: Practice | None = None,
    values: Mapping[str, str] | None = None,
    message: str | None = None,
) -> AdaptiveCard:
    """Six optional grades and Send my view; `values` and `message` when it comes back."""
    practice = practice or Practice()
    values = values or {}
    body: list[CardElement] = [heading("Your own view first"), *_about(about)]
    if message:
        body.append(literal(run(message, bold=True, color="Attention")))
    body.append(
        note(
            f"Before you go through it with {about.auditor_name}, how would you grade your own "
            "practice on this case? It's up to you, and you can leave any standard out. You'll "
            "see your view beside the auditor's grades when the audit is completed. Once sent, "
            "it can't be changed."
        )
    )
    for standard in Standard:
        body.append(
            ChoiceSetInput(
                id=item_input(Input.OWN_GRADE, standard.value),
                label=STANDARD_LABELS[standard],
                style="compact",
                placeholder="Choose a grade (or leave it)",
                value=values.get(standard.value) or None,
                choices=[CardChoice(title=GRADE_LABELS[g], value=g.value) for g in Grade],
            )
        )
        body += descriptor_toggle(
            practice.descriptors.get(standard.value),
            item=standard.value,
            title="What good looks like and each grade",
        )
    send = ExecuteAction(
        title="Send my view",
        verb=CardVerb.SUBMIT_OWN_VIEW,
        data={"action": CardVerb.SUBMIT_OWN_VIEW, "audit_id": about.audit_id},
        style="positive",
    )
    return new_card(body, [send])


def own_view_saved_card(
    about: OwnViewAbout, grades: Mapping[str, str], *, notice: str
) -> AdaptiveCard:
    """What they sent, kept for the side-by-side when the audit is completed."""
    body: list[CardElement] = [
        heading("Your own view"),
        *_about(about),
        literal(run(notice, bold=True, color="Good")),
    ]
    for standard in Standard:
        grade = grades.get(standard.value)
        body.append(
            literal(
                f"{STANDARD_LABELS[standard]}: ",
                run(label(GRADE_LABELS, grade) if grade else "left out", bold=bool(grade)),
            )
        )
    body.append(
        note(
            f"You'll see it beside {about.auditor_name}'s grades when the audit is completed.",
            subtle=True,
        )
    )
    return new_card(body, [im_back("My audits", "my audits")])


def own_view_button(audit_id: int) -> ExecuteAction:
    """On the practitioner's copy of a collaborative audit while it is open."""
    return ExecuteAction(
        title="Your own view first",
        verb=CardVerb.OPEN_OWN_VIEW,
        data={"action": CardVerb.OPEN_OWN_VIEW, "audit_id": audit_id},
        associated_inputs="none",
    )


def _about(about: OwnViewAbout) -> list[CardElement]:
    kind = label(AUDIT_KIND_LABELS, about.kind)
    return [
        literal(run(about.case_ref, bold=True), f" · {kind}"),
        literal(f"Auditor: {about.auditor_name}"),
    ]

"""The practitioner's own view of their collaborative audit: a grade per standard, given before
they see the auditor's (the form, and what they sent). Pure: built from the view below."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    ChoiceSetInput,
    ExecuteAction,
    Fact,
    FactSet,
)
from microsoft_teams.cards import Choice as CardChoice

from bot.rules.calibration import Agreement
from bot.rules.digest import percent, share
from bot.rules.grades import AUDIT_KIND_LABELS, GRADE_LABELS, STANDARD_LABELS, Grade, Standard
from cards.common import counted, heading, im_back, label, literal, new_card, note, run, section
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


@dataclass(frozen=True, slots=True)
class OwnViewFigures:
    """For QA only: collaborative audits completed in the period, those the practitioner gave
    their own view of, and how far their grades agree with the auditor's."""

    completed: int
    with_own_view: int
    overall: Agreement
    by_standard: Mapping[Standard, Agreement]


def own_view_section(f: OwnViewFigures) -> list[CardElement]:
    parts: list[CardElement] = [section("Practitioners' own view (QA only)")]
    if not f.completed:
        return [*parts, note("No collaborative audits were completed.")]
    parts.append(
        note(
            f"{f.with_own_view} of {counted(f.completed, 'collaborative audit')} completed had "
            "the practitioner's own grades, given before they saw the auditor's."
        )
    )
    if not f.overall.pairs:
        return parts
    parts.append(
        note(
            f"Agreement with the auditor: {agreement_words(f.overall)}. The practitioner graded "
            f"better {f.overall.better} times and worse {f.overall.worse}.",
        )
    )
    parts.append(
        FactSet(
            facts=[
                Fact(title=STANDARD_LABELS[s], value=agreement_words(a))
                for s, a in f.by_standard.items()
                if a.pairs
            ]
        )
    )
    return parts


def agreement_words(a: Agreement) -> str:
    """ "exact 50% (3 of 6), within one grade 83% (5 of 6)"."""
    return (
        f"exact {percent(share(a.exact, a.pairs))} ({a.exact} of {a.pairs}), "
        f"within one grade {percent(share(a.within_one, a.pairs))} ({a.within_one} of {a.pairs})"
    )

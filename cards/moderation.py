"""Moderation: the request to a QA moderator (agree or disagree per standard and overall, with a
comment), the summary it turns into, and the outcome the auditor is told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    ExecuteAction,
    TextBlock,
    TextInput,
    TextRun,
)

from bot.rules.grades import AUDIT_KIND_LABELS, GRADE_LABELS, STANDARD_LABELS, Standard
from cards.common import heading, label, literal, new_card, note, run, too_long, truncate, uk_date
from cards.names import CardVerb

TEXT_LIMIT = 2000
SUMMARY_LIMIT = 600
OVERALL = "overall"
# What a moderator judges, in the order shown: each standard, then the overall grade.
JUDGEMENTS = (*(s.value for s in Standard), OVERALL)
JUDGEMENT_LABELS = {**{s.value: STANDARD_LABELS[s] for s in Standard}, OVERALL: "Overall grade"}


@dataclass(frozen=True, slots=True)
class AuditToModerate:
    audit_id: int
    case_ref: str
    kind: str
    theme: str | None
    auditor_id: int
    auditor_name: str
    completed_on: date | None
    # Standard key → grade, and the overall grade; None where not graded.
    grades: Mapping[str, str | None]
    overall: str | None
    limiting_reason: str | None
    summary: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    moderator_name: str
    # {"heart": True, ..., "overall": False}
    agreement: Mapping[str, bool]
    comment: str | None
    decided_at: datetime  # local time

    @property
    def agreed(self) -> int:
        return sum(1 for k in JUDGEMENTS if self.agreement.get(k))


def moderation_request_summary() -> str:
    """The notification preview: no case reference."""
    return "An audit to moderate"


def moderation_outcome_summary() -> str:
    return "One of your audits has been moderated"


def moderation_card(
    audit: AuditToModerate,
    *,
    today: date,
    values: Mapping[str, str] | None = None,
    message: str | None = None,
) -> AdaptiveCard:
    """The form: each judgement Agree (the default) or Disagree, and a comment needed for any
    Disagree. `values` are the choices and comment as last sent, when the form comes back."""
    values = values or {}
    body: list[CardElement] = [heading("Moderate this audit"), *_about(audit, today)]
    if message:
        body.append(literal(run(message, color="Attention", bold=True)))
    body.append(note("Do you agree with each grade?", subtle=True))
    for key in JUDGEMENTS:
        grade = audit.overall if key == OVERALL else audit.grades.get(key)
        body.append(
            ChoiceSetInput(
                id=f"agree_{key}",
                label=f"{JUDGEMENT_LABELS[key]}: {_grade(grade)}",
                style="compact",
                choices=[
                    Choice(title="Agree", value="agree"),
                    Choice(title="Disagree", value="disagree"),
                ],
                value=values.get(f"agree_{key}") or "agree",
                is_required=True,
                error_message="Please choose Agree or Disagree.",
                spacing="Medium",
            )
        )
    body.append(
        TextInput(
            id="comment",
            label="Comment (needed if you disagree with any grade)",
            placeholder="No names, please: case references only.",
            is_multiline=True,
            max_length=TEXT_LIMIT,
            error_message=too_long(TEXT_LIMIT),
            value=values.get("comment") or None,
        )
    )
    send = ExecuteAction(
        title="Send moderation",
        verb=CardVerb.MODERATE_AUDIT,
        data={"action": CardVerb.MODERATE_AUDIT, "audit_id": audit.audit_id},
        style="positive",
    )
    return new_card(body, [send])


def moderated_card(
    audit: AuditToModerate, decision: Decision, *, today: date, notice: str | None = None
) -> AdaptiveCard:
    """The moderator's card once decided: what they said, shown literally."""
    body: list[CardElement] = [heading("Moderated ✓"), *_about(audit, today)]
    if notice:
        body.append(literal(run(notice, bold=True)))
    body += _decision(audit, decision, today)
    return new_card(body)


def moderation_outcome_card(
    audit: AuditToModerate, decision: Decision, *, today: date
) -> AdaptiveCard:
    """The auditor's news: how far the moderator agreed, per standard and overall."""
    body: list[CardElement] = [heading("Your audit has been moderated"), *_about(audit, today)]
    body += _decision(audit, decision, today)
    return new_card(body)


def _about(audit: AuditToModerate, today: date) -> list[CardElement]:
    kind: list[str | TextRun] = [
        run(audit.case_ref, bold=True),
        " · ",
        label(AUDIT_KIND_LABELS, audit.kind),
    ]
    if audit.theme:
        kind += [": ", audit.theme]
    who: list[str | TextRun] = [f"Audited by {audit.auditor_name}"]
    if audit.completed_on is not None:
        who.append(f", completed {uk_date(audit.completed_on, today=today)}")
    parts: list[CardElement] = [literal(*kind), literal(*who)]
    if audit.limiting_reason:
        parts.append(
            literal(
                run("Why the overall grade is above an inadequate standard: ", subtle=True),
                audit.limiting_reason,
            )
        )
    if audit.summary:
        parts.append(literal(run("Summary: ", subtle=True), truncate(audit.summary, SUMMARY_LIMIT)))
    return parts


def _decision(audit: AuditToModerate, decision: Decision, today: date) -> list[CardElement]:
    when = f"{uk_date(decision.decided_at.date(), today=today)} at {decision.decided_at:%H:%M}"
    total = len(JUDGEMENTS)
    parts: list[CardElement] = [
        literal(
            f"By {decision.moderator_name}, {when}: agreed with ",
            run(f"{decision.agreed} of {total}", bold=True),
            " grades.",
        )
    ]
    for key in JUDGEMENTS:
        grade = audit.overall if key == OVERALL else audit.grades.get(key)
        agreed = decision.agreement.get(key, False)
        parts.append(
            literal(
                run(
                    "Agree ✓" if agreed else "Disagree ✗",
                    bold=True,
                    color="Good" if agreed else "Attention",
                ),
                f"  {JUDGEMENT_LABELS[key]}: {_grade(grade)}",
            )
        )
    if decision.comment:
        parts.append(TextBlock(text="Comment", weight="Bolder", wrap=True, spacing="Medium"))
        parts.append(literal(decision.comment))
    return parts


def _grade(grade: str | None) -> str:
    return label(GRADE_LABELS, grade) if grade else "not graded"

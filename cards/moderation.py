"""Blind moderation: the request to a QA moderator (their own grade for each standard and overall,
with the auditor's grades kept from them), then both side by side with the agreed grade to
record, the summary it turns into, and the outcome the auditor is told."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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

from bot.rules.grades import (
    AUDIT_KIND_LABELS,
    GRADE_LABELS,
    JUDGEMENTS,
    OVERALL,
    STANDARD_LABELS,
    Grade,
    Standard,
)
from cards.common import heading, label, literal, new_card, note, run, too_long, truncate, uk_date
from cards.names import CardVerb

TEXT_LIMIT = 2000
SUMMARY_LIMIT = 600
JUDGEMENT_LABELS = {**{s.value: STANDARD_LABELS[s] for s in Standard}, OVERALL: "Overall grade"}
CHOOSE_A_GRADE = "Please choose a grade."


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

    def grade_of(self, key: str) -> str | None:
        return self.overall if key == OVERALL else self.grades.get(key)


@dataclass(frozen=True, slots=True)
class Judged:
    """One judgement of a blind moderation."""

    auditor: str | None
    moderator: str
    agreed: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    moderator_name: str
    # {"heart": True, ..., "overall": False}: the moderator's own grade matched the auditor's.
    agreement: Mapping[str, bool]
    comment: str | None
    decided_at: datetime  # local time
    # Judgement key → grades; empty for a moderation decided before moderation was blind.
    grades: Mapping[str, Judged] = field(default_factory=dict)

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
    """The blind form: the moderator's own grade for each standard and overall. Nothing of the
    auditor's judgement is on it (no grades, no limiting reason, no summary)."""
    values = values or {}
    body: list[CardElement] = [heading("Moderate this audit"), *_who(audit, today)]
    if message:
        body.append(literal(run(message, color="Attention", bold=True)))
    body.append(
        note(
            "Grade it yourself from the case record first. You'll see the auditor's grades "
            "once you've sent yours.",
            subtle=True,
        )
    )
    for key in JUDGEMENTS:
        body.append(_grade_input(f"grade_{key}", JUDGEMENT_LABELS[key], values.get(f"grade_{key}")))
    send = ExecuteAction(
        title="Send my grades",
        verb=CardVerb.MODERATE_AUDIT,
        data={"action": CardVerb.MODERATE_AUDIT, "audit_id": audit.audit_id},
        style="positive",
    )
    return new_card(body, [send])


def agree_grades_card(
    audit: AuditToModerate,
    mine: Mapping[str, str],
    *,
    today: date,
    values: Mapping[str, str] | None = None,
    message: str | None = None,
) -> AdaptiveCard:
    """Both sets of grades, and the agreed grade to record for each: already chosen where the
    two match, to be chosen where they differ; a comment needed if it departs from the auditor."""
    values = values or {}
    body: list[CardElement] = [heading("Agree the grades"), *_about(audit, today)]
    if message:
        body.append(literal(run(message, color="Attention", bold=True)))
    same = sum(1 for key in JUDGEMENTS if mine.get(key) == audit.grade_of(key))
    body.append(
        literal(
            "Your grades matched the auditor's on ",
            run(f"{same} of {len(JUDGEMENTS)}", bold=True),
            ". Record the grade you agree for each.",
        )
    )
    for key in JUDGEMENTS:
        theirs, own = audit.grade_of(key), mine.get(key)
        body.append(
            literal(
                run(JUDGEMENT_LABELS[key], bold=True),
                f": auditor {_grade(theirs)} · you {_grade(own)}",
                run(" ✓" if theirs == own else " ≠", color="Good" if theirs == own else "Warning"),
                separator=True,
            )
        )
        chosen = values.get(f"agreed_{key}") or (own if own == theirs else None)
        body.append(_grade_input(f"agreed_{key}", "Agreed grade", chosen))
    body.append(
        TextInput(
            id="comment",
            label="Comment (needed if an agreed grade differs from the auditor's)",
            placeholder="No names, please: case references only.",
            is_multiline=True,
            max_length=TEXT_LIMIT,
            error_message=too_long(TEXT_LIMIT),
            value=values.get("comment") or None,
        )
    )
    send = ExecuteAction(
        title="Record agreed grades",
        verb=CardVerb.AGREE_GRADES,
        data={"action": CardVerb.AGREE_GRADES, "audit_id": audit.audit_id},
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
    """The auditor's news: the moderator's own grades beside theirs, and the grades agreed."""
    body: list[CardElement] = [heading("Your audit has been moderated"), *_about(audit, today)]
    body += _decision(audit, decision, today)
    return new_card(body)


def _grade_input(input_id: str, text: str, value: str | None) -> ChoiceSetInput:
    return ChoiceSetInput(
        id=input_id,
        label=text,
        style="compact",
        placeholder="Choose a grade",
        choices=[Choice(title=GRADE_LABELS[g], value=g.value) for g in Grade],
        value=value or None,
        is_required=True,
        error_message=CHOOSE_A_GRADE,
        spacing="Small",
    )


def _who(audit: AuditToModerate, today: date) -> list[CardElement]:
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
    return [literal(*kind), literal(*who)]


def _about(audit: AuditToModerate, today: date) -> list[CardElement]:
    parts = _who(audit, today)
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
    if decision.grades:
        opening = "the moderator's own grades matched the auditor's on "
    else:
        opening = "agreed with "
    parts: list[CardElement] = [
        literal(
            f"By {decision.moderator_name}, {when}: {opening}",
            run(f"{decision.agreed} of {total}", bold=True),
            " grades.",
        )
    ]
    for key in JUDGEMENTS:
        judged = decision.grades.get(key)
        if judged is not None:
            matched = judged.auditor == judged.moderator
            parts.append(
                literal(
                    run(JUDGEMENT_LABELS[key], bold=True),
                    f": auditor {_grade(judged.auditor)} · moderator {_grade(judged.moderator)}"
                    f" · agreed {_grade(judged.agreed)}",
                    run(" ✓" if matched else " ≠", color="Good" if matched else "Warning"),
                )
            )
            continue
        agreed = decision.agreement.get(key, False)
        parts.append(
            literal(
                run(
                    "Agree ✓" if agreed else "Disagree ✗",
                    bold=True,
                    color="Good" if agreed else "Attention",
                ),
                f"  {JUDGEMENT_LABELS[key]}: {_grade(audit.grade_of(key))}",
            )
        )
    if decision.comment:
        parts.append(TextBlock(text="Comment", weight="Bolder", wrap=True, spacing="Medium"))
        parts.append(literal(decision.comment))
    return parts


def _grade(grade: str | None) -> str:
    return label(GRADE_LABELS, grade) if grade else "not graded"

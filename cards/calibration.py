"""Calibration: QA's report of how far auditors and moderators agree (per auditor and per
standard, named, so for QA only), the exercise card each auditor grades, and its spread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    ExecuteAction,
    TextRun,
)

from bot.rules.calibration import Agreement
from bot.rules.grades import GRADE_LABELS, JUDGEMENTS, STANDARD_LABELS, Grade, Standard
from cards.common import counted, heading, literal, new_card, note, run, section, uk_date
from cards.moderation import JUDGEMENT_LABELS
from cards.names import CardVerb

CHOOSE_A_GRADE = "Please choose a grade."
DIRECTION_LABELS = {"lenient": "grades above the moderator", "harsh": "grades below the moderator"}


@dataclass(frozen=True, slots=True)
class AgreementLine:
    """One auditor's (or one standard's) figures: `name` is the auditor or the judgement key."""

    name: str
    figure: Agreement
    flagged: bool


@dataclass(frozen=True, slots=True)
class ExerciseSpread:
    sent_on: date
    sent: int
    graded: int
    # Standard key → grade → how many auditors gave it.
    counts: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    since: date
    by_auditor: Sequence[AgreementLine]
    by_standard: Sequence[AgreementLine]
    exercise: ExerciseSpread | None
    min_pairs: int
    below_percent: int


def calibration_summary() -> str:
    return "Calibration: agreement with moderators"


def calibration_request_summary() -> str:
    """The notification preview: nothing of the case."""
    return "A calibration exercise to grade"


def calibration_report_card(report: CalibrationReport, *, today: date) -> AdaptiveCard:
    body: list[CardElement] = [
        heading("Calibration"),
        note(
            f"Auditors' grades beside moderators' own (blind) grades, moderations decided since "
            f"{uk_date(report.since, today=today)}. Exact and within one grade; then weighted "
            "kappa (κw, linear weights), or Gwet's AC1 where one grade dominates. ⚑: "
            f"{report.min_pairs} or more pairs and under {report.below_percent}% exact.",
            subtle=True,
        ),
        section("By auditor"),
    ]
    if not report.by_auditor:
        body.append(note("No blind moderations decided yet.", subtle=True))
    body += [_line(line.name, line) for line in report.by_auditor]
    if report.by_standard:
        body.append(section("By standard"))
        order = {key: n for n, key in enumerate(JUDGEMENTS)}
        for line in sorted(report.by_standard, key=lambda x: order.get(x.name, len(order))):
            body.append(_line(JUDGEMENT_LABELS.get(line.name, line.name), line))
    body.append(section("Calibration exercise"))
    body += _spread(report.exercise, today)
    return new_card(body)


def _line(name: str, line: AgreementLine) -> CardElement:
    f = line.figure
    which, value = f.chance_corrected
    parts: list[str | TextRun] = [
        run(
            f"⚑ {name}" if line.flagged else name,
            bold=True,
            color="Attention" if line.flagged else None,
        ),
        f": {counted(f.pairs, 'pair')}, {_pc(f.exact_percent)} exact, "
        f"{_pc(f.within_one_percent)} within one, {which} {_two(value)}",
    ]
    if f.direction is not None:
        parts.append(f"; {DIRECTION_LABELS[f.direction]} {f.better} v {f.worse}")
    return literal(*parts)


def _spread(spread: ExerciseSpread | None, today: date) -> list[CardElement]:
    if spread is None:
        return [
            note(
                "None sent yet. Type “calibration exercise” and an anonymised evidence summary "
                "to send one to every auditor.",
                subtle=True,
            )
        ]
    parts: list[CardElement] = [
        literal(
            f"Sent {uk_date(spread.sent_on, today=today)}: ",
            run(f"{spread.graded} of {spread.sent}", bold=True),
            " auditors have graded it.",
        )
    ]
    for standard in Standard:
        counts = spread.counts.get(standard.value, {})
        given = ", ".join(f"{GRADE_LABELS[g]} {counts.get(g.value, 0)}" for g in Grade)
        parts.append(literal(run(STANDARD_LABELS[standard], bold=True), f": {given}"))
    return parts


def calibration_request_card(
    *,
    exercise_id: int,
    summary: str,
    values: Mapping[str, str] | None = None,
    message: str | None = None,
) -> AdaptiveCard:
    """What each auditor grades: the anonymised summary, shown literally, and a grade per
    standard."""
    values = values or {}
    body: list[CardElement] = [
        heading("Calibration exercise"),
        note(
            "Grade this anonymised case as you would an audit. QA sees how everyone graded "
            "it, to talk through the differences.",
            subtle=True,
        ),
        literal(summary),
    ]
    if message:
        body.append(literal(run(message, color="Attention", bold=True)))
    for standard in Standard:
        key = f"grade_{standard.value}"
        body.append(
            ChoiceSetInput(
                id=key,
                label=STANDARD_LABELS[standard],
                style="compact",
                placeholder="Choose a grade",
                choices=[Choice(title=GRADE_LABELS[g], value=g.value) for g in Grade],
                value=values.get(key) or None,
                is_required=True,
                error_message=CHOOSE_A_GRADE,
            )
        )
    send = ExecuteAction(
        title="Send my grades",
        verb=CardVerb.GRADE_CALIBRATION,
        data={"action": CardVerb.GRADE_CALIBRATION, "exercise_id": exercise_id},
        style="positive",
    )
    return new_card(body, [send])


def calibration_graded_card(
    *, summary: str, grades: Mapping[str, str | None], notice: str
) -> AdaptiveCard:
    body: list[CardElement] = [heading("Calibration exercise ✓"), literal(run(notice, bold=True))]
    body.append(literal(summary))
    for standard in Standard:
        grade = grades.get(standard.value)
        body.append(
            literal(
                run(STANDARD_LABELS[standard], bold=True),
                f": {GRADE_LABELS[Grade(grade)] if grade else 'not graded'}",
            )
        )
    return new_card(body)


def calibration_sent_card(*, sent: int, unreached: int) -> AdaptiveCard:
    lines: list[CardElement] = [
        literal(run(f"Sent to {counted(sent, 'auditor')}.", bold=True)),
    ]
    if unreached:
        lines.append(
            note(
                f"Not sent to {counted(unreached, 'auditor')}: they haven't talked to the bot yet.",
                subtle=True,
            )
        )
    lines.append(note("Type “calibration” to see how they graded it.", subtle=True))
    return new_card(lines, wide=False)


def _pc(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


def _two(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"

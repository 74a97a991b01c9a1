"""The monthly and quarterly digest card (QA channel, each TM) and the `stats` card: figures only.

Charts use Teams' chart elements, each with a table as its fallback, and every chart's figures are
also said in words, so the card reads where charts do not render. No case reference ever appears:
audits are named by their number, people by their name.
"""

from __future__ import annotations

from collections.abc import Sequence

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    ColumnDefinition,
    Fact,
    FactSet,
    HorizontalBarChart,
    HorizontalBarChartDataValue,
    LineChart,
    LineChartData,
    LineChartValue,
    Table,
    TableCell,
    TableRow,
)

from bot.rules.deadlines import DEFAULT_DEADLINES, Deadlines
from bot.rules.digest import (
    OVERALL,
    RATING_LABELS,
    RATINGS,
    STANDARDS,
    Digest,
    Meetings,
    percent,
)
from bot.rules.grades import GRADE_LABELS, STANDARD_LABELS, Grade
from cards.common import heading, label, literal, new_card, note, run, section

# Keeps the card well under Teams' 40 KB with fifty teams; the report has every row.
TEAM_ROWS = 25
AUDITOR_ROWS = 15
OVERRIDE_ROWS = 10
# Short labels for the standards, so a table fits a phone.
STANDARD_SHORT = {
    "heart": "Heart",
    "assessment": "Assessment",
    "plans": "Plans",
    "records": "Records",
    "oversight": "Oversight",
    "strengths": "Strengths",
    OVERALL: "Overall",
}
GRADE_SHORT = {
    Grade.OUTSTANDING: "Outst.",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "RI",
    Grade.INADEQUATE: "Inad.",
}
GRADE_COLOURS = {
    Grade.OUTSTANDING: "good",
    Grade.GOOD: "categoricalBlue",
    Grade.REQUIRES_IMPROVEMENT: "warning",
    Grade.INADEQUATE: "attention",
}


def digest_summary(d: Digest) -> str:
    """The notification preview: the period and the scope, nothing about any case."""
    return f"QA figures for {d.period.label}: {d.title}"


def digest_card(d: Digest, *, intro: str | None = None) -> AdaptiveCard:
    body: list[CardElement] = [
        heading(f"QA figures: {d.period.label}"),
        literal(run(d.title, subtle=True)),
    ]
    if intro:
        body.append(note(intro))
    if d.is_empty:
        body.append(
            note(
                "Nothing to report: no audits were due, completed or moderated, and no actions "
                "were opened, closed or overdue."
            )
        )
        return new_card(body)
    body += _compliance(d)
    body += _grades(d)
    body += _trend(d)
    body += _meetings(d.meetings)
    body += _actions(d)
    body += _feedback(d)
    body += _moderation(d)
    body += _overrides(d)
    return new_card(body)


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, first_wide: bool = True
) -> Table:
    """A plain table; the cells are rendered literally (team and people's names are stored text)."""
    widths = [2 if first_wide else 1] + [1] * (len(header) - 1)
    return Table(
        columns=[ColumnDefinition(width=w) for w in widths],
        first_row_as_headers=True,
        show_grid_lines=False,
        rows=[_row(header, bold=True)] + [_row(r) for r in rows],
    )


def _row(cells: Sequence[str], *, bold: bool = False) -> TableRow:
    return TableRow(cells=[TableCell(items=[literal(run(c, bold=bold))]) for c in cells])


def _more(shown: int, total: int, what: str) -> list[CardElement]:
    if total <= shown:
        return []
    return [note(f"And {total - shown} more {what}: `qaloop report` has them all.", subtle=True)]


def _compliance(d: Digest) -> list[CardElement]:
    total = d.compliance_total
    parts: list[CardElement] = [section("Audits completed on time")]
    if not total.due:
        return [*parts, note("No audits were due.")]
    # This month so far counts the audits due by today; the team card counts the whole month's.
    due = "audits due so far" if d.period.kind == "month_so_far" else "audits due"
    parts.append(
        note(
            f"{total.on_time} of {total.due} {due} were completed on time "
            f"({percent(total.share)}); {total.completed} completed in all."
        )
    )
    if len(d.compliance) > 1:
        rows = [
            [c.team, str(c.due), str(c.on_time), percent(c.share)] for c in d.compliance[:TEAM_ROWS]
        ]
        parts.append(table(["Team", "Due", "On time", "%"], rows))
        parts += _more(TEAM_ROWS, len(d.compliance), "teams")
    return parts


def _grades(d: Digest) -> list[CardElement]:
    total = d.grades.total()
    parts: list[CardElement] = [section("Grades")]
    if not total:
        return [*parts, note("No audits were completed.")]
    mix = d.grades.of(OVERALL)
    words = ", ".join(f"{GRADE_LABELS[g]} {n}" for g, n in mix)
    parts.append(
        note(f"{total} audits completed: {words}. Good or better: {percent(d.good_or_better)}.")
    )
    fallback = table(["Grade", "Audits"], [[GRADE_LABELS[g], str(n)] for g, n in mix])
    parts.append(
        HorizontalBarChart(
            title="Overall grades",
            show_title=True,
            # A bar per grade with its count beside it and no axis: whole audits never tick
            # 0.25, 0.5, and each grade's name shows in full rather than cut to "Requires…".
            display_mode="AbsoluteNoAxis",
            data=[
                HorizontalBarChartDataValue(x=GRADE_LABELS[g], y=n, color=GRADE_COLOURS[g])
                for g, n in mix
            ],
            fallback=fallback,
        )
    )
    rows = [
        [STANDARD_SHORT[s.value], *(str(n) for _, n in d.grades.of(s.value))] for s in STANDARDS
    ]
    parts.append(note("By practice standard:", subtle=True))
    parts.append(table(["Standard", *(GRADE_SHORT[g] for g in Grade)], rows))
    return parts


def _trend(d: Digest) -> list[CardElement]:
    parts: list[CardElement] = [section("Good or better over six months")]
    points = [p for p in d.trend if p.share is not None]
    if not points:
        return [*parts, note("No graded audits in the last six months.")]
    words = "; ".join(f"{p.label} {percent(p.share)}" for p in d.trend)
    parts.append(note(words + "."))
    fallback = table(
        ["Month", "Graded", "Good or better"],
        [[p.label, str(p.graded), percent(p.share)] for p in d.trend],
    )
    parts.append(
        LineChart(
            title="Share graded good or better (%)",
            show_title=True,
            y_min=0,
            y_max=100,
            data=[
                LineChartData(
                    legend="Good or better",
                    values=[
                        LineChartValue(x=p.short_label, y=round(100 * (p.share or 0)))
                        for p in points
                    ],
                )
            ],
            fallback=fallback,
        )
    )
    gaps = [p.label for p in d.trend if p.share is None]
    if gaps:
        parts.append(note(f"No graded audits in {', '.join(gaps)}.", subtle=True))
    return parts


def meetings_line(m: Meetings, deadlines: Deadlines = DEFAULT_DEADLINES) -> str:
    """The action meetings of inadequate audits, then the child visits where risk was identified
    (at any grade, so there can be visits with no audit graded inadequate)."""
    if not m.inadequate and not m.visits:
        return "No audits were graded inadequate."
    meetings = _waiting(m.not_held_overdue, m.not_held_not_due, "not held")
    visits = (
        f"Risk identified in {m.visits}: child visited {deadlines.visit.words} for "
        f"{m.visited_in_time}, visited late for {m.visited_late}"
        f"{_waiting(m.not_visited_overdue, m.not_visited_not_due, 'not recorded')}."
        if m.visits
        else "No child visits were due: no risk was identified."
    )
    if not m.inadequate:
        return f"No audits were graded inadequate. {visits}"
    return (
        f"{m.inadequate} audit{'s' if m.inadequate != 1 else ''} graded inadequate: action "
        f"meeting held {deadlines.meeting.words} for {m.in_time}, held late for {m.late}{meetings}. "
        f"{visits}"
    )


def _waiting(overdue: int, not_due: int, missing: str) -> str:
    """ "; 1 not held and overdue, 2 not yet due", or nothing when none are waiting."""
    waiting = [f"{overdue} {missing} and overdue"] if overdue else []
    if not_due:
        waiting.append(f"{not_due} not yet due")
    return f"; {', '.join(waiting)}" if waiting else ""


def _meetings(m: Meetings) -> list[CardElement]:
    return [section("Inadequate audits: meetings and visits"), note(meetings_line(m))]


def _actions(d: Digest) -> list[CardElement]:
    total = d.actions_total
    parts: list[CardElement] = [section("Actions")]
    if not d.actions:
        return [*parts, note("No actions were opened, closed or overdue.")]
    parts.append(
        note(
            f"{total.opened} opened, {total.closed} done, {total.overdue} overdue at the end of "
            "the period."
        )
    )
    if len(d.actions) > 1:
        rows = [
            [a.team, str(a.opened), str(a.closed), str(a.overdue)] for a in d.actions[:TEAM_ROWS]
        ]
        parts.append(table(["Team", "Opened", "Done", "Overdue"], rows))
        parts += _more(TEAM_ROWS, len(d.actions), "teams")
    return parts


def _feedback(d: Digest) -> list[CardElement]:
    f = d.feedback
    parts: list[CardElement] = [section("Practitioner feedback")]
    if not f.audits:
        return [*parts, note("No completed audits with a practitioner.")]
    parts.append(
        note(
            f"{f.responses} of {f.audits} practitioners gave feedback ({percent(f.rate)}). "
            "Average ratings out of 5:"
        )
    )
    parts.append(
        FactSet(
            facts=[
                Fact(title=RATING_LABELS[name], value=_average(f.averages[name]))
                for name in RATINGS
            ]
        )
    )
    return parts


def _average(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _moderation(d: Digest) -> list[CardElement]:
    parts: list[CardElement] = [section("Moderation agreement")]
    if not d.by_auditor:
        return [*parts, note("No moderations were decided.")]
    parts.append(note("By practice standard:", subtle=True))
    parts.append(
        FactSet(
            facts=[
                Fact(
                    title=STANDARD_SHORT.get(a.name, a.name),
                    value=f"{percent(a.share)} ({a.agreed} of {a.judged})",
                )
                for a in d.by_standard
            ]
        )
    )
    parts.append(note("By auditor (every judgement moderated):", subtle=True))
    parts.append(
        table(
            ["Auditor", "Agreed", "%"],
            [[a.name, f"{a.agreed} of {a.judged}", percent(a.share)] for a in d.by_auditor][
                :AUDITOR_ROWS
            ],
        )
    )
    parts += _more(AUDITOR_ROWS, len(d.by_auditor), "auditors")
    return parts


def _overrides(d: Digest) -> list[CardElement]:
    parts: list[CardElement] = [section("Limiting judgement overrides to look at")]
    if not d.overrides:
        return [
            *parts,
            note("None: every audit with an inadequate standard was graded inadequate."),
        ]
    parts.append(
        note(
            f"{len(d.overrides)} audit{'s' if len(d.overrides) != 1 else ''} graded better than "
            "inadequate overall despite an inadequate standard:"
        )
    )
    for o in d.overrides[:OVERRIDE_ROWS]:
        standards = ", ".join(label(STANDARD_LABELS, s) for s in o.inadequate)
        parts.append(
            literal(
                run(f"Audit #{o.audit_id}", bold=True),
                f" · {o.team} · {o.auditor} · overall {label(GRADE_LABELS, o.overall)}; "
                f"inadequate: {standards}",
            )
        )
    parts += _more(OVERRIDE_ROWS, len(d.overrides), "audits")
    return parts

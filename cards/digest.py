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
    Container,
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
    TextBlock,
)

from bot.rules.deadlines import DEFAULT_DEADLINES, Deadlines
from bot.rules.digest import (
    RATING_LABELS,
    RATINGS,
    STANDARDS,
    TREND_MONTHS,
    Agreement,
    Digest,
    GroupTrend,
    Meetings,
    TeamCompliance,
    TrendPoint,
    percent,
    share,
)
from bot.rules.disclosure import fewer_than
from bot.rules.grades import GRADE_LABELS, OVERALL, STANDARD_LABELS, AuditKind, Grade
from bot.rules.programmes import Progress
from bot.rules.theme_report import ThemeReport
from cards.common import counted, heading, label, literal, new_card, note, run, section
from cards.own_view import OwnViewFigures, own_view_section
from cards.themes import themes_section

# Keeps the card under Teams' 40 KB with fifty teams, 500 auditors and the 12-month trends
# (tests/bench/bench_trends.py: 25 rows made QA's `stats` 43 KB); the report has every row.
TEAM_ROWS = 15
AUDITOR_ROWS = 15
OVERRIDE_ROWS = 10
TREND_GROUP_ROWS = 12
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


def digest_card(
    d: Digest,
    *,
    intro: str | None = None,
    themes: ThemeReport | None = None,
    own_views: OwnViewFigures | None = None,
) -> AdaptiveCard:
    """The figures; with `themes`, the monthly digest's practice themes section too; with
    `own_views` (QA only), practitioners' own grades against the auditors'."""
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
    body += _programmes(d)
    body += _grades(d)
    body += _trend(d)
    body += _meetings(d.meetings)
    body += _actions(d)
    body += _verified(d)
    if themes is not None:
        body += themes_section(themes)
    body += _feedback(d)
    body += _moderation(d)
    if own_views is not None:
        body += own_view_section(own_views)
    body += _overrides(d)
    return new_card(body)


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    first_wide: bool = True,
    stored_columns: int = 1,
) -> Table:
    """A plain table. The first `stored_columns` columns hold stored text (a team's or a person's
    name) and are rendered literally; the others hold our own figures ("12", "83%", "fewer than
    3"), as plain TextBlocks, a third the size, so long tables keep the card under 40 KB."""
    widths = [2 if first_wide else 1] + [1] * (len(header) - 1)
    return Table(
        columns=[ColumnDefinition(width=w) for w in widths],
        first_row_as_headers=True,
        show_grid_lines=False,
        rows=[_row(header, stored_columns, bold=True)] + [_row(r, stored_columns) for r in rows],
    )


def _row(cells: Sequence[str], stored: int, *, bold: bool = False) -> TableRow:
    return TableRow(
        cells=[
            TableCell(
                items=[
                    literal(run(c, bold=bold))
                    if n < stored
                    else TextBlock(text=c, weight="Bolder" if bold else None)
                ]
            )
            for n, c in enumerate(cells)
        ]
    )


def _more(shown: int, total: int, what: str) -> list[CardElement]:
    """ "And 1 more team: ...", "And 2 more teams: ..."; `what` is the singular."""
    if total <= shown:
        return []
    more = counted(total - shown, f"more {what}", f"more {what}s")
    return [note(f"And {more}: `qaloop report` has them all.", subtle=True)]


def hidden_text(d: Digest) -> str:
    """What a hidden figure reads: "fewer than 3"."""
    return fewer_than(d.suppressed_below or 0)


def compliance_line(d: Digest) -> str:
    """The compliance sentence for the whole scope; the card's, the team card's and the reports'."""
    total = d.compliance_total
    if total.hidden:
        return (
            f"{hidden_text(d).capitalize()} audits were due: not shown, so that no one's audit "
            f"can be told apart{cancelled_words(d, ';')}."
        )
    if not total.due:
        return f"No audits were due{cancelled_words(d, ';')}."
    # This month so far counts the audits due by today; the team card counts the whole month's.
    due = "audit due so far" if d.period.kind == "month_so_far" else "audit due"
    line = (
        f"{total.on_time} of {counted(total.due, due, due.replace('audit', 'audits'))} "
        f"{'was' if total.due == 1 else 'were'} completed on time ({percent(total.share)}); "
        # Of those due, not of all completed in the period (the grades count those): "0
        # completed in all" above "4 audits completed" read as a contradiction.
        f"{total.completed} of them completed, on time or late"
    )
    if total.declined:
        line += f"; {total.declined} declined, not reassigned"
    return f"{line}{cancelled_words(d, ';')}."


def cancelled_words(d: Digest, lead: str) -> str:
    """ "; 2 cancelled: case closed; fewer than 3 cancelled: case transferred", or "" if none."""
    return "".join(
        f"{lead} {hidden_text(d) if c.hidden else c.count} cancelled: {c.reason}"
        for c in d.cancelled
    )


def programme_line(p: Progress, hidden: str, *, council_wide: bool = False) -> str:
    """ "Collaborative: 14 of 20 completed (70%)"; "fewer than 3 of 4"; or with no target set,
    "2 completed (no target set)"."""
    done = hidden if p.hidden else str(p.completed)
    whose = " (the council's)" if council_wide and p.kind is not AuditKind.TEAM_MANAGER else ""
    if not p.target:
        return f"{p.label}{whose}: {done} completed (no target set)"
    shown = "" if p.hidden else f" ({percent(share(p.completed, p.target))})"
    return f"{p.label}{whose}: {done} of {p.target} completed{shown}"


def _programmes(d: Digest) -> list[CardElement]:
    if not any(p.target or p.completed or p.hidden for p in d.programmes):
        return []
    # In a team's or service's figures, the three council programmes are still the council's.
    return [
        section("Audit programme"),
        *(
            note(programme_line(p, hidden_text(d), council_wide=not d.everyone))
            for p in d.programmes
        ),
    ]


def compliance_row(d: Digest, c: TeamCompliance) -> list[str]:
    """A team's row: due, on time, declined not reassigned, %; or "fewer than 3" throughout."""
    if c.hidden:
        return [c.team, hidden_text(d), "", "", ""]
    return [c.team, str(c.due), str(c.on_time), str(c.declined), percent(c.share)]


COMPLIANCE_HEADER = ["Team", "Due", "On time", "Declined", "%"]


def _compliance(d: Digest) -> list[CardElement]:
    total = d.compliance_total
    parts: list[CardElement] = [section("Audits completed on time")]
    parts.append(note(compliance_line(d)))
    if not total.due and not total.hidden:
        return parts
    if len(d.compliance) > 1:
        rows = [compliance_row(d, c) for c in d.compliance[:TEAM_ROWS]]
        parts.append(table(COMPLIANCE_HEADER, rows))
        parts += _more(TEAM_ROWS, len(d.compliance), "team")
    return parts


def _grades(d: Digest) -> list[CardElement]:
    total = d.grades.total()
    parts: list[CardElement] = [section("Grades")]
    if d.grades.hidden:
        return [*parts, note(grades_hidden_line(d))]
    if not total:
        return [*parts, note("No audits were completed.")]
    mix = d.grades.of(OVERALL)
    words = ", ".join(f"{GRADE_LABELS[g]} {n}" for g, n in mix)
    parts.append(
        note(
            f"{counted(total, 'audit')} completed: {words}. "
            f"Good or better: {percent(d.good_or_better)}."
        )
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


def grades_hidden_line(d: Digest) -> str:
    return (
        f"{hidden_text(d).capitalize()} audits were completed: their grades are not shown, so "
        "that no one's audit can be told apart."
    )


def trend_words(d: Digest) -> str:
    """Each month's share, "fewer than 3 graded" for a hidden month."""
    return "; ".join(
        f"{p.label} {hidden_text(d)} graded" if p.hidden else f"{p.label} {percent(p.share)}"
        for p in d.trend
    )


TREND_KEYS = (OVERALL, *(s.value for s in STANDARDS))
TREND_TITLE = f"Good or better over {TREND_MONTHS} months"


def trend_cell(d: Digest, p: TrendPoint) -> str:
    return hidden_text(d) if p.hidden else percent(p.share)


def trend_series(d: Digest) -> dict[str, list[TrendPoint]]:
    """Overall's months, then each standard's."""
    return {OVERALL: d.trend, **{k: d.standard_trend.get(k, []) for k in TREND_KEYS[1:]}}


def trend_table_rows(d: Digest) -> list[list[str]]:
    """A row a month: overall's share, then each standard's."""
    series = trend_series(d)
    return [
        [p.label, *(trend_cell(d, series[k][n]) if series[k] else "–" for k in TREND_KEYS)]
        for n, p in enumerate(d.trend)
    ]


def trend_lines(d: Digest) -> list[str]:
    """A line for overall and each standard: "Heart: Dec 80%; Jan –; ...", the months named
    from the first's year (the chart's title says which)."""
    return [
        f"{STANDARD_SHORT[key]}: "
        + "; ".join(f"{p.short_label} {trend_cell(d, p)}" for p in points)
        for key, points in trend_series(d).items()
        if points
    ]


def group_trend_row(d: Digest, g: GroupTrend) -> list[str]:
    if g.hidden:
        return [g.name, hidden_text(d), *([""] * len(TREND_KEYS))]
    return [
        g.name,
        str(g.graded.get(OVERALL, 0)),
        *(hidden_text(d) if k in g.hidden_keys else percent(g.share(k)) for k in TREND_KEYS),
    ]


def group_trend_header(d: Digest) -> list[str]:
    return [d.trend_group_kind.capitalize(), "Audits", *(STANDARD_SHORT[k] for k in TREND_KEYS)]


def _trend(d: Digest) -> list[CardElement]:
    """Overall and each standard's share graded good or better, month by month: a line each,
    with a table (a month a row) where charts do not render; then the months added up by service
    or team."""
    parts: list[CardElement] = [section(TREND_TITLE)]
    if not any(p.share is not None or p.hidden for p in d.trend):
        return [*parts, note(f"No graded audits in the last {TREND_MONTHS} months.")]
    parts.append(note(trend_words(d) + "."))
    first, last = d.trend[0], d.trend[-1]
    series = trend_series(d)
    parts.append(
        LineChart(
            title=f"Share graded good or better (%), {first.label} to {last.label}",
            show_title=True,
            y_min=0,
            y_max=100,
            data=[
                LineChartData(
                    legend=STANDARD_SHORT[key],
                    values=[
                        LineChartValue(x=p.short_label, y=round(100 * (p.share or 0)))
                        for p in points
                        if p.share is not None
                    ],
                )
                for key, points in series.items()
                if any(p.share is not None for p in points)
            ],
            # In words rather than a table of 12 months by 7: a quarter of the size.
            fallback=Container(items=[note(line) for line in trend_lines(d)]),
        )
    )
    gaps = [p.label for p in d.trend if p.share is None and not p.hidden]
    if gaps:
        parts.append(note(f"No graded audits in {', '.join(gaps)}.", subtle=True))
    if d.trend_groups:
        parts.append(note(f"By {d.trend_group_kind}, the {TREND_MONTHS} months:", subtle=True))
        rows = [group_trend_row(d, g) for g in d.trend_groups[:TREND_GROUP_ROWS]]
        parts.append(table(group_trend_header(d), rows))
        parts += _more(TREND_GROUP_ROWS, len(d.trend_groups), d.trend_group_kind)
    return parts


def meetings_line(m: Meetings, deadlines: Deadlines = DEFAULT_DEADLINES) -> str:
    """The action meetings of inadequate audits, then the child visits where risk was identified
    (at any grade, so there can be visits with no audit graded inadequate)."""
    if m.hidden:
        return (
            "Fewer than 3 audits were graded inadequate or found risk: not shown, so that no "
            "one's audit can be told apart. Each one's alert names who acts on it."
        )
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
            f"{counted(total.opened, 'action')} opened, {total.closed} done, {total.overdue} "
            "overdue at the end of the period."
        )
    )
    if len(d.actions) > 1:
        rows = [
            [a.team, str(a.opened), str(a.closed), str(a.overdue)] for a in d.actions[:TEAM_ROWS]
        ]
        parts.append(table(["Team", "Opened", "Done", "Overdue"], rows))
        parts += _more(TEAM_ROWS, len(d.actions), "team")
    return parts


def verified_line(d: Digest) -> str:
    """Closing the loop: of the re-audited audits' actions, how many were done and verified."""
    v = d.verified
    if not (v.reaudits or v.hidden):
        return "No re-audits were completed."
    if v.hidden:
        return (
            f"{hidden_text(d).capitalize()} re-audits were completed: not shown, so that no "
            "one's audit can be told apart."
        )
    done = f"{v.done} done" if v.actions else "none done"
    return (
        f"{counted(v.reaudits, 're-audit')} completed. Their audits had "
        f"{counted(v.actions, 'action')}: {done}, and {v.verified} of those verified (the "
        "re-audit shows the standard the action targets no longer inadequate)."
    )


def _verified(d: Digest) -> list[CardElement]:
    if not (d.verified.reaudits or d.verified.hidden):
        return []
    return [section("Actions done and verified by re-audit"), note(verified_line(d))]


def feedback_line(d: Digest) -> str:
    f = d.feedback
    if f.audits_hidden:
        return (
            f"{hidden_text(d).capitalize()} audits with a practitioner were completed: feedback "
            "is not shown, so that no one's can be told apart."
        )
    of = f"of {counted(f.audits, 'practitioner')}"
    if f.responses_hidden:
        return (
            f"{hidden_text(d).capitalize()} {of} gave feedback: the ratings are not shown, so "
            "that no one's can be told apart."
        )
    return f"{f.responses} {of} gave feedback ({percent(f.rate)})."


def _feedback(d: Digest) -> list[CardElement]:
    f = d.feedback
    parts: list[CardElement] = [section("Practitioner feedback")]
    if not f.audits and not f.audits_hidden:
        return [*parts, note("No completed audits with a practitioner.")]
    if f.audits_hidden or f.responses_hidden:
        return [*parts, note(feedback_line(d))]
    parts.append(note(f"{feedback_line(d)} Average ratings out of 5:"))
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


def agreement_cell(d: Digest, a: Agreement) -> str:
    return hidden_text(d) + " audits" if a.hidden else f"{a.agreed} of {a.judged}"


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
                    value=agreement_cell(d, a)
                    if a.hidden
                    else f"{percent(a.share)} ({agreement_cell(d, a)})",
                )
                for a in d.by_standard
            ]
        )
    )
    parts.append(note("By auditor (every judgement moderated):", subtle=True))
    parts.append(
        table(
            ["Auditor", "Agreed", "%"],
            [
                [a.name, agreement_cell(d, a), "" if a.hidden else percent(a.share)]
                for a in d.by_auditor
            ][:AUDITOR_ROWS],
        )
    )
    parts += _more(AUDITOR_ROWS, len(d.by_auditor), "auditor")
    return parts


def _overrides(d: Digest) -> list[CardElement]:
    parts: list[CardElement] = [section("Limiting judgement overrides to look at")]
    if d.suppressed_below is not None:
        return [*parts, note(overrides_hidden_line(d))]
    if not d.overrides:
        return [
            *parts,
            note("None: every audit with an inadequate standard was graded inadequate."),
        ]
    parts.append(
        note(
            f"{counted(len(d.overrides), 'audit')} graded better than inadequate overall despite "
            "an inadequate standard:"
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
    parts += _more(OVERRIDE_ROWS, len(d.overrides), "audit")
    return parts


def overrides_hidden_line(d: Digest) -> str:
    """Outside QA: how many, never which (each names an auditor and an audit)."""
    if d.grades.hidden:
        return grades_hidden_line(d)
    n = d.overrides_hidden
    if not n:
        return "None: every audit with an inadequate standard was graded inadequate."
    return (
        f"{counted(n, 'audit')} graded better than inadequate overall despite an inadequate "
        "standard; the QA team moderates them."
    )

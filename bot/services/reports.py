"""The digest as a file: Markdown to read, CSV for Excel, or a self-contained HTML page with charts
(inline SVG) that prints well. `qaloop report` writes them; no case reference is in any of them.

A file travels beyond the QA team (to leaders, to an inspector), so its figures go through
bot.rules.disclosure as they would for anyone but QA: none rests on fewer than QALOOP_SUPPRESS_BELOW
people or audits, and no override names its auditor."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from html import escape
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from bot.rules.digest import (
    GOOD_OR_BETTER,
    RATING_LABELS,
    RATINGS,
    STANDARDS,
    TREND_MONTHS,
    Digest,
    Meetings,
    Period,
    digest,
    overdue_point,
    percent,
)
from bot.rules.disclosure import disclose
from bot.rules.grades import GRADE_LABELS, OVERALL, STANDARD_LABELS, Grade
from bot.services.spreadsheet import no_formula
from cards.common import label
from cards.digest import (
    COMPLIANCE_HEADER,
    STANDARD_SHORT,
    TREND_KEYS,
    TREND_TITLE,
    agreement_cell,
    compliance_line,
    compliance_row,
    feedback_line,
    grades_hidden_line,
    group_trend_header,
    group_trend_row,
    hidden_text,
    meetings_line,
    overrides_hidden_line,
    trend_table_rows,
    trend_words,
    verified_line,
)
from storage import digest as figures
from storage.db import SessionMaker

Format = Literal["md", "csv", "html"]
CSV_HEADER = ("section", "group", "measure", "value")
# Excel reads a UTF-8 file as such only when it starts with a byte order mark.
BOM = "\ufeff"


async def load_digest(
    *,
    sessions: SessionMaker,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    below: int,
) -> Digest:
    """Everyone's figures for a closed period, as they may be shown outside the QA team."""
    async with sessions() as session:
        counts = await figures.counts(
            session=session,
            tenant_id=tenant_id,
            period=period,
            zone=zone,
            overdue=overdue_point(period, zone, now),
        )
    whole = digest(counts, title="All teams", team_ids=None, today=now.astimezone(zone).date())
    return disclose(whole, below=below, for_qa=False)


def render(d: Digest, fmt: Format, *, made_on: date) -> str:
    if fmt == "csv":
        return to_csv(d)
    if fmt == "html":
        return to_html(d, made_on=made_on)
    return to_markdown(d, made_on=made_on)


# --- rows: one list of (section, group, measure, value) that every format draws on ----------------


def rows(d: Digest) -> Iterator[tuple[str, str, str, str]]:
    """Every figure as a tidy row; shares are percentages to one decimal place, or empty."""
    hidden = hidden_text(d)
    for c in [*d.compliance, d.compliance_total]:
        if c.hidden:
            yield "compliance", c.team, "due", hidden
            continue
        yield "compliance", c.team, "due", str(c.due)
        yield "compliance", c.team, "on_time", str(c.on_time)
        yield "compliance", c.team, "completed", str(c.completed)
        yield "compliance", c.team, "declined_not_reassigned", str(c.declined)
        yield "compliance", c.team, "on_time_percent", _pc(c.share)
    if d.grades.hidden:
        yield "grades", OVERALL, "completed", hidden
    else:
        for key in (OVERALL, *(s.value for s in STANDARDS)):
            for grade, count in d.grades.of(key):
                yield "grades", key, grade.value, str(count)
    for p in d.trend:
        month = p.month.strftime("%Y-%m")
        if p.hidden:
            yield "trend", month, "graded", hidden
            continue
        yield "trend", month, "graded", str(p.graded)
        yield "trend", month, "good_or_better", str(p.good_or_better)
        yield "trend", month, "good_or_better_percent", _pc(p.share)
    for key, points in d.standard_trend.items():
        for p in points:
            month = p.month.strftime("%Y-%m")
            if p.hidden:
                yield "trend_" + key, month, "graded", hidden
                continue
            yield "trend_" + key, month, "graded", str(p.graded)
            yield "trend_" + key, month, "good_or_better", str(p.good_or_better)
    for g in d.trend_groups:
        section = f"trend_by_{d.trend_group_kind}"
        if g.hidden:
            yield section, g.name, "graded", hidden
            continue
        for key in TREND_KEYS:
            if key in g.hidden_keys:
                yield section, g.name, f"{key}_graded", hidden
                continue
            yield section, g.name, f"{key}_graded", str(g.graded.get(key, 0))
            yield section, g.name, f"{key}_good_or_better", str(g.good_or_better.get(key, 0))
    m = d.meetings
    if m.hidden:
        yield "meetings", "All", "inadequate", hidden
        yield "visits", "All", "risk_identified", hidden
    else:
        yield from _meeting_rows(m)
    for a in [*d.actions, d.actions_total]:
        yield "actions", a.team, "opened", str(a.opened)
        yield "actions", a.team, "done", str(a.closed)
        yield "actions", a.team, "overdue", str(a.overdue)
    v = d.verified
    if v.hidden:
        yield "verified", "All", "reaudits", hidden
    elif v.reaudits:
        yield "verified", "All", "reaudits", str(v.reaudits)
        yield "verified", "All", "actions", str(v.actions)
        yield "verified", "All", "done", str(v.done)
        yield "verified", "All", "verified", str(v.verified)
    f = d.feedback
    yield (
        "feedback",
        "All",
        "audits_with_practitioner",
        hidden if f.audits_hidden else str(f.audits),
    )
    if not f.audits_hidden:
        yield "feedback", "All", "responses", hidden if f.responses_hidden else str(f.responses)
    if not (f.audits_hidden or f.responses_hidden):
        yield "feedback", "All", "response_percent", _pc(f.rate)
        for name in RATINGS:
            value = f.averages[name]
            yield "feedback", "All", f"average_{name}", "" if value is None else f"{value:.2f}"
    for kind, agreements in (("by_standard", d.by_standard), ("by_auditor", d.by_auditor)):
        for agreement in agreements:
            name = agreement.name
            if agreement.hidden:
                yield f"moderation_{kind}", name, "audits", hidden
                continue
            yield f"moderation_{kind}", name, "agreed", str(agreement.agreed)
            yield f"moderation_{kind}", name, "judged", str(agreement.judged)
            yield f"moderation_{kind}", name, "agreement_percent", _pc(agreement.share)
    if d.suppressed_below is not None and not d.grades.hidden:
        yield "overrides", "All", "audits", str(d.overrides_hidden)
    for o in d.overrides:
        group = f"audit {o.audit_id}"
        yield "overrides", group, "team", o.team
        yield "overrides", group, "auditor", o.auditor
        yield "overrides", group, "overall", o.overall
        yield "overrides", group, "inadequate_standards", " ".join(o.inadequate)


def _pc(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def to_csv(d: Digest) -> str:
    """UTF-8 with a byte order mark, CRLF line ends and a header row: Excel opens it as it is."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows(d):
        writer.writerow([no_formula(cell) for cell in row])
    return BOM + out.getvalue()


# --- Markdown ---------------------------------------------------------------------------------------


def _md_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in body), ""]


TableData = tuple[list[str], list[list[str]]]


class Tables(NamedTuple):
    """Every table a report shows, as (header, rows): the Markdown and HTML pages draw the same."""

    compliance: TableData
    grades: TableData
    trend: TableData
    # Overall's and each standard's share good or better, a month a row; then by group.
    standard_trend: TableData
    trend_groups: TableData
    actions: TableData
    feedback: TableData
    by_standard: TableData
    by_auditor: TableData
    overrides: TableData


def tables(d: Digest) -> Tables:
    t = d.actions_total
    return Tables(
        compliance=(COMPLIANCE_HEADER, [compliance_row(d, c) for c in d.compliance]),
        grades=(
            ["", *(GRADE_LABELS[g] for g in Grade)],
            []
            if d.grades.hidden
            else [
                [STANDARD_SHORT[key], *(str(n) for _, n in d.grades.of(key))]
                for key in (OVERALL, *(s.value for s in STANDARDS))
            ],
        ),
        trend=(
            ["Month", "Graded", "Good or better", "%"],
            [
                [p.label, hidden_text(d), "", ""]
                if p.hidden
                else [p.label, str(p.graded), str(p.good_or_better), percent(p.share)]
                for p in d.trend
            ],
        ),
        standard_trend=(["Month", *(STANDARD_SHORT[k] for k in TREND_KEYS)], trend_table_rows(d)),
        trend_groups=(
            group_trend_header(d) if d.trend_groups else [],
            [group_trend_row(d, g) for g in d.trend_groups],
        ),
        actions=(
            ["Team", "Opened", "Done", "Overdue"],
            [[a.team, str(a.opened), str(a.closed), str(a.overdue)] for a in d.actions]
            + [["All", str(t.opened), str(t.closed), str(t.overdue)]],
        ),
        feedback=(
            ["Question", "Average (1–5)"],
            []
            if d.feedback.audits_hidden or d.feedback.responses_hidden
            else [[RATING_LABELS[n], _avg(d.feedback.averages[n])] for n in RATINGS],
        ),
        by_standard=(
            ["Standard", "Agreed", "%"],
            [
                [
                    STANDARD_SHORT.get(a.name, a.name),
                    agreement_cell(d, a),
                    "" if a.hidden else percent(a.share),
                ]
                for a in d.by_standard
            ],
        ),
        by_auditor=(
            ["Auditor", "Agreed", "%"],
            [
                [a.name, agreement_cell(d, a), "" if a.hidden else percent(a.share)]
                for a in d.by_auditor
            ],
        ),
        overrides=(
            ["Audit", "Team", "Auditor", "Overall", "Inadequate standards"],
            [
                [
                    f"#{o.audit_id}",
                    o.team,
                    o.auditor,
                    label(GRADE_LABELS, o.overall),
                    ", ".join(label(STANDARD_LABELS, s) for s in o.inadequate),
                ]
                for o in d.overrides
            ],
        ),
    )


def to_markdown(d: Digest, *, made_on: date) -> str:
    drawn = tables(d)
    out = [f"# QA figures: {d.period.label}", "", f"{d.title}. Made on {made_on.isoformat()}.", ""]
    total = d.compliance_total
    out += ["## Audits completed on time", ""]
    out.append(compliance_line(d) if total.due or total.hidden else "No audits were due.")
    out.append("")
    out += _md_table(*drawn.compliance)
    out += ["## Grades", "", _grades_line(d), ""]
    out += _md_table(*drawn.grades)
    out += [f"## {TREND_TITLE}", ""]
    out += _md_table(*drawn.trend)
    out += ["By practice standard (% good or better):", ""]
    out += _md_table(*drawn.standard_trend)
    if d.trend_groups:
        out += [f"By {d.trend_group_kind}, the {TREND_MONTHS} months:", ""]
        out += _md_table(*drawn.trend_groups)
    out += ["## Inadequate audits: meetings and visits", "", meetings_line(d.meetings), ""]
    out += ["## Actions", ""]
    out += _md_table(*drawn.actions)
    out += ["## Actions done and verified by re-audit", "", verified_line(d), ""]
    out += ["## Practitioner feedback", ""]
    out.append(feedback_line(d))
    out.append("")
    out += _md_table(*drawn.feedback)
    out += ["## Moderation agreement", ""]
    out += _md_table(*drawn.by_standard)
    out += _md_table(*drawn.by_auditor)
    out += ["## Limiting judgement overrides to look at", ""]
    if d.suppressed_below is not None:
        out += [overrides_hidden_line(d), ""]
    else:
        out += _md_table(*drawn.overrides)
    return "\n".join(out)


def _grades_line(d: Digest) -> str:
    if d.grades.hidden:
        return grades_hidden_line(d)
    return f"Good or better: {percent(d.good_or_better)}."


def _avg(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


# --- HTML with inline SVG charts ------------------------------------------------------------------

CSS = """
body { font-family: "Segoe UI", Arial, sans-serif; color: #222; margin: 2rem auto; max-width: 60rem;
  line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: .2rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
svg { display: block; margin: .5rem 0; max-width: 100%; height: auto; }
svg text { font: 12px "Segoe UI", Arial, sans-serif; fill: #222; }
.subtle { color: #555; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  section { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  th { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .bar, .line, .dot { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page { margin: 15mm; }
"""
GRADE_FILL = {
    Grade.OUTSTANDING: "#2e7d32",
    Grade.GOOD: "#1565c0",
    Grade.REQUIRES_IMPROVEMENT: "#ef6c00",
    Grade.INADEQUATE: "#c62828",
}


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def html_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in header)
    lines = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def bar_chart_svg(title: str, bars: Sequence[tuple[str, float, str]], *, unit: str = "") -> str:
    """Vertical bars (label, value, fill) with their values written on them."""
    width, height, top, bottom, left = 480, 220, 24, 40, 30
    plot = height - top - bottom
    top_value = max((v for _, v, _ in bars), default=0) or 1
    step = (width - left) / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{esc(title)}</title>",
        f'<line x1="{left}" y1="{top + plot}" x2="{width}" y2="{top + plot}" stroke="#888"/>',
    ]
    for n, (name, value, fill) in enumerate(bars):
        bar_height = plot * value / top_value
        x = left + n * step + step * 0.15
        y = top + plot - bar_height
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
            f'height="{bar_height:.1f}" fill="{fill}"><title>{esc(name)}: {esc(_num(value))}{unit}</title></rect>'
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">{esc(_num(value))}{unit}</text>'
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{top + plot + 16}" text-anchor="middle">{esc(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart_svg(title: str, points: Sequence[tuple[str, float | None]]) -> str:
    """A percentage line (0–100) over labelled months; a month without a value is a gap."""
    width, height, top, bottom, left = 480, 220, 20, 40, 40
    plot = height - top - bottom
    step = (width - left - 20) / max(len(points) - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{esc(title)}</title>",
    ]
    for tick in (0, 50, 100):
        y = top + plot * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}%</text>'
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for n, (name, value) in enumerate(points):
        x = left + n * step
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot + 16}" text-anchor="middle">{esc(name)}</text>'
        )
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = top + plot * (1 - value)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1565c0">'
            f"<title>{esc(name)}: {round(100 * value)}%</title></circle>"
        )
    if segment:
        segments.append(segment)
    for s in segments:
        parts.append(
            f'<polyline class="line" points="{" ".join(s)}" fill="none" stroke="#1565c0" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def to_html(d: Digest, *, made_on: date) -> str:
    drawn = tables(d)
    title = f"QA figures: {d.period.label}"
    total = d.compliance_total
    sections = []
    sections.append(
        "<section><h2>Audits completed on time</h2>"
        + f"<p>{esc(compliance_line(d) if total.due or total.hidden else 'No audits were due.')}</p>"
        + bar_chart_svg(
            "Audits completed on time, % by team",
            [
                (c.team, round(100 * (c.share or 0)), "#1565c0")
                for c in d.compliance
                if not c.hidden
            ],
            unit="%",
        )
        + html_table(*drawn.compliance)
        + "</section>"
    )
    mix = d.grades.of(OVERALL)
    sections.append(
        "<section><h2>Grades</h2>"
        + (
            f"<p>{esc(grades_hidden_line(d))}</p>"
            if d.grades.hidden
            else f"<p>Good or better ({esc(', '.join(GRADE_LABELS[g] for g in GOOD_OR_BETTER))}): "
            f"{esc(percent(d.good_or_better))}.</p>"
            + bar_chart_svg("Overall grades", [(GRADE_LABELS[g], n, GRADE_FILL[g]) for g, n in mix])
            + html_table(*drawn.grades)
        )
        + "</section>"
    )
    sections.append(
        f"<section><h2>{esc(TREND_TITLE)}</h2>"
        + f"<p>{esc(trend_words(d))}.</p>"
        + line_chart_svg(
            "Share graded good or better",
            [(p.label, None if p.hidden else p.share) for p in d.trend],
        )
        + html_table(*drawn.trend)
        + "<p>By practice standard (% good or better):</p>"
        + html_table(*drawn.standard_trend)
        + (
            f"<p>By {esc(d.trend_group_kind)}, the {TREND_MONTHS} months:</p>"
            + html_table(*drawn.trend_groups)
            if d.trend_groups
            else ""
        )
        + "</section>"
    )
    sections.append(
        "<section><h2>Inadequate audits: meetings and visits</h2>"
        f"<p>{esc(meetings_line(d.meetings))}</p></section>"
    )
    sections.append("<section><h2>Actions</h2>" + html_table(*drawn.actions) + "</section>")
    sections.append(
        "<section><h2>Actions done and verified by re-audit</h2>"
        f"<p>{esc(verified_line(d))}</p></section>"
    )
    sections.append(
        "<section><h2>Practitioner feedback</h2>"
        f"<p>{esc(feedback_line(d))}</p>" + html_table(*drawn.feedback) + "</section>"
    )
    sections.append(
        "<section><h2>Moderation agreement</h2>"
        + html_table(*drawn.by_standard)
        + html_table(*drawn.by_auditor)
        + "</section>"
    )
    sections.append(
        "<section><h2>Limiting judgement overrides to look at</h2>"
        + (
            f"<p>{esc(overrides_hidden_line(d))}</p>"
            if d.suppressed_below is not None
            else html_table(*drawn.overrides)
        )
        + "</section>"
    )
    return html_page(title, f"{d.title}. Made on {made_on.isoformat()}.", "".join(sections))


def html_page(title: str, subtitle: str, body: str) -> str:
    """A whole page: its style inline, nothing fetched from elsewhere, so it opens offline and
    prints as it shows."""
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="subtle">{esc(subtitle)}</p>' + body + "</body></html>\n"
    )


def _meeting_rows(m: Meetings) -> Iterator[tuple[str, str, str, str]]:
    yield "meetings", "All", "inadequate", str(m.inadequate)
    yield "meetings", "All", "held_in_time", str(m.in_time)
    yield "meetings", "All", "held_late", str(m.late)
    yield "meetings", "All", "not_held_overdue", str(m.not_held_overdue)
    yield "meetings", "All", "not_held_not_due", str(m.not_held_not_due)
    yield "visits", "All", "risk_identified", str(m.visits)
    yield "visits", "All", "visited_in_time", str(m.visited_in_time)
    yield "visits", "All", "visited_late", str(m.visited_late)
    yield "visits", "All", "not_visited_overdue", str(m.not_visited_overdue)
    yield "visits", "All", "not_visited_not_due", str(m.not_visited_not_due)

"""The evidence pack: `qaloop report evidence --from --to` (and `report annual --year`, the same
over a calendar year) as one self-contained HTML page that prints well, organised by Ofsted's
three ILACS questions. The figures are the digest's and bot.rules.evidence's, counted by storage
and shown as anyone outside the QA team may see them (bot.rules.disclosure); no case reference and
nothing fetched from elsewhere is in the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.rules.deadlines import DEFAULT_DEADLINES, Deadlines
from bot.rules.digest import (
    GOOD_OR_BETTER,
    TREND_MONTHS,
    Period,
    TrendPoint,
    bounds,
    overdue_point,
    percent,
    share,
)
from bot.rules.disclosure import disclose_evidence
from bot.rules.evidence import (
    DOING,
    HOW,
    KNOW,
    TREND_KEYS,
    Briefed,
    Evidence,
    EvidenceCounts,
    ReauditOutcomes,
    areas_for_improvement,
    evidence,
)
from bot.rules.grades import GRADE_LABELS, OVERALL, Standard
from bot.rules.reaudit import CHANGE_LABELS, Change
from bot.services.reports import (
    GRADE_FILL,
    bar_chart_svg,
    esc,
    html_page,
    html_table,
    line_chart_svg,
    tables,
)
from cards.digest import (
    STANDARD_SHORT,
    compliance_line,
    feedback_line,
    hidden_text,
    meetings_line,
)
from storage import briefings, reaudit, tenants, themes
from storage import digest as figures
from storage.db import SessionMaker

EVIDENCE_TITLE = "QA evidence pack"
ANNUAL_TITLE = "Annual QA report"


async def load_evidence(
    *,
    sessions: SessionMaker,
    tenant_id: str,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    below: int,
    for_qa: bool = False,
) -> tuple[Evidence, Deadlines]:
    """Everyone's figures for the period, as they may be shown outside the QA team (`for_qa`: all
    of them), with the council's response deadlines the meetings are judged by."""
    start, end = bounds(period, zone)
    async with sessions() as session:
        counts = await figures.counts(
            session=session,
            tenant_id=tenant_id,
            period=period,
            zone=zone,
            overdue=overdue_point(period, zone, now),
            trend_months=TREND_MONTHS,
            trend_keys=TREND_KEYS,
        )
        counted = EvidenceCounts(
            counts=counts,
            done_on_time=await figures.actions_done_on_time(
                session=session, tenant_id=tenant_id, period=period, zone=zone
            ),
            reaudits=await reaudit.reaudit_groups(
                session=session, tenant_id=tenant_id, start=start, end=end
            ),
            tracked=await reaudit.tracked_groups(
                session=session, tenant_id=tenant_id, start=start, end=end
            ),
            themes=await themes.theme_totals(
                session=session, tenant_id=tenant_id, start=start, end=end
            ),
            briefings=[
                Briefed(title, at.astimezone(zone).date())
                for title, at in await briefings.published_between(
                    session=session, tenant_id=tenant_id, start=start, end=end
                )
            ],
        )
        deadlines = await tenants.deadlines(session=session, tenant_id=tenant_id)
    whole = evidence(counted, title="All teams", today=now.astimezone(zone).date())
    shown = disclose_evidence(whole, below=below, for_qa=for_qa)
    return _named(shown), deadlines


def _named(e: Evidence) -> Evidence:
    """The areas for improvement, named from the figures as shown."""
    return replace(e, areas=areas_for_improvement(e))


# --- the page ----------------------------------------------------------------------------------------


def to_html(
    e: Evidence,
    *,
    made_on: date,
    title: str = EVIDENCE_TITLE,
    deadlines: Deadlines = DEFAULT_DEADLINES,
) -> str:
    d = e.digest
    heading = f"{title}: {d.period.label}"
    hidden = (
        f" A figure resting on fewer than {d.suppressed_below} audits, people or responses "
        f"reads “{hidden_text(d)}”."
        if d.suppressed_below is not None
        else ""
    )
    subtitle = (
        f"{d.title}, {d.period.start.isoformat()} to {d.period.end.isoformat()}. "
        f"Made on {made_on.isoformat()}.{hidden}"
    )
    body = (
        _part(1, KNOW, _know(e))
        + _part(2, HOW, _how(e))
        + _part(3, DOING, _doing(e, deadlines))
        + _part(4, "Named areas for improvement", _areas(e))
    )
    return html_page(heading, subtitle, body)


def _part(number: int, question: str, sections: Sequence[str]) -> str:
    return f"<h2>{number}. {esc(question)}</h2>" + "".join(sections)


def _section(title: str, *content: str) -> str:
    return f"<section><h3>{esc(title)}</h3>" + "".join(content) + "</section>"


def _p(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def _cell(d_hidden: str, point: TrendPoint) -> str:
    return d_hidden if point.hidden else percent(point.share)


def _know(e: Evidence) -> list[str]:
    d = e.digest
    out = []
    if d.grades.hidden:
        out.append(_section("Grades", _p(f"{hidden_text(d).capitalize()} audits were graded.")))
    else:
        mix = d.grades.of(OVERALL)
        rates = []
        for s in Standard:
            counts = dict(d.grades.of(s.value))
            rate = share(sum(counts[g] for g in GOOD_OR_BETTER), sum(counts.values()))
            rates.append((STANDARD_SHORT[s.value], round(100 * (rate or 0)), "#1565c0"))
        out.append(
            _section(
                "Grades",
                _p(
                    f"{d.grades.total()} audits were graded; {percent(d.good_or_better)} good "
                    "or better overall."
                ),
                bar_chart_svg(
                    "Overall grades", [(GRADE_LABELS[g], n, GRADE_FILL[g]) for g, n in mix]
                ),
                html_table(*tables(d).grades),
                bar_chart_svg("Good or better by standard, %", rates, unit="%"),
            )
        )
    hide = hidden_text(d)
    overall = e.trends[0]
    months = [p.short_label + f" {p.month.year % 100:02d}" for p in overall.points]
    out.append(
        _section(
            f"Good or better over {len(months)} months",
            line_chart_svg(
                "Share graded good or better, overall",
                [
                    (m, None if p.hidden else p.share)
                    for m, p in zip(months, overall.points, strict=True)
                ],
            ),
            html_table(
                ["", *months],
                [[STANDARD_SHORT[t.key], *(_cell(hide, p) for p in t.points)] for t in e.trends],
            ),
        )
    )
    out.append(
        _section(
            "By service",
            bar_chart_svg(
                "Good or better by service, %",
                [
                    (s.name, round(100 * (s.share or 0)), "#1565c0")
                    for s in e.services
                    if not s.hidden and s.graded
                ],
                unit="%",
            ),
            html_table(
                ["Service", "Graded", "Good or better", "%"],
                [
                    [s.name, hide, "", ""]
                    if s.hidden
                    else [s.name, str(s.graded), str(s.good_or_better), percent(s.share)]
                    for s in e.services
                ],
            ),
            html_table(
                ["Good or better", *months],
                [[s.name, *(_cell(hide, p) for p in s.trend)] for s in e.services],
            ),
        )
    )
    return out


def _how(e: Evidence) -> list[str]:
    d = e.digest
    hide = hidden_text(d)
    drawn = tables(d)
    total = d.compliance_total
    programmes = [
        [
            p.label,
            hide if p.hidden else str(p.completed),
            str(p.target) if p.target else "no target set",
            "" if p.hidden or not p.target else percent(share(p.completed, p.target)),
        ]
        for p in d.programmes
    ]
    f = d.feedback
    involved = f.averages.get("involved")
    return [
        _section(
            "The audit programme against its targets",
            html_table(["Programme", "Completed", "Target", "%"], programmes),
        ),
        _section(
            "Audits completed on time",
            _p(compliance_line(d) if total.due or total.hidden else "No audits were due."),
            html_table(*drawn.compliance),
        ),
        _section(
            "Practitioners' involvement and feedback",
            _p(
                f"{hide.capitalize() if f.audits_hidden else f.audits} audits were completed "
                "with the practitioner whose case it was. "
                + feedback_line(d)
                + (
                    f" “I was involved”: {involved:.1f} of 5 on average."
                    if involved is not None and not f.responses_hidden
                    else ""
                )
            ),
            html_table(*drawn.feedback),
        ),
        _section(
            "Moderation: do moderators agree with the auditors?",
            _p(
                "A sample of each month's completed audits is moderated: the moderator agrees "
                "or not with the grade on each standard and overall."
                if d.by_standard
                else "No moderation was decided in the period."
            ),
            html_table(*drawn.by_standard) if d.by_standard else "",
            # Seam: blind calibration (weighted kappa, AC1) comes with the calibration work.
            _p("Blind calibration between auditors: not yet recorded."),
        ),
    ]


def _doing(e: Evidence, deadlines: Deadlines) -> list[str]:
    d = e.digest
    t = d.actions_total
    r = e.reaudits
    return [
        _section(
            "Actions",
            _p(
                f"{t.opened} actions were opened and {t.closed} done in the period, "
                f"{e.done_on_time} of them by their due date "
                f"({percent(share(e.done_on_time, t.closed))}); {t.overdue} were overdue at its "
                "close."
            ),
            html_table(
                ["Opened", "Done", "Done by the due date", "Overdue at the close"],
                [[str(t.opened), str(t.closed), str(e.done_on_time), str(t.overdue)]],
            ),
        ),
        _section(
            "Inadequate audits: meeting, visit and re-audit",
            _p(meetings_line(d.meetings, deadlines)),
            *_reaudit(r, hidden_text(d)),
        ),
        _section("Best Practice Briefings and the themes behind them", *_briefings(e)),
    ]


def _reaudit(r: ReauditOutcomes, hide: str) -> list[str]:
    if r.hidden:
        return [
            _p(
                "Fewer than 3 audits were graded inadequate: their re-audits are not shown, so "
                "that no one's audit can be told apart."
            )
        ]
    if not r.audits:
        return []

    def n(part: str) -> str:
        return hide if part in r.hidden_parts else str(getattr(r, part))

    out = [
        _p(
            f"Re-audits of the {r.audits} audits graded inadequate: {n('done')} done, "
            f"{n('due')} still to do, {n('cancelled')} cancelled, {n('none_made')} not made "
            "(case closed, or no other auditor)."
            + (
                f" Of those done, {n('no_longer_inadequate')} were no longer inadequate overall."
                if r.done or "done" in r.hidden_parts
                else ""
            )
        ),
        _p(
            f"Their actions: {r.actions_done} of {r.actions} done, {r.actions_verified} "
            "verified (the re-audit shows the standard the action targets is no longer "
            "inadequate)."
        ),
    ]
    if r.done and "done" not in r.hidden_parts:
        out.append(
            html_table(
                ["Standard at re-audit", *(CHANGE_LABELS[c] for c in Change)],
                [
                    [STANDARD_SHORT[s.value], hide, "", ""]
                    if s.value in r.hidden_parts
                    else [
                        STANDARD_SHORT[s.value],
                        *(str(r.changes[s.value].get(c, 0)) for c in Change),
                    ]
                    for s in Standard
                ],
            )
        )
    return out


def _briefings(e: Evidence) -> list[str]:
    hide = hidden_text(e.digest)
    out = []
    if e.briefings:
        out.append(
            html_table(
                ["Published", "Briefing"],
                [[b.published_on.isoformat(), b.title] for b in e.briefings],
            )
        )
    else:
        out.append(_p("No briefing was published in the period."))
    # Seam: which themes each briefing drew on is not recorded with the briefing yet.
    out.append(_p("The themes each briefing drew on: not yet recorded."))
    if e.themes:
        out.append(_p("The practice themes auditors ticked in the period's audits:"))
        out.append(
            html_table(
                ["Theme", "Standard", "To improve", "Strength"],
                [
                    [
                        t.title,
                        STANDARD_SHORT.get(t.standard, t.standard),
                        hide if t.to_improve_hidden else str(t.to_improve),
                        hide if t.strengths_hidden else str(t.strengths),
                    ]
                    for t in e.themes
                ],
            )
        )
    else:
        out.append(_p("No practice theme was ticked in the period's audits."))
    return out


def _areas(e: Evidence) -> list[str]:
    if not e.areas:
        return [_p("Too few audits were graded or themes ticked to name an area.")]
    items = "".join(
        f"<li><strong>{esc(a.name)}</strong> ({esc(a.kind)}): {esc(a.why)}.</li>" for a in e.areas
    )
    return [
        _p(
            "The standards with the lowest share graded good or better, and the practice themes "
            "most often ticked as an area to improve:"
        ),
        f"<ul>{items}</ul>",
    ]

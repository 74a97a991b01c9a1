"""No figure identifies a person (DESIGN §2): what a digest may show to whom.

A figure shown to anyone but QA rests on at least `below` audits or responses (the setting
QALOOP_SUPPRESS_BELOW, default 3), else it reads "fewer than 3". Where a total over several cells is
shown, hiding one cell alone would let the total minus the shown cells give it away, so the next
smallest cell is hidden with it (secondary suppression). Every card, report and export of the
figures goes through `disclose`; a hidden figure's numbers are zeroed, so nothing can print them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date

from bot.rules.digest import (
    RATINGS,
    Agreement,
    Cancelled,
    Digest,
    FeedbackFigures,
    GradeMix,
    GroupTrend,
    Meetings,
    TeamCompliance,
    TrendPoint,
    Verified,
)
from bot.rules.evidence import Evidence, ReauditOutcomes, ServiceQuality, ThemeFigure
from bot.rules.grades import OVERALL, Standard
from bot.rules.programmes import Progress
from bot.rules.reaudit import Change
from bot.rules.theme_report import GroupTop, PeriodThemes, RankedTheme, ThemeReport

SUPPRESS_BELOW = 3


def fewer_than(below: int) -> str:
    """How a hidden figure reads."""
    return f"fewer than {below}"


def hidden_cells(
    bases: Sequence[int], below: int, already: Collection[int] = frozenset()
) -> set[int]:
    """The cells of a row (by index) not to show beside a total of them: each resting on fewer
    than `below` (but some) or `already` hidden, and where that is one cell alone, the smallest
    other with it."""
    hidden = {n for n, base in enumerate(bases) if 0 < base < below} | set(already)
    if len(hidden) == 1 and len(bases) > 1:
        others = [(base <= 0, base, n) for n, base in enumerate(bases) if n not in hidden]
        hidden.add(min(others)[2])
    return hidden


def too_few(base: int, below: int) -> bool:
    """A figure on its own, with no total beside it: hidden when it rests on fewer than `below`."""
    return 0 < base < below


def disclose(d: Digest, *, below: int, for_qa: bool) -> Digest:
    """`d` as it may be shown: to QA whole, to anyone else with every figure that rests on fewer
    than `below` audits or responses hidden, and no override listed (each names an auditor)."""
    if for_qa:
        return d
    grades_hidden = too_few(d.grades.total(), below)
    trend = _trend(d.trend, d.period.months(), grades_hidden, below)
    return replace(
        d,
        compliance=_compliance(d.compliance, below),
        compliance_total=_hide_compliance(d.compliance_total)
        if too_few(d.compliance_total.due, below)
        else d.compliance_total,
        grades=GradeMix({}, hidden=True) if grades_hidden else d.grades,
        meetings=_meetings(d.meetings, below),
        trend=trend,
        standard_trend={
            key: _standard_trend(points, trend, below) for key, points in d.standard_trend.items()
        },
        trend_groups=_trend_groups(d.trend_groups, below),
        feedback=_feedback(d.feedback, below),
        by_auditor=_agreements(d.by_auditor, below, secondary=True),
        by_standard=_agreements(d.by_standard, below, secondary=False),
        overrides=[],
        overrides_hidden=0 if grades_hidden else len(d.overrides),
        cancelled=[
            Cancelled(c.reason, 0, hidden=True) if too_few(c.count, below) else c
            for c in d.cancelled
        ],
        # Each stands alone (no total of them is shown); the target is a setting, not a count.
        programmes=[
            Progress(p.kind, 0, p.target, hidden=True) if too_few(p.completed, below) else p
            for p in d.programmes
        ],
        # Re-audits are of inadequate audits, which are few: one or two would be someone's.
        verified=Verified(0, 0, 0, 0, hidden=True)
        if too_few(d.verified.reaudits, below)
        else d.verified,
        suppressed_below=below,
    )


def _meetings(m: Meetings, below: int) -> Meetings:
    """Inadequate audits and risk visits are few: one or two of them would be someone's audit.
    Those who must act on each are named in its alert and escalations, not in a figure."""
    if too_few(m.inadequate, below) or too_few(m.visits, below):
        return Meetings(0, 0, 0, 0, 0, hidden=True)
    return m


def _hide_compliance(c: TeamCompliance) -> TeamCompliance:
    return TeamCompliance(c.team, 0, 0, 0, 0, hidden=True)


def _compliance(rows: list[TeamCompliance], below: int) -> list[TeamCompliance]:
    hidden = hidden_cells([c.due for c in rows], below)
    return [_hide_compliance(c) if n in hidden else c for n, c in enumerate(rows)]


def _trend(
    points: list[TrendPoint], period: list[date], total_hidden: bool, below: int
) -> list[TrendPoint]:
    """Each month on its own; the period's months beside the period's grades, which total them."""
    hidden = {n for n, p in enumerate(points) if too_few(p.graded, below)}
    inside = [n for n, p in enumerate(points) if p.month in period]
    if total_hidden:
        hidden |= set(inside)
    else:
        hidden |= {inside[n] for n in hidden_cells([points[i].graded for i in inside], below)}
    return [
        TrendPoint(p.month, 0, 0, hidden=True) if n in hidden else p for n, p in enumerate(points)
    ]


def _standard_trend(
    points: list[TrendPoint], overall: list[TrendPoint], below: int
) -> list[TrendPoint]:
    """A standard's month is hidden where its own count is too few, or where the month's overall
    figure is hidden (they rest on much the same audits)."""
    return [
        TrendPoint(p.month, 0, 0, hidden=True) if o.hidden or too_few(p.graded, below) else p
        for p, o in zip(points, overall, strict=True)
    ]


def _trend_groups(groups: list[GroupTrend], below: int) -> list[GroupTrend]:
    """Each group's audits are shown beside the others': a group resting on too few is hidden
    with the next smallest (secondary suppression); a standard resting on too few, alone."""
    hidden = hidden_cells([g.graded.get(OVERALL, 0) for g in groups], below)
    return [
        GroupTrend(g.name, {}, {}, hidden=True)
        if n in hidden
        else replace(
            g, hidden_keys=frozenset(k for k, base in g.graded.items() if too_few(base, below))
        )
        for n, g in enumerate(groups)
    ]


def _feedback(f: FeedbackFigures, below: int) -> FeedbackFigures:
    if too_few(f.audits, below):
        return FeedbackFigures(
            0, 0, dict.fromkeys(RATINGS), audits_hidden=True, responses_hidden=True
        )
    if too_few(f.responses, below):
        return FeedbackFigures(f.audits, 0, dict.fromkeys(RATINGS), responses_hidden=True)
    return f


def _agreements(rows: list[Agreement], below: int, *, secondary: bool) -> list[Agreement]:
    """By auditor, the standards' figures total them; by standard, each stands on its own."""
    bases = [a.audits for a in rows]
    hidden = (
        hidden_cells(bases, below)
        if secondary
        else {n for n, base in enumerate(bases) if too_few(base, below)}
    )
    return [
        Agreement(a.name, 0, 0, 0, hidden=True) if n in hidden else a for n, a in enumerate(rows)
    ]


def disclose_themes(report: ThemeReport, *, below: int, for_qa: bool) -> ThemeReport:
    """The themes report as it may be shown: to QA whole; to anyone else a period of fewer than
    `below` completed audits is hidden whole, and a theme ticked in fewer than `below` audits is
    left out of its list (its name alone would point at an audit). No total of the lists is
    shown, so no secondary suppression is needed; a group's audits are not shown either."""
    if for_qa:
        return report
    return replace(
        report,
        month=_period_themes(report.month, below),
        quarter=_period_themes(report.quarter, below),
        groups=[_group_top(g, below) for g in report.groups],
        suppressed_below=below,
    )


def _period_themes(p: PeriodThemes, below: int) -> PeriodThemes:
    if too_few(p.audits, below):
        return PeriodThemes(
            p.label, p.previous_label, 0, 0, [], [], hidden=True, previous_hidden=True
        )
    previous_hidden = too_few(p.previous_audits, below)
    left_out = 0

    def shown(rows: list[RankedTheme]) -> list[RankedTheme]:
        nonlocal left_out
        kept = []
        for t in rows:
            if too_few(t.audits, below):
                left_out += 1
                continue
            if previous_hidden or too_few(t.previous_audits, below):
                t = replace(t, previous_audits=0, previous_share=None, previous_hidden=True)
            kept.append(t)
        return kept

    strengths, to_improve = shown(p.strengths), shown(p.to_improve)
    return replace(
        p,
        previous_audits=0 if previous_hidden else p.previous_audits,
        strengths=strengths,
        to_improve=to_improve,
        previous_hidden=previous_hidden,
        left_out=left_out,
    )


def _group_top(g: GroupTop, below: int) -> GroupTop:
    if too_few(g.audits, below):
        return GroupTop(g.name, 0, None, None, hidden=True)
    return replace(
        g,
        strength=None if too_few(g.strength_audits, below) else g.strength,
        to_improve=None if too_few(g.to_improve_audits, below) else g.to_improve,
    )


# --- the evidence pack ----------------------------------------------------------------------------------


def disclose_evidence(e: Evidence, *, below: int, for_qa: bool) -> Evidence:
    """The pack as it may be shown: its digest as `disclose` shows it, and each further figure
    that rests on fewer than `below` audits hidden, with secondary suppression wherever a total is
    shown beside its parts (services beside the council, re-audit outcomes beside the audits)."""
    if for_qa:
        return e
    d = disclose(e.digest, below=below, for_qa=False)
    months = e.digest.period.months()
    trends = []
    for t in e.trends:
        total = e.digest.grades.total(t.key)
        hidden = d.grades.hidden or too_few(total, below)
        trends.append(replace(t, points=_trend(t.points, months, hidden, below)))
    return replace(
        e,
        digest=d,
        trends=trends,
        services=_services(e.services, months, below),
        reaudits=_reaudits(e.reaudits, below),
        themes=[_theme(t, below) for t in e.themes],
    )


def _services(rows: list[ServiceQuality], months: list[date], below: int) -> list[ServiceQuality]:
    """Beside the council's figures, which total them: each service's period and each month."""
    hidden = hidden_cells([s.graded for s in rows], below)
    trends = [_trend(s.trend, months, n in hidden, below) for n, s in enumerate(rows)]
    width = len(trends[0]) if trends else 0
    for column in range(width):
        bases = [rows[n].trend[column].graded for n in range(len(rows))]
        already = {n for n in range(len(rows)) if trends[n][column].hidden}
        for n in hidden_cells(bases, below, already):
            p = trends[n][column]
            trends[n][column] = TrendPoint(p.month, 0, 0, hidden=True)
    return [
        ServiceQuality(s.name, 0, 0, trends[n], hidden=True)
        if n in hidden
        else replace(s, trend=trends[n])
        for n, s in enumerate(rows)
    ]


def _reaudits(r: ReauditOutcomes, below: int) -> ReauditOutcomes:
    """Few, like the meetings: too few inadequate audits hide it all. Else the outcomes beside
    their total; those no longer inadequate beside the re-audits done (the rest are still
    inadequate); each standard's improved, same and worse beside the re-audits done."""
    if too_few(r.audits, below):
        return ReauditOutcomes(0, 0, 0, 0, 0, 0, {}, 0, 0, 0, hidden=True)
    parts = ("done", "due", "cancelled", "none_made")
    hidden = {parts[n] for n in hidden_cells([getattr(r, p) for p in parts], below)}
    better = [r.no_longer_inadequate, r.done - r.no_longer_inadequate]
    if "done" in hidden or hidden_cells(better, below):
        hidden.add("no_longer_inadequate")
    changes = {}
    for s in Standard:
        moved = r.changes.get(s.value, {})
        cells = [moved.get(c, 0) for c in Change]
        if "done" in hidden or hidden_cells([*cells, r.done - sum(cells)], below):
            hidden.add(s.value)
        else:
            changes[s.value] = moved

    def shown(part: str) -> int:
        return 0 if part in hidden else int(getattr(r, part))

    return replace(
        r,
        done=shown("done"),
        due=shown("due"),
        cancelled=shown("cancelled"),
        none_made=shown("none_made"),
        no_longer_inadequate=shown("no_longer_inadequate"),
        changes=changes,
        hidden_parts=frozenset(hidden),
    )


def _theme(t: ThemeFigure, below: int) -> ThemeFigure:
    """Each count stands alone: no total of them is shown."""
    improve, strengths = too_few(t.to_improve, below), too_few(t.strengths, below)
    return replace(
        t,
        to_improve=0 if improve else t.to_improve,
        strengths=0 if strengths else t.strengths,
        to_improve_hidden=improve,
        strengths_hidden=strengths,
    )

"""The evidence pack (and the annual QA report, the same over a calendar year): a period's figures
arranged by Ofsted's three ILACS questions, what it counts beyond the digest, and the named areas
for improvement.

Pure: storage counts, grouped; bot.rules.digest adds the digest's figures up; this module adds up
the rest with the one definition of each (re-audit change and "verified" from bot.rules.reaudit);
bot.rules.disclosure hides what rests on too few. No case reference is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.rules.digest import (
    GOOD_OR_BETTER,
    Counts,
    Digest,
    TrendPoint,
    digest,
    share,
    teams_in,
    trend_points,
)
from bot.rules.grades import (
    DONE_AUDIT_STATES,
    JUDGEMENTS,
    OVERALL,
    STANDARD_LABELS,
    AuditState,
    Grade,
    Standard,
)
from bot.rules.reaudit import Change, compare, is_done, is_verified, standard_change
from bot.rules.themes import Finding

# The inspection's three questions, in its words; the pack's three parts.
KNOW = "What do we know about the quality of social work practice?"
HOW = "How do we know it?"
DOING = "What are we doing about it?"

# Overall first, then the standards in the framework's order.
TREND_KEYS = (OVERALL, *(k for k in JUDGEMENTS if k != OVERALL))
# How many standards and themes the pack names as areas for improvement.
STANDARDS_NAMED = 2
THEMES_NAMED = 3


# --- what storage counts, beyond the digest ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReauditGroup:
    """Inadequate audits completed in the period alike in what followed: their latest re-audit's
    state (None: none was made) and both audits' grades, overall and per standard."""

    reaudit_state: str | None
    original: Mapping[str, str | None]
    again: Mapping[str, str | None]
    audits: int


@dataclass(frozen=True, slots=True)
class TrackedGroup:
    """SMART actions of the period's inadequate audits alike in state and standard, with the grade
    the audit's latest re-audit gave that standard and the re-audit's state (None: none made)."""

    state: str
    standard: str | None
    reaudit_state: str | None
    reaudit_grade: str | None
    actions: int


@dataclass(frozen=True, slots=True)
class ThemeCount:
    """Audits completed in the period that ticked a theme with one finding."""

    standard: str
    theme: str
    title: str
    finding: str
    audits: int


@dataclass(frozen=True, slots=True)
class Briefed:
    """A Best Practice Briefing published in the period."""

    title: str
    published_on: date


@dataclass(frozen=True, slots=True)
class EvidenceCounts:
    # The digest's counts for the period, with a trend of TREND_MONTHS on every standard.
    counts: Counts
    done_on_time: int
    reaudits: list[ReauditGroup]
    tracked: list[TrackedGroup]
    themes: list[ThemeCount]
    briefings: list[Briefed]


# --- the figures -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StandardTrend:
    """Good or better on one standard (or overall), month by month."""

    key: str
    points: list[TrendPoint]


@dataclass(frozen=True, slots=True)
class ServiceQuality:
    """One service's audits graded in the period, good or better, and its twelve months."""

    name: str
    graded: int
    good_or_better: int
    trend: list[TrendPoint]
    hidden: bool = False

    @property
    def share(self) -> float | None:
        return share(self.good_or_better, self.graded)


@dataclass(frozen=True, slots=True)
class ReauditOutcomes:
    """The period's inadequate audits and their re-audits: done, due, cancelled or none made; of
    those done, how many are no longer inadequate overall and how each standard moved; and the
    audits' SMART actions, done and verified."""

    audits: int
    done: int
    due: int
    cancelled: int
    none_made: int
    no_longer_inadequate: int
    # Per standard of the re-audits done: improved, same, worse (a missing grade is in none).
    changes: Mapping[str, Mapping[Change, int]]
    actions: int
    actions_done: int
    actions_verified: int
    # Set by bot.rules.disclosure: the whole section, or the named parts (fields and standards).
    hidden: bool = False
    hidden_parts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ThemeFigure:
    """A theme's ticks in the period's audits: as an area to improve and as a strength."""

    standard: str
    theme: str
    title: str
    to_improve: int
    strengths: int
    to_improve_hidden: bool = False
    strengths_hidden: bool = False


@dataclass(frozen=True, slots=True)
class Area:
    """A named area for improvement: a standard or a theme, and why it is named."""

    kind: str
    name: str
    why: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everyone's figures for one period, as the pack shows them."""

    digest: Digest
    trends: list[StandardTrend]
    services: list[ServiceQuality]
    done_on_time: int
    reaudits: ReauditOutcomes
    themes: list[ThemeFigure]
    briefings: list[Briefed]
    areas: list[Area] = field(default_factory=list)


def evidence(counted: EvidenceCounts, *, title: str, today: date) -> Evidence:
    """Every figure of the pack, before any is hidden (bot.rules.disclosure.disclose_evidence)."""
    counts = counted.counts
    whole = digest(counts, title=title, team_ids=None, today=today)
    services = []
    for s in counts.services:
        team_ids = teams_in(counts.teams, "service", s.id)
        mine = digest(counts, title=s.name, team_ids=team_ids, service_id=s.id, today=today)
        mix = dict(mine.grades.of(OVERALL))
        services.append(
            ServiceQuality(
                s.name,
                mine.grades.total(),
                sum(mix[g] for g in GOOD_OR_BETTER),
                mine.trend,
            )
        )
    return Evidence(
        digest=whole,
        trends=[
            StandardTrend(key, trend_points(counts.trend_months, counts.trend, key))
            for key in TREND_KEYS
        ],
        services=services,
        done_on_time=counted.done_on_time,
        reaudits=reaudit_outcomes(counted.reaudits, counted.tracked),
        themes=theme_figures(counted.themes),
        briefings=counted.briefings,
    )


def reaudit_outcomes(
    groups: Iterable[ReauditGroup], tracked: Iterable[TrackedGroup]
) -> ReauditOutcomes:
    """What followed the inadequate audits, with bot.rules.reaudit's comparison and its one
    meaning of "verified" (as the `inadequate` card counts them, case by case)."""
    done = due = cancelled = none_made = better = 0
    changes: dict[str, dict[Change, int]] = {s.value: dict.fromkeys(Change, 0) for s in Standard}
    audits = 0
    for g in groups:
        audits += g.audits
        if g.reaudit_state is None:
            none_made += g.audits
        elif g.reaudit_state == AuditState.CANCELLED:
            cancelled += g.audits
        elif g.reaudit_state in DONE_AUDIT_STATES:
            done += g.audits
            moved = standard_change(g.original.get(OVERALL), g.again.get(OVERALL))
            if moved is not None and g.again.get(OVERALL) != Grade.INADEQUATE:
                better += g.audits
            for standard, change in compare(g.original, g.again).items():
                if change is not None:
                    changes[standard.value][change] += g.audits
        else:
            due += g.audits
    actions = acted = verified = 0
    for t in tracked:
        if t.state != "cancelled":
            actions += t.actions
        if is_done(t.state):
            acted += t.actions
        grades = (
            {t.standard: t.reaudit_grade}
            if t.standard is not None and t.reaudit_state in DONE_AUDIT_STATES
            else None
        )
        if is_verified(state=t.state, standard=t.standard, reaudit_grades=grades):
            verified += t.actions
    return ReauditOutcomes(
        audits, done, due, cancelled, none_made, better, changes, actions, acted, verified
    )


def theme_figures(rows: Iterable[ThemeCount]) -> list[ThemeFigure]:
    """Each theme's ticks, most ticked to improve first, then most ticked as a strength."""
    named: dict[str, tuple[str, str]] = {}
    ticks: dict[tuple[str, str], int] = {}
    for r in rows:
        named.setdefault(r.theme, (r.standard, r.title))
        ticks[r.theme, r.finding] = ticks.get((r.theme, r.finding), 0) + r.audits
    figures = [
        ThemeFigure(
            standard,
            theme,
            title,
            ticks.get((theme, Finding.TO_IMPROVE), 0),
            ticks.get((theme, Finding.STRENGTH), 0),
        )
        for theme, (standard, title) in named.items()
    ]
    return sorted(figures, key=lambda f: (-f.to_improve, -f.strengths, f.title))


def areas_for_improvement(e: Evidence) -> list[Area]:
    """From the figures as shown: the STANDARDS_NAMED standards with the lowest share graded good
    or better in the period, and the THEMES_NAMED themes most often ticked as an area to improve.
    A figure hidden for resting on too few names nothing."""
    areas = []
    grades = e.digest.grades
    if not grades.hidden:
        rated = []
        for s in Standard:
            mix = dict(grades.of(s.value))
            rate = share(sum(mix[g] for g in GOOD_OR_BETTER), sum(mix.values()))
            if rate is not None:
                rated.append((rate, list(Standard).index(s), s))
        for rate, _, s in sorted(rated)[:STANDARDS_NAMED]:
            areas.append(
                Area("standard", STANDARD_LABELS[s], f"{round(100 * rate)}% good or better")
            )
    themes = [t for t in e.themes if t.to_improve and not t.to_improve_hidden]
    for t in sorted(themes, key=lambda t: (-t.to_improve, t.title))[:THEMES_NAMED]:
        areas.append(Area("theme", t.title, f"ticked to improve in {t.to_improve} audits"))
    return areas

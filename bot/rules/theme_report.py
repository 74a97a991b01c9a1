"""The themes report (issue 13 item 3): the practice themes auditors ticked most often as strengths
and as areas to improve, this month and this quarter, each against the period before, for a scope
and broken down by its services or teams.

Pure: storage/themes.py counts ticks by team, calendar month, theme and finding (and completed
audits by team and month); this module adds the months into periods, ranks and compares. A theme
counts once per completed audit; its share is of the audits completed in the scope and period, so
a month or quarter so far compares fairly with a whole one. bot.rules.disclosure hides what rests
on too few audits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from bot.rules.digest import ServiceRow, TeamRow, month_start, next_month, percent, share
from bot.rules.themes import Finding

# How many themes a list ranks.
TOP = 5
QUARTER_MONTHS = 3
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """Whole calendar months (the last perhaps so far), as storage counts them."""

    label: str
    months: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class ReportPeriods:
    """This month and the one before; this quarter (to the month's end, or so far) and the whole
    quarter before it."""

    month: Span
    previous_month: Span
    quarter: Span
    previous_quarter: Span
    # The last day counted: today for a report so far, else the month's last day.
    end: date

    @property
    def window(self) -> list[date]:
        """Every month any of the four periods covers, oldest first: what storage counts."""
        first = self.previous_quarter.months[0]
        months = []
        while first <= self.month.months[0]:
            months.append(first)
            first = next_month(first)
        return months


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _quarter_label(start: date, last: date, so_far: bool) -> str:
    number = (start.month - 1) // 3 + 1
    months = _MONTHS[start.month - 1]
    if last != start:
        months += f"–{_MONTHS[last.month - 1]}"
    return f"Q{number} {start.year} ({months}{' so far' if so_far else ''})"


def report_periods(day: date, *, so_far: bool) -> ReportPeriods:
    """The periods of a report about `day`'s month: so far (to `day`, for `themes`) or whole
    (the monthly digest, about a closed month)."""
    this = month_start(day)
    last_of_month = next_month(this) - timedelta(days=1)
    before = month_start(this, 1)
    q_start = _quarter_start(this)
    q_months = []
    first = q_start
    while first <= this:
        q_months.append(first)
        first = next_month(first)
    p_start = month_start(q_start, QUARTER_MONTHS)
    p_months = tuple(month_start(q_start, back) for back in range(QUARTER_MONTHS, 0, -1))
    month_label = f"{_MONTHS[this.month - 1]} {this.year}"
    return ReportPeriods(
        month=Span(f"{month_label} so far" if so_far else month_label, (this,)),
        previous_month=Span(f"{_MONTHS[before.month - 1]} {before.year}", (before,)),
        quarter=Span(_quarter_label(q_start, this, so_far), tuple(q_months)),
        previous_quarter=Span(_quarter_label(p_start, p_months[-1], False), p_months),
        end=day if so_far else last_of_month,
    )


# --- what the database counts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThemeTally:
    """Completed audits of one team and month that ticked a theme as a strength or to improve."""

    team_id: int
    month: date
    theme: str
    standard: str
    title: str
    finding: str
    audits: int


@dataclass(frozen=True, slots=True)
class AuditTally:
    """Audits completed in one team and month: what a theme's share is of."""

    team_id: int
    month: date
    audits: int


# --- the report ------------------------------------------------------------------------------------


class Change(StrEnum):
    NEW = "new"
    UP = "up"
    DOWN = "down"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class RankedTheme:
    theme: str
    standard: str
    title: str
    audits: int
    # Of the audits completed in the scope and period.
    share: float | None
    previous_audits: int
    previous_share: float | None
    # Not shown (bot.rules.disclosure): the figure rests on too few audits; zeroed.
    hidden: bool = False
    previous_hidden: bool = False

    @property
    def change(self) -> Change | None:
        """How the share moved against the period before; None where that cannot be said."""
        if self.hidden or self.previous_hidden:
            return None
        if not self.previous_audits:
            return Change.NEW
        now, before = percent(self.share), percent(self.previous_share)
        if now == before:
            return Change.SAME
        return Change.UP if (self.share or 0) > (self.previous_share or 0) else Change.DOWN


@dataclass(frozen=True, slots=True)
class PeriodThemes:
    label: str
    previous_label: str
    audits: int
    previous_audits: int
    strengths: list[RankedTheme]
    to_improve: list[RankedTheme]
    # Too few audits completed to show anything of the period.
    hidden: bool = False
    previous_hidden: bool = False
    # Themes left out because each rests on too few audits.
    left_out: int = 0

    def ranked(self, finding: str) -> list[RankedTheme]:
        return self.strengths if finding == Finding.STRENGTH else self.to_improve


@dataclass(frozen=True, slots=True)
class GroupTop:
    """One service's (or team's) most ticked strength and area to improve this quarter."""

    name: str
    audits: int
    strength: str | None
    to_improve: str | None
    # The audits that ticked each: a name resting on too few is not shown.
    strength_audits: int = 0
    to_improve_audits: int = 0
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class ThemeReport:
    title: str
    month: PeriodThemes
    quarter: PeriodThemes
    # "Service" or "Team": what the groups are; empty for a team's own report.
    group_kind: str = ""
    groups: list[GroupTop] = field(default_factory=list)
    # Set by bot.rules.disclosure: figures resting on fewer than this many are not shown.
    suppressed_below: int | None = None

    @property
    def is_empty(self) -> bool:
        """No audit completed this quarter or the one before (the month is in the quarter)."""
        q = self.quarter
        return not (q.audits or q.previous_audits or q.hidden or q.previous_hidden)


# The four periods, as indices into the sums below.
MONTH, PREVIOUS_MONTH, QUARTER, PREVIOUS_QUARTER = range(4)
# Per scope (None: the whole scope; else a group's name), per period: audits completed, and the
# audits that ticked each (finding, theme).
_Sums = dict[str | None, list[dict[tuple[str, str], int]]]
_Bases = dict[str | None, list[int]]


def _add_up(
    tallies: Iterable[ThemeTally],
    audits: Iterable[AuditTally],
    periods: ReportPeriods,
    team_ids: Collection[int] | None,
    group_of: Mapping[int, str],
) -> tuple[_Sums, _Bases, dict[str, ThemeTally]]:
    """One pass over the counts: each month added into every period it is in, for the scope and
    for the team's group; and each theme's latest tick (for its standard and title)."""
    spans = (periods.month, periods.previous_month, periods.quarter, periods.previous_quarter)
    into: dict[date, list[int]] = {}
    for n, span in enumerate(spans):
        for first in span.months:
            into.setdefault(first, []).append(n)
    scopes = [None, *sorted(set(group_of.values()))]
    sums: _Sums = {g: [{} for _ in spans] for g in scopes}
    bases: _Bases = {g: [0] * len(spans) for g in scopes}
    latest: dict[str, ThemeTally] = {}
    for t in tallies:
        if team_ids is not None and t.team_id not in team_ids:
            continue
        seen = latest.get(t.theme)
        if seen is None or t.month > seen.month:
            latest[t.theme] = t
        group = group_of.get(t.team_id)
        key = (t.finding, t.theme)
        for n in into.get(t.month, ()):
            row = sums[None][n]
            row[key] = row.get(key, 0) + t.audits
            if group is not None:
                row = sums[group][n]
                row[key] = row.get(key, 0) + t.audits
    for a in audits:
        if team_ids is not None and a.team_id not in team_ids:
            continue
        group = group_of.get(a.team_id)
        for n in into.get(a.month, ()):
            bases[None][n] += a.audits
            if group is not None:
                bases[group][n] += a.audits
    return sums, bases, latest


def _period(
    sums: list[dict[tuple[str, str], int]],
    bases: list[int],
    now: int,
    before: int,
    labels: tuple[str, str],
    latest: Mapping[str, ThemeTally],
    titles: Mapping[str, str],
    top: int,
) -> PeriodThemes:
    base, base_before = bases[now], bases[before]
    current, previous = sums[now], sums[before]

    def title(theme: str) -> str:
        return titles.get(theme) or latest[theme].title

    def ranked(finding: str) -> list[RankedTheme]:
        rows = [(n, theme) for (f, theme), n in current.items() if f == finding and n]
        rows.sort(key=lambda r: (-r[0], title(r[1]), r[1]))
        result = []
        for n, theme in rows[:top]:
            was = previous.get((finding, theme), 0)
            result.append(
                RankedTheme(
                    theme,
                    latest[theme].standard,
                    title(theme),
                    n,
                    share(n, base),
                    was,
                    share(was, base_before),
                )
            )
        return result

    return PeriodThemes(
        labels[0],
        labels[1],
        base,
        base_before,
        ranked(Finding.STRENGTH),
        ranked(Finding.TO_IMPROVE),
    )


def theme_report(
    tallies: Iterable[ThemeTally],
    audits: Iterable[AuditTally],
    *,
    periods: ReportPeriods,
    title: str,
    team_ids: Collection[int] | None,
    groups: Mapping[str, Collection[int]] | None = None,
    group_kind: str = "",
    titles: Mapping[str, str] | None = None,
    top: int = TOP,
) -> ThemeReport:
    """The scope's report (`team_ids`; None: every team), and for each group (a service's or a
    team's ids, by name) its top theme of each finding this quarter. `titles` names themes as the
    themes file does now, so a reworded theme reads by its new name (else its latest tick's)."""
    names = titles or {}
    group_of = {team: name for name, ids in (groups or {}).items() for team in ids}
    sums, bases, latest = _add_up(tallies, audits, periods, team_ids, group_of)
    month_labels = (periods.month.label, periods.previous_month.label)
    quarter_labels = (periods.quarter.label, periods.previous_quarter.label)

    def of(
        scope: str | None, now: int, before: int, labels: tuple[str, str], n: int
    ) -> PeriodThemes:
        return _period(sums[scope], bases[scope], now, before, labels, latest, names, n)

    report_groups = []
    for name in sorted(set(group_of.values())):
        q = of(name, QUARTER, PREVIOUS_QUARTER, quarter_labels, 1)
        if not q.audits:
            continue
        strength = q.strengths[0] if q.strengths else None
        to_improve = q.to_improve[0] if q.to_improve else None
        report_groups.append(
            GroupTop(
                name,
                q.audits,
                strength.title if strength else None,
                to_improve.title if to_improve else None,
                strength.audits if strength else 0,
                to_improve.audits if to_improve else 0,
            )
        )
    return ThemeReport(
        title=title,
        month=of(None, MONTH, PREVIOUS_MONTH, month_labels, top),
        quarter=of(None, QUARTER, PREVIOUS_QUARTER, quarter_labels, top),
        group_kind=group_kind,
        groups=report_groups,
    )


def top_to_improve(report: ThemeReport, count: int = 3) -> list[str]:
    """The keys of the scope's most ticked areas to improve this quarter that may be shown."""
    return [t.theme for t in report.quarter.to_improve if not t.hidden][:count]


def scope_groups(
    teams: Iterable[TeamRow],
    services: Iterable[ServiceRow],
    kind: Literal["all", "service", "team"],
    scope_id: int | None,
) -> tuple[str, dict[str, set[int]]]:
    """What a scope's report breaks down by: everyone's by service, a service's by team, a
    team's not at all."""
    teams = list(teams)
    if kind == "all":
        return "Service", {s.name: {t.id for t in teams if t.service_id == s.id} for s in services}
    if kind == "service":
        return "Team", {t.name: {t.id} for t in teams if t.service_id == scope_id}
    return "", {}


def theme_line(p: PeriodThemes, finding: str, theme: str) -> RankedTheme | None:
    """The theme's line in a period's list of `finding`, if it is there (and shown)."""
    return next((t for t in p.ranked(finding) if t.theme == theme), None)

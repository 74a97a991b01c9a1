"""The digest's figures: periods (month, quarter, month so far, the 12-month trends) and how the
counts the database gives per team become a team's, a service's or everyone's figures.

Pure: storage/digest.py counts, grouped by team, in SQL; this module adds them up for a scope and
says what each figure means. Nothing here carries a case reference.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.rules.deadlines import Timeliness, meeting_due, timeliness
from bot.rules.grades import JUDGEMENTS, OVERALL, ActionState, AuditState, Grade, Standard
from bot.rules.programmes import NO_TARGETS, ProgrammeCount, Progress, Targets, programme_progress
from bot.rules.reaudit import is_done, is_verified
from bot.rules.workdays import is_first_working_day_of_month

# Good or better per standard per month (issue 13 item 7): the months ending with the period's.
TREND_MONTHS = 12
QUARTER_STARTS = (1, 4, 7, 10)
GOOD_OR_BETTER = (Grade.OUTSTANDING, Grade.GOOD)
GRADES = tuple(Grade)
STANDARDS = tuple(Standard)
RATINGS = ("involved", "helped_see_good", "understand_grade", "actions_clear")
RATING_LABELS = {
    "involved": "I was involved",
    "helped_see_good": "It helped me see what good looks like",
    "understand_grade": "I understand the grade and why",
    "actions_clear": "The actions are clear and achievable",
}
# Compliance (DESIGN §2): an audit due in the period counts unless it was cancelled. Declining
# does not end an audit: QA reassigns it, which puts the same row back to assigned with another
# auditor (storage.allocation.reassign), so a declined-and-reassigned audit counts once, as what
# it is now; one still declined is due and not done, and is shown as "declined, not reassigned".
NOT_DUE = (AuditState.CANCELLED,)
# Why an audit cancelled before the reason was kept was cancelled.
NO_REASON = "no reason recorded"
DECLINED_NOT_REASSIGNED = AuditState.DECLINED

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_PERIOD = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|[qQ]([1-4]))$")


# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """Local dates from `start` to `end`, both included: a month, a quarter, the month so far, a
    calendar year (the annual report) or any span of days (the evidence pack)."""

    kind: Literal["month", "quarter", "month_so_far", "year", "range"]
    start: date
    end: date

    @property
    def key(self) -> str:
        """ "2026-10" or "2026-Q3": the CLI's --period and the run's dedupe key."""
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "range":
            return f"{self.start.isoformat()}..{self.end.isoformat()}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        month = f"{_MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if self.kind == "quarter":
            last = _MONTH_NAMES[self.end.month - 1][:3]
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year} ({_MONTH_NAMES[self.start.month - 1][:3]}–{last})"
        if self.kind == "month_so_far":
            return f"{month} so far"
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "range":
            return f"{_day(self.start)} to {_day(self.end)}"
        return month

    def months(self) -> list[date]:
        """The first day of each month the period touches."""
        first, result = self.start.replace(day=1), []
        while first <= self.end:
            result.append(first)
            first = next_month(first)
        return result


def _day(day: date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def month_start(day: date, back: int = 0) -> date:
    """The first of `day`'s month, or of the month `back` months before it."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month(first: date) -> Period:
    return Period("month", first, next_month(first) - timedelta(days=1))


def quarter(year: int, number: int) -> Period:
    start = date(year, 3 * (number - 1) + 1, 1)
    return Period("quarter", start, month_start(start, -3) - timedelta(days=1))


def previous_month(today: date) -> Period:
    return month(month_start(today, 1))


def previous_quarter(today: date) -> Period:
    start = month_start(today.replace(month=3 * ((today.month - 1) // 3) + 1), 3)
    return quarter(start.year, (start.month - 1) // 3 + 1)


def year(number: int) -> Period:
    return Period("year", date(number, 1, 1), date(number, 12, 31))


def span(start: date, end: date) -> Period:
    """The days from `start` to `end`, both included."""
    return Period("range", start, end)


def month_so_far(today: date) -> Period:
    return Period("month_so_far", today.replace(day=1), today)


def parse_period(text: str, kind: Literal["month", "quarter"]) -> Period | None:
    """ "2026-10" for a month, "2026-Q3" for a quarter; None if it is not one of the kind."""
    found = _PERIOD.match(text.strip())
    if found is None:
        return None
    year, month_number, quarter_number = found.groups()
    if kind == "month" and month_number:
        return month(date(int(year), int(month_number), 1))
    if kind == "quarter" and quarter_number:
        return quarter(int(year), int(quarter_number))
    return None


def trend_window(period: Period, months: int = TREND_MONTHS) -> list[date]:
    """The first days of the `months` months ending with the period's last month, oldest first."""
    last = month_start(period.end)
    return [month_start(last, back) for back in range(months - 1, -1, -1)]


def is_first_working_day_of_quarter(day: date) -> bool:
    return day.month in QUARTER_STARTS and is_first_working_day_of_month(day)


def local_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant `day` begins in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def bounds(period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period as UTC instants [from, to): timestamps are compared in UTC, dates are local."""
    return local_start(period.start, zone), local_start(period.end + timedelta(days=1), zone)


def on_time_cutoffs(period: Period, zone: ZoneInfo) -> dict[date, datetime]:
    """For each due date in the period, the UTC instant an audit due that day is late from."""
    days = (period.end - period.start).days + 1
    return {
        period.start + timedelta(days=n): local_start(period.start + timedelta(days=n + 1), zone)
        for n in range(days)
    }


@dataclass(frozen=True, slots=True)
class OverduePoint:
    """Actions are overdue `as_of` a date if due before it and not done or cancelled by `cutoff`."""

    as_of: date
    cutoff: datetime


def overdue_point(period: Period, zone: ZoneInfo, now: datetime) -> OverduePoint:
    """For a closed period, the close of its last day; for the month so far, now; for a period
    not yet over (a span to today), today as it stands now."""
    if period.kind == "month_so_far":
        return OverduePoint(period.end, now)
    today = now.astimezone(zone).date()
    if period.end >= today:
        return OverduePoint(today, now)
    after = period.end + timedelta(days=1)
    return OverduePoint(after, local_start(after, zone))


# --- what the database counts, by team -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: int
    name: str
    service_id: int


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ComplianceCount:
    """Audits due in the period (not cancelled), and how many were done on time."""

    team_id: int
    due: int
    on_time: int
    # Completed at any time, late or on time.
    completed: int
    # Declined and not (yet) reassigned: due, and not done.
    declined: int = 0


@dataclass(frozen=True, slots=True)
class CancelledCount:
    """Audits due in the period that were cancelled, with why ("case closed")."""

    team_id: int
    reason: str
    count: int


@dataclass(frozen=True, slots=True)
class GradeCount:
    """Completed audits of the period with each grade: "overall" and each standard."""

    team_id: int
    # {"overall": {"good": 3, ...}, "heart": {...}, ...}
    counts: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class TrendCount:
    """Audits completed in one month with a grade for `key` ("overall" or a standard), and how
    many of those grades were good or better: the digest's grade mix, counted by month."""

    team_id: int
    month: date
    graded: int
    good_or_better: int
    key: str = OVERALL


@dataclass(frozen=True, slots=True)
class InadequateAudit:
    """An audit completed in the period graded inadequate or with risk identified (at any grade);
    no case reference, only what the count needs."""

    team_id: int
    completed_on: date
    meeting_due_on: date | None
    held_on: date | None
    # The child visit, due the next working day where risk was identified; None: none was due.
    visit_due_on: date | None = None
    visited_on: date | None = None
    # False for risk identified at a better grade: a child visit is due, no action meeting.
    graded_inadequate: bool = True


@dataclass(frozen=True, slots=True)
class ActionCount:
    """Actions opened and done in the period and overdue at its close, by the team of the audit
    they came from (None: not from an audit) and, for those, their owner's service."""

    team_id: int | None
    opened: int
    closed: int
    overdue: int
    service_id: int | None = None


@dataclass(frozen=True, slots=True)
class FeedbackCount:
    """Completed audits with a practitioner, the responses to them and their latest ratings' sums."""

    team_id: int
    audits: int
    responses: int
    sums: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ModerationCount:
    """Decided moderations of one auditor's audits in one team: agreements and judgements made."""

    team_id: int
    auditor_id: int
    auditor_name: str
    agreed: Mapping[str, int]
    judged: Mapping[str, int]
    # The moderated audits these judgements were made on: what a figure about the auditor rests on.
    audits: int = 0


@dataclass(frozen=True, slots=True)
class Override:
    """A completed audit with an inadequate standard and a better overall grade."""

    audit_id: int
    team_id: int
    auditor_name: str
    overall: str
    inadequate: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReauditedCount:
    """Re-audits completed in the period, by the team of the audit each re-audits."""

    team_id: int
    audits: int


@dataclass(frozen=True, slots=True)
class CheckedActions:
    """SMART actions (not the meeting or visit) of audits whose re-audit was completed in the
    period: by the original's team, the action's state and standard, and the re-audit's grades,
    so that bot.rules.reaudit.is_verified alone says which are verified."""

    team_id: int
    state: str
    standard: str | None
    reaudit_grades: Mapping[str, str | None]
    actions: int


@dataclass(frozen=True, slots=True)
class Counts:
    """Everything the database counted for one period, by team."""

    period: Period
    trend_months: list[date]
    teams: list[TeamRow]
    compliance: list[ComplianceCount] = field(default_factory=list)
    cancelled: list[CancelledCount] = field(default_factory=list)
    # The audit programme: the council's completed audits by kind, its targets, and each active
    # team manager's team (what the TM target multiplies).
    programmes: list[ProgrammeCount] = field(default_factory=list)
    targets: Targets = NO_TARGETS
    team_managers: list[int | None] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    grades: list[GradeCount] = field(default_factory=list)
    trend: list[TrendCount] = field(default_factory=list)
    inadequate: list[InadequateAudit] = field(default_factory=list)
    actions: list[ActionCount] = field(default_factory=list)
    feedback: list[FeedbackCount] = field(default_factory=list)
    moderation: list[ModerationCount] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    reaudited: list[ReauditedCount] = field(default_factory=list)
    checked: list[CheckedActions] = field(default_factory=list)


# --- the figures, for a scope ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamCompliance:
    team: str
    due: int
    on_time: int
    completed: int
    declined: int = 0
    # Not shown (bot.rules.disclosure): its figures are zero here, so nothing can print them.
    hidden: bool = False

    @property
    def share(self) -> float | None:
        return share(self.on_time, self.due)


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Audits due in the scope and period that were cancelled for one reason."""

    reason: str
    count: int
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class GradeMix:
    """Counts by grade, best first, for "overall" and each standard."""

    counts: Mapping[str, Mapping[str, int]]
    hidden: bool = False

    def of(self, key: str) -> list[tuple[Grade, int]]:
        row = self.counts.get(key, {})
        return [(g, row.get(g, 0)) for g in GRADES]

    def total(self, key: str = OVERALL) -> int:
        return sum(self.counts.get(key, {}).values())


@dataclass(frozen=True, slots=True)
class TrendPoint:
    month: date
    graded: int
    good_or_better: int
    hidden: bool = False

    @property
    def share(self) -> float | None:
        """None for a month with no graded audits: a gap in the line, not a zero."""
        return share(self.good_or_better, self.graded)

    @property
    def label(self) -> str:
        return f"{self.short_label} {self.month.year}"

    @property
    def short_label(self) -> str:
        """The month alone ("Jun"): what fits under a narrow chart's axis uncut."""
        return _MONTH_NAMES[self.month.month - 1][:3]


@dataclass(frozen=True, slots=True)
class GroupTrend:
    """One service's or team's audits graded over the trend's months, by "overall" and each
    standard, and how many of those were good or better."""

    name: str
    graded: Mapping[str, int]
    good_or_better: Mapping[str, int]
    hidden: bool = False
    # Standards whose own count is too few to show (bot.rules.disclosure).
    hidden_keys: frozenset[str] = frozenset()

    def share(self, key: str) -> float | None:
        return share(self.good_or_better.get(key, 0), self.graded.get(key, 0))


@dataclass(frozen=True, slots=True)
class Meetings:
    """Inadequate audits and their action meetings: held in time, held late, not (yet) held."""

    inadequate: int
    in_time: int
    late: int
    not_held_overdue: int
    not_held_not_due: int
    # Child visits where risk was identified, at any grade: by their due day, late, not (yet)
    # recorded.
    visits: int = 0
    visited_in_time: int = 0
    visited_late: int = 0
    not_visited_overdue: int = 0
    not_visited_not_due: int = 0
    # Not shown (bot.rules.disclosure): its figures are zero here, so nothing can print them.
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class TeamActions:
    team: str
    opened: int
    closed: int
    overdue: int


@dataclass(frozen=True, slots=True)
class FeedbackFigures:
    audits: int
    responses: int
    averages: Mapping[str, float | None]
    # Not shown: how many audits (and so everything), or how many responses and their ratings.
    audits_hidden: bool = False
    responses_hidden: bool = False

    @property
    def rate(self) -> float | None:
        return share(self.responses, self.audits)


@dataclass(frozen=True, slots=True)
class Agreement:
    """Moderators' agreement with one auditor's (or on one standard's) judgements."""

    name: str
    agreed: int
    judged: int
    # The moderated audits behind the figure.
    audits: int = 0
    hidden: bool = False

    @property
    def share(self) -> float | None:
        return share(self.agreed, self.judged)


@dataclass(frozen=True, slots=True)
class Verified:
    """Closing the loop: the re-audits completed in the period, and their originals' SMART
    actions (bar cancelled): how many were done and, of those, how many are verified (the
    re-audit shows the standard each targets no longer inadequate)."""

    reaudits: int
    actions: int
    done: int
    verified: int
    hidden: bool = False


NO_REAUDITS = Verified(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class OverrideLine:
    audit_id: int
    team: str
    auditor: str
    overall: str
    inadequate: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """One scope's figures for one period: what the cards and reports show."""

    title: str
    period: Period
    compliance: list[TeamCompliance]
    grades: GradeMix
    trend: list[TrendPoint]
    meetings: Meetings
    actions: list[TeamActions]
    feedback: FeedbackFigures
    by_auditor: list[Agreement]
    by_standard: list[Agreement]
    overrides: list[OverrideLine]
    # Every team's together, hidden ones too: worked out before any row is hidden.
    compliance_total: TeamCompliance = TeamCompliance("All", 0, 0, 0)
    # Set by bot.rules.disclosure: figures resting on fewer than this many are not shown.
    suppressed_below: int | None = None
    # Overrides left out of this view (they name an auditor and an audit: QA's alone).
    overrides_hidden: int = 0
    # Audits due in the period but cancelled, by why, most first: compliance leaves them out.
    cancelled: list[Cancelled] = field(default_factory=list)
    # Each programme's audits completed in the period against its target.
    programmes: list[Progress] = field(default_factory=list)
    # The figures of every team (not one team's or service's).
    everyone: bool = True
    # Actions done and verified, of the audits re-audited in the period.
    verified: Verified = NO_REAUDITS
    # Each standard's good or better by month, over the same months as `trend` (overall's).
    standard_trend: Mapping[str, list[TrendPoint]] = field(default_factory=dict)
    # The trend's months added up by service (everyone's figures) or by team (a service's):
    # "service", "team", or "" for one team's figures, which have no breakdown.
    trend_groups: list[GroupTrend] = field(default_factory=list)
    trend_group_kind: str = ""

    @property
    def actions_total(self) -> TeamActions:
        return TeamActions(
            "All",
            sum(a.opened for a in self.actions),
            sum(a.closed for a in self.actions),
            sum(a.overdue for a in self.actions),
        )

    @property
    def good_or_better(self) -> float | None:
        mix = self.grades.counts.get(OVERALL, {})
        return share(sum(mix.get(g, 0) for g in GOOD_OR_BETTER), self.grades.total())

    @property
    def is_empty(self) -> bool:
        return (
            not self.compliance
            and self.grades.total() == 0
            and self.meetings.inadequate == 0
            and self.meetings.visits == 0
            and not self.actions
            and self.feedback.audits == 0
            and not self.by_auditor
            and not self.cancelled
            and not any(p.completed or p.hidden for p in self.programmes)
            and not (self.verified.reaudits or self.verified.hidden)
        )


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(value: float | None) -> str:
    """ "83%", or "–" where there is nothing to divide by."""
    return "–" if value is None else f"{round(100 * value)}%"


def teams_in(
    teams: Iterable[TeamRow], kind: Literal["all", "service", "team"], scope_id: int | None
) -> set[int] | None:
    """The team ids a scope covers; None for all of them."""
    if kind == "all":
        return None
    if kind == "service":
        return {t.id for t in teams if t.service_id == scope_id}
    return {scope_id} if scope_id is not None else set()


def action_home(count: ActionCount) -> tuple[Literal["team", "service"], int] | None:
    """Whose figures an action counts in (DESIGN §2): the team of the audit it came from, else its
    owner's service; None for an action of neither, which only everyone's figures count."""
    if count.team_id is not None:
        return "team", count.team_id
    if count.service_id is not None:
        return "service", count.service_id
    return None


def digest(
    counts: Counts,
    *,
    title: str,
    team_ids: Collection[int] | None,
    today: date,
    service_id: int | None = None,
) -> Digest:
    """The figures for the teams in `team_ids` (None: all), and for a service's digest its own
    actions that came from no audit; `today` judges meetings not yet held."""

    def wanted(team_id: int) -> bool:
        return team_ids is None or team_id in team_ids

    def action_wanted(count: ActionCount) -> bool:
        home = action_home(count)
        if team_ids is None:
            return True
        if home is None:
            return False
        kind, home_id = home
        return home_id in team_ids if kind == "team" else home_id == service_id

    names = {t.id: t.name for t in counts.teams}
    service_names = {s.id: s.name for s in counts.services}

    def action_label(count: ActionCount) -> str:
        home = action_home(count)
        if home is None:
            return "No team or service"
        kind, home_id = home
        if kind == "team":
            return names.get(home_id, "?")
        return f"{service_names.get(home_id, '?')} service (not from an audit)"

    compliance = sorted(
        (
            TeamCompliance(names.get(c.team_id, "?"), c.due, c.on_time, c.completed, c.declined)
            for c in counts.compliance
            if wanted(c.team_id) and c.due
        ),
        key=lambda c: c.team,
    )
    actions: dict[str, list[int]] = {}
    for a in counts.actions:
        if action_wanted(a) and (a.opened or a.closed or a.overdue):
            row = actions.setdefault(action_label(a), [0, 0, 0])
            row[0] += a.opened
            row[1] += a.closed
            row[2] += a.overdue
    cancelled: dict[str, int] = {}
    for c in counts.cancelled:
        if wanted(c.team_id):
            cancelled[c.reason] = cancelled.get(c.reason, 0) + c.count
    trend_rows: dict[str, list[TrendCount]] = {key: [] for key in JUDGEMENTS}
    for t in counts.trend:
        if wanted(t.team_id) and t.key in trend_rows:
            trend_rows[t.key].append(t)
    group_kind, groups = trend_groups_of(counts, team_ids, service_id)
    return Digest(
        title=title,
        period=counts.period,
        compliance=compliance,
        cancelled=[
            Cancelled(reason, n)
            for reason, n in sorted(cancelled.items(), key=lambda item: (-item[1], item[0]))
        ],
        programmes=programme_progress(
            counts.programmes,
            counts.targets,
            months=len(counts.period.months()),
            team_managers=counts.team_managers,
            team_ids=team_ids,
        ),
        everyone=team_ids is None,
        compliance_total=TeamCompliance(
            "All",
            sum(c.due for c in compliance),
            sum(c.on_time for c in compliance),
            sum(c.completed for c in compliance),
            sum(c.declined for c in compliance),
        ),
        grades=_grade_mix(c for c in counts.grades if wanted(c.team_id)),
        trend=trend_points(counts.trend_months, trend_rows[OVERALL]),
        standard_trend={
            s.value: trend_points(counts.trend_months, trend_rows[s.value], s.value)
            for s in STANDARDS
        },
        trend_group_kind=group_kind,
        trend_groups=_trend_groups(trend_rows, groups),
        meetings=_meetings((a for a in counts.inadequate if wanted(a.team_id)), today),
        actions=[TeamActions(name, *actions[name]) for name in sorted(actions)],
        feedback=_feedback(f for f in counts.feedback if wanted(f.team_id)),
        by_auditor=_by_auditor(m for m in counts.moderation if wanted(m.team_id)),
        by_standard=_by_standard([m for m in counts.moderation if wanted(m.team_id)]),
        overrides=[
            OverrideLine(
                o.audit_id, names.get(o.team_id, "?"), o.auditor_name, o.overall, o.inadequate
            )
            for o in sorted(counts.overrides, key=lambda o: o.audit_id)
            if wanted(o.team_id)
        ],
        verified=_verified(
            sum(r.audits for r in counts.reaudited if wanted(r.team_id)),
            [c for c in counts.checked if wanted(c.team_id)],
        ),
    )


def _verified(reaudits: int, rows: list[CheckedActions]) -> Verified:
    """Done and verified as bot.rules.reaudit says, action by action (grouped)."""
    return Verified(
        reaudits,
        sum(r.actions for r in rows if r.state != ActionState.CANCELLED),
        sum(r.actions for r in rows if is_done(r.state)),
        sum(
            r.actions
            for r in rows
            if is_verified(state=r.state, standard=r.standard, reaudit_grades=r.reaudit_grades)
        ),
    )


def _grade_mix(rows: Iterable[GradeCount]) -> GradeMix:
    total: dict[str, dict[str, int]] = {key: dict.fromkeys(GRADES, 0) for key in JUDGEMENTS}
    for row in rows:
        for key, by_grade in row.counts.items():
            for grade, count in by_grade.items():
                total.setdefault(key, {})[grade] = total.get(key, {}).get(grade, 0) + count
    return GradeMix({k: {Grade(g): n for g, n in v.items()} for k, v in total.items()})


def trend_points(
    window: list[date], rows: Iterable[TrendCount], key: str = OVERALL
) -> list[TrendPoint]:
    """Each month of `window`: the rows' audits graded on `key`, and good or better."""
    graded = dict.fromkeys(window, 0)
    good = dict.fromkeys(window, 0)
    for row in rows:
        if row.key == key and row.month in graded:
            graded[row.month] += row.graded
            good[row.month] += row.good_or_better
    return [TrendPoint(m, graded[m], good[m]) for m in window]


def trend_groups_of(
    counts: Counts, team_ids: Collection[int] | None, service_id: int | None
) -> tuple[str, dict[str, set[int]]]:
    """Whose trends a scope's figures break down into: everyone's by service, a service's (or
    several teams') by team, one team's not at all. Groups with no team are left out."""
    if team_ids is None:
        by_service = {
            s.name: {t.id for t in counts.teams if t.service_id == s.id} for s in counts.services
        }
        return "service", {name: ids for name, ids in by_service.items() if ids}
    if service_id is None and len(team_ids) <= 1:
        return "", {}
    return "team", {t.name: {t.id} for t in counts.teams if t.id in team_ids}


def _trend_groups(
    rows: Mapping[str, list[TrendCount]], groups: Mapping[str, set[int]]
) -> list[GroupTrend]:
    """Each group's months added up, by name; a group with no graded audit is left out."""
    by_team: dict[int, tuple[Counter[str], Counter[str]]] = {}
    for key, counted in rows.items():
        for r in counted:
            graded, good = by_team.setdefault(r.team_id, (Counter(), Counter()))
            graded[key] += r.graded
            good[key] += r.good_or_better
    result = []
    for name in sorted(groups):
        graded, good = Counter[str](), Counter[str]()
        for team_id in groups[name]:
            team_graded, team_good = by_team.get(team_id, (Counter(), Counter()))
            graded.update(team_graded)
            good.update(team_good)
        if any(graded.values()):
            result.append(
                GroupTrend(
                    name,
                    {k: graded[k] for k in JUDGEMENTS},
                    {k: good[k] for k in JUDGEMENTS},
                )
            )
    return result


def _meetings(audits: Iterable[InadequateAudit], today: date) -> Meetings:
    every = list(audits)
    listed = [a for a in every if a.graded_inadequate]
    meetings = _in_time(
        ((a.meeting_due_on or meeting_due(a.completed_on), a.held_on) for a in listed), today
    )
    visits = _in_time(
        ((a.visit_due_on, a.visited_on) for a in every if a.visit_due_on is not None), today
    )
    return Meetings(len(listed), *meetings, sum(visits), *visits)


def _in_time(steps: Iterable[tuple[date, date | None]], today: date) -> tuple[int, int, int, int]:
    """Of (due, done) days: done by the due day, done late, not done and overdue, not yet due."""
    found = Counter(timeliness(due, done, today) for due, done in steps)
    return (
        found[Timeliness.IN_TIME],
        found[Timeliness.LATE],
        found[Timeliness.OVERDUE],
        found[Timeliness.NOT_YET_DUE],
    )


def _feedback(rows: Iterable[FeedbackCount]) -> FeedbackFigures:
    audits = responses = 0
    sums = dict.fromkeys(RATINGS, 0)
    for row in rows:
        audits += row.audits
        responses += row.responses
        for name in RATINGS:
            sums[name] += row.sums.get(name, 0)
    return FeedbackFigures(
        audits, responses, {name: sums[name] / responses if responses else None for name in RATINGS}
    )


def _by_auditor(rows: Iterable[ModerationCount]) -> list[Agreement]:
    agreed: dict[int, int] = {}
    judged: dict[int, int] = {}
    audits: dict[int, int] = {}
    names: dict[int, str] = {}
    for row in rows:
        names[row.auditor_id] = row.auditor_name
        agreed[row.auditor_id] = agreed.get(row.auditor_id, 0) + sum(row.agreed.values())
        judged[row.auditor_id] = judged.get(row.auditor_id, 0) + sum(row.judged.values())
        audits[row.auditor_id] = audits.get(row.auditor_id, 0) + row.audits
    return sorted(
        (Agreement(names[a], agreed[a], judged[a], audits[a]) for a in names if judged[a]),
        key=lambda a: (a.name, a.judged),
    )


def _by_standard(rows: list[ModerationCount]) -> list[Agreement]:
    result = []
    for key in JUDGEMENTS:
        judged = sum(r.judged.get(key, 0) for r in rows)
        if judged:
            agreed = sum(r.agreed.get(key, 0) for r in rows)
            # Each moderated audit is judged once on each standard.
            result.append(Agreement(key, agreed, judged, judged))
    return result

"""Trends beyond the digest (issue 13 item 7): each auditor's grade mix beside all auditors' (QA
only: it names auditors), and a practitioner's own audits over time (`my learning`: theirs, and
their team manager's to see). The window is the digest's trend: the TREND_MONTHS months ending
with this one. Pure: storage/digest.py counts the auditors' grades as it counts the digest's,
storage/learning.py fetches one person's audits; this module adds up and decides who sees what.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.rules.digest import (
    GOOD_OR_BETTER,
    GRADES,
    STANDARDS,
    Period,
    month_so_far,
    share,
    trend_window,
)
from bot.rules.digest import bounds as period_bounds
from bot.rules.grades import ActionState, Grade
from bot.rules.permissions import Person
from bot.rules.reminders import due_status
from bot.rules.roles import Role

TO_IMPROVE = (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)
ALL_AUDITORS = "All auditors"


def window(today: date) -> Period:
    """The TREND_MONTHS months ending with today's, up to today: what both views count (a
    period only for its bounds, so its kind is the month so far's)."""
    first = trend_window(month_so_far(today))[0]
    return Period("month_so_far", first, today)


def window_bounds(today: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return period_bounds(window(today), zone)


def window_label(today: date) -> str:
    """ "Dec 2025 to 26 Nov 2026"."""
    return f"{window(today).start:%b %Y} to {today.day} {today:%b %Y}"


# --- an auditor's grades beside all auditors' ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditorCount:
    """Audits an auditor completed in the window with one overall grade (None: not graded)."""

    auditor_id: int
    name: str
    grade: str | None
    audits: int


@dataclass(frozen=True, slots=True)
class GradeShare:
    """One auditor's (or all auditors') completed audits by overall grade."""

    name: str
    counts: Mapping[Grade, int]

    @property
    def graded(self) -> int:
        return sum(self.counts.values())

    def share(self, grade: Grade) -> float | None:
        return share(self.counts.get(grade, 0), self.graded)

    @property
    def good_or_better(self) -> float | None:
        return share(sum(self.counts.get(g, 0) for g in GOOD_OR_BETTER), self.graded)


@dataclass(frozen=True, slots=True)
class AuditorGrades:
    everyone: GradeShare
    auditors: list[GradeShare]
    # The asked-for name matched nobody ("" when none was asked for).
    unmatched: str = ""


def auditor_grades(rows: Iterable[AuditorCount], *, named: str = "") -> AuditorGrades:
    """Every auditor's overall grades (those with a graded audit), by name, and all auditors'
    together; with `named`, only the auditors whose name holds it, still beside everyone's."""
    totals: dict[int, Counter[Grade]] = {}
    names: dict[int, str] = {}
    everyone: Counter[Grade] = Counter()
    for row in rows:
        if row.grade is None or row.grade not in set(GRADES):
            continue
        grade = Grade(row.grade)
        names[row.auditor_id] = row.name
        totals.setdefault(row.auditor_id, Counter())[grade] += row.audits
        everyone[grade] += row.audits
    wanted = named.strip().casefold()
    auditors = sorted(
        (
            GradeShare(names[a], {g: totals[a][g] for g in GRADES})
            for a in totals
            if wanted in names[a].casefold()
        ),
        key=lambda s: (s.name.casefold(), -s.graded),
    )
    return AuditorGrades(
        GradeShare(ALL_AUDITORS, {g: everyone[g] for g in GRADES}),
        auditors,
        unmatched=named.strip() if wanted and not auditors else "",
    )


# --- a practitioner's own learning ------------------------------------------------------------------


def may_see_learning(me: Person, them: Person) -> bool:
    """A person's own audits over time are theirs and their team manager's (a team manager of
    their team, or their line manager) to see; nobody else's, QA's neither."""
    if me.id == them.id or them.manager_id == me.id:
        return True
    return Role.TEAM_MANAGER in me.roles and them.team_id is not None and me.team_id == them.team_id


@dataclass(frozen=True, slots=True)
class LearnedAudit:
    """An audit of the person's case completed in the window: its grades and themes ticked."""

    audit_id: int
    case_ref: str
    kind: str
    completed_on: date
    overall: str | None
    grades: Mapping[str, str | None]
    strengths: tuple[str, ...] = ()
    to_improve: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Tick:
    audit_id: int
    theme: str
    title: str
    finding: str


@dataclass(frozen=True, slots=True)
class ActionSeen:
    """An action from one of the audits: its state and due date, to count open, overdue, done."""

    state: str
    due_on: date


@dataclass(frozen=True, slots=True)
class ThemeSeen:
    theme: str
    title: str
    audits: int


@dataclass(frozen=True, slots=True)
class Learning:
    """What `my learning` shows of one person: newest audit first."""

    name: str
    own: bool
    since: str
    audits: list[LearnedAudit]
    # Each standard graded requires improvement or inadequate, in how many audits; most first.
    standards_to_improve: list[tuple[str, int]] = field(default_factory=list)
    strengths: list[ThemeSeen] = field(default_factory=list)
    to_improve: list[ThemeSeen] = field(default_factory=list)
    actions_open: int = 0
    actions_overdue: int = 0
    actions_done: int = 0

    @property
    def graded(self) -> int:
        return sum(1 for a in self.audits if a.overall)

    @property
    def good_or_better(self) -> float | None:
        good = sum(1 for a in self.audits if a.overall in GOOD_OR_BETTER)
        return share(good, self.graded)

    def overall_mix(self) -> list[tuple[Grade, int]]:
        found = Counter(a.overall for a in self.audits if a.overall)
        return [(g, found.get(g.value, 0)) for g in GRADES]


DONE_STATES = (ActionState.DONE, ActionState.CONFIRMED)


def learning_of(
    *,
    name: str,
    own: bool,
    since: str,
    audits: Sequence[LearnedAudit],
    ticks: Iterable[Tick],
    actions: Iterable[ActionSeen],
    today: date,
) -> Learning:
    """The person's audits with their themes, newest first; what to work on; their actions."""
    strengths: dict[int, list[str]] = {}
    improve: dict[int, list[str]] = {}
    titles: dict[str, str] = {}
    seen: dict[str, Counter[str]] = {"strength": Counter(), "to_improve": Counter()}
    for t in ticks:
        titles.setdefault(t.theme, t.title)
        if t.finding in seen:
            seen[t.finding][t.theme] += 1
            (strengths if t.finding == "strength" else improve).setdefault(t.audit_id, []).append(
                t.title
            )
    ordered = sorted(audits, key=lambda a: (a.completed_on, a.audit_id), reverse=True)
    to_work_on = Counter(
        s.value for a in ordered for s in STANDARDS if a.grades.get(s.value) in TO_IMPROVE
    )
    every = list(actions)
    open_ = [a for a in every if a.state == ActionState.OPEN]

    def themes(finding: str) -> list[ThemeSeen]:
        return [
            ThemeSeen(key, titles[key], n)
            for key, n in sorted(seen[finding].items(), key=lambda kv: (-kv[1], titles[kv[0]]))
        ]

    return Learning(
        name=name,
        own=own,
        since=since,
        audits=[
            LearnedAudit(
                a.audit_id,
                a.case_ref,
                a.kind,
                a.completed_on,
                a.overall,
                a.grades,
                tuple(sorted(strengths.get(a.audit_id, []))),
                tuple(sorted(improve.get(a.audit_id, []))),
            )
            for a in ordered
        ],
        standards_to_improve=sorted(to_work_on.items(), key=lambda kv: (-kv[1], kv[0])),
        strengths=themes("strength"),
        to_improve=themes("to_improve"),
        actions_open=len(open_),
        actions_overdue=sum(1 for a in open_ if due_status(a.due_on, today) == "overdue"),
        actions_done=sum(1 for a in every if a.state in DONE_STATES),
    )

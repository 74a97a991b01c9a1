"""How soon the response to risk or an inadequate audit is due: the action meeting and the child
visit, each a tenant setting in working or calendar days (the framework's defaults: 3 working days
and the next working day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.rules.workdays import add_working_days

# A deadline longer than this is no longer a prompt response; the setting refuses it.
MAX_DUE_DAYS = 20


class Unit(StrEnum):
    WORKING = "working"
    CALENDAR = "calendar"


@dataclass(frozen=True, slots=True)
class Deadline:
    days: int
    unit: Unit = Unit.WORKING

    def due(self, start: date) -> date:
        """The due day, counted from the day after `start` (working days skip bank holidays)."""
        if self.unit is Unit.CALENDAR:
            return start + timedelta(days=self.days)
        return add_working_days(start, self.days)

    @property
    def words(self) -> str:
        """As an alert says it: "by the next working day", "within 3 working days"."""
        kind = "working day" if self.unit is Unit.WORKING else "day"
        if self.days == 1:
            return f"by the next {kind}"
        return f"within {self.days} {self.unit.value} days"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """A tenant's two deadlines."""

    meeting: Deadline
    visit: Deadline


MEETING_DEADLINE = Deadline(3, Unit.WORKING)
VISIT_DEADLINE = Deadline(1, Unit.WORKING)
DEFAULT_DEADLINES = Deadlines(meeting=MEETING_DEADLINE, visit=VISIT_DEADLINE)


def meeting_due(completed_on: date, deadlines: Deadlines = DEFAULT_DEADLINES) -> date:
    """The action meeting after an inadequate audit completed on `completed_on`."""
    return deadlines.meeting.due(completed_on)


def visit_due(completed_on: date, deadlines: Deadlines = DEFAULT_DEADLINES) -> date:
    """The child visit after an audit with risk identified, completed on `completed_on`."""
    return deadlines.visit.due(completed_on)


def deadline_of(days: int, unit: str) -> Deadline | str:
    """The deadline `days` `unit` stands for, or why it cannot be one (a sentence to show)."""
    if unit not in Unit._value2member_map_:
        return f"The unit must be working or calendar, not {unit!r}."
    if not 1 <= days <= MAX_DUE_DAYS:
        return f"The number of days must be from 1 to {MAX_DUE_DAYS}, not {days}."
    return Deadline(days, Unit(unit))


class Timeliness(StrEnum):
    """Where a step with a due day stands: done by it, done after it, not done and overdue, or
    not done and not yet due."""

    IN_TIME = "in_time"
    LATE = "late"
    OVERDUE = "overdue"
    NOT_YET_DUE = "not_yet_due"


def timeliness(due: date, done: date | None, today: date) -> Timeliness:
    if done is not None:
        return Timeliness.IN_TIME if done <= due else Timeliness.LATE
    return Timeliness.OVERDUE if due < today else Timeliness.NOT_YET_DUE


# What the two tracking actions say, wherever they are made (the bot, the demo council).
MEETING_WHAT = "Hold a multi-disciplinary action meeting on the inadequate audit"
VISIT_WHAT = "Visit the child after the risk identified in the audit"


def meeting_measure(deadline: Deadline) -> str:
    return f"Meeting held {deadline.words}; attendees and actions recorded"


def visit_measure(deadline: Deadline) -> str:
    return f"Visit recorded on the case file {deadline.words}"


# Why a day cannot be when an action meeting was held or a child was seen.
FUTURE_DATE = "future_date"
BEFORE_AUDIT = "before_audit"


def response_day_problem(day: date, *, today: date, completed_on: date | None) -> str | None:
    """A meeting or visit happens after the audit that called for it was completed and not after
    today: FUTURE_DATE, BEFORE_AUDIT, or None when `day` fits."""
    if day > today:
        return FUTURE_DATE
    if completed_on is not None and day < completed_on:
        return BEFORE_AUDIT
    return None

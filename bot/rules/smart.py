"""Whether an action is SMART (DESIGN §2): specific, measurable, owned by a known person, and due
on a future working day. Pure: the caller looks the owner up and turns problems into words."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from bot.rules.dates import MAX_AHEAD
from bot.rules.workdays import FULL_TIME, is_bank_holiday, is_working_day

# "Plan updated" says nothing about how we would know; a measure needs a few words at least.
MEASURE_MIN_WORDS = 3
MEASURE_MIN_CHARS = 12
WHAT_MIN_WORDS = 2


class SmartField(StrEnum):
    WHAT = "what"
    MEASURE = "measure"
    OWNER = "owner"
    DUE_ON = "due_on"


class SmartProblem(StrEnum):
    WHAT_MISSING = "what_missing"
    WHAT_VAGUE = "what_vague"
    MEASURE_MISSING = "measure_missing"
    MEASURE_VAGUE = "measure_vague"
    OWNER_MISSING = "owner_missing"
    OWNER_UNKNOWN = "owner_unknown"
    DUE_MISSING = "due_missing"
    DUE_NOT_FUTURE = "due_not_future"
    DUE_TOO_FAR = "due_too_far"
    DUE_NOT_WORKING_DAY = "due_not_working_day"
    # A weekday and no bank holiday, but not one the owner works (a part-time pattern).
    DUE_OWNER_OFF = "due_owner_off"


def smart_problems(
    *,
    what: str,
    measure: str,
    owner_given: bool,
    owner_known: bool,
    due_on: date | None,
    today: date,
    owner_weekdays: Iterable[int] = FULL_TIME,
) -> dict[SmartField, SmartProblem]:
    """What is wrong with each field, if anything; an empty dict means the action is SMART."""
    problems: dict[SmartField, SmartProblem] = {}
    if not what.strip():
        problems[SmartField.WHAT] = SmartProblem.WHAT_MISSING
    elif len(what.split()) < WHAT_MIN_WORDS:
        problems[SmartField.WHAT] = SmartProblem.WHAT_VAGUE
    if not measure.strip():
        problems[SmartField.MEASURE] = SmartProblem.MEASURE_MISSING
    elif len(measure.split()) < MEASURE_MIN_WORDS or len(measure.strip()) < MEASURE_MIN_CHARS:
        problems[SmartField.MEASURE] = SmartProblem.MEASURE_VAGUE
    if not owner_given:
        problems[SmartField.OWNER] = SmartProblem.OWNER_MISSING
    elif not owner_known:
        problems[SmartField.OWNER] = SmartProblem.OWNER_UNKNOWN
    if (due := _due_problem(due_on, today, tuple(owner_weekdays))) is not None:
        problems[SmartField.DUE_ON] = due
    return problems


def _due_problem(
    due_on: date | None, today: date, weekdays: tuple[int, ...]
) -> SmartProblem | None:
    if due_on is None:
        return SmartProblem.DUE_MISSING
    if due_on <= today:
        return SmartProblem.DUE_NOT_FUTURE
    if due_on > today + MAX_AHEAD:
        return SmartProblem.DUE_TOO_FAR
    if due_on.isoweekday() > 5 or is_bank_holiday(due_on):
        return SmartProblem.DUE_NOT_WORKING_DAY
    if not is_working_day(due_on, weekdays=weekdays):
        return SmartProblem.DUE_OWNER_OFF
    return None

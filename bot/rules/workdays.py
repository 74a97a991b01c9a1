"""Working days: Monday to Friday less England and Wales bank holidays and a person's days off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    days = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(days.keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


FULL_TIME = (1, 2, 3, 4, 5)


@lru_cache(maxsize=128)
def weekdays_of(pattern: str | None) -> tuple[int, ...]:
    """The ISO weekdays (Monday 1) in a stored working pattern such as "1234"; a blank or
    unreadable pattern is full time, so nobody silently stops being chased."""
    days = tuple(sorted({int(d) for d in pattern or "" if d in "1234567"}))
    return days or FULL_TIME


def is_working_day(day: date, *, weekdays: Iterable[int] = FULL_TIME) -> bool:
    """`weekdays` are ISO numbers (Monday 1) a person works; bank holidays are never working."""
    return day.isoweekday() in set(weekdays) and not is_bank_holiday(day)


def add_working_days(start: date, count: int) -> date:
    """The date `count` working days after `start` (count 0 is `start` itself)."""
    day = start
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(earlier: date, later: date) -> int:
    """Working days after `earlier` up to and including `later`; 0 when later is not after."""
    if later <= earlier:
        return 0
    # Whole weeks hold five weekdays each; count the rest, then take off weekday bank holidays.
    # (Counting day by day cost a visible share of every `my actions` turn.)
    weeks, rest = divmod((later - earlier).days, 7)
    first = earlier.isoweekday()
    weekdays = weeks * 5 + sum(1 for n in range(1, rest + 1) if (first + n - 1) % 7 < 5)
    holidays_off = sum(
        1
        for year in range(earlier.year, later.year + 1)
        for day in _bank_holidays(year)
        if earlier < day <= later and day.isoweekday() <= 5
    )
    return weekdays - holidays_off


def first_working_day(first: date) -> date:
    """`first` if it is a working day, else the next one."""
    day = first
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def is_first_working_day_of_month(day: date) -> bool:
    """1 Dec 2026, a Tuesday; 4 Jan 2027, after the New Year holiday."""
    return day == first_working_day(day.replace(day=1))


def first_working_day_of_week(day: date) -> date | None:
    """The first working day (Monday, or later after a bank holiday) of `day`'s week; None in a
    week with none (Christmas can come close, but never takes a whole week)."""
    monday = day - timedelta(days=day.weekday())
    for offset in range(5):
        candidate = monday + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    return None


def is_first_working_day_of_week(day: date) -> bool:
    """The `step_guide` job's `runs_on`: Monday, or the Tuesday after a bank holiday Monday."""
    return first_working_day_of_week(day) == day


def next_working_day(after: date, *, weekdays: Iterable[int] = FULL_TIME) -> date:
    """The first day after `after` that someone working `weekdays` works (not a bank holiday)."""
    day = after + timedelta(days=1)
    while not is_working_day(day, weekdays=weekdays):
        day += timedelta(days=1)
    return day

"""Dates people type ("24 Dec", "24/12/2026", "friday") and the rules for a new due date."""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

from bot.rules.workdays import is_working_day

# How far ahead a new due date or an away date may be.
MAX_AHEAD = timedelta(days=365)
# A day typed without its year that fell this recently is the one just gone, not next year's.
RECENT_PAST = timedelta(days=60)

_MONTHS = {
    name: n
    for n, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAYS = {
    name: n
    for n, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)(?: (\d{4}))?")
_MONTH_DAY = re.compile(r"([a-z]+) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?")


def parse_day(text: str, *, today: date) -> date | None:
    """A day as a UK reader writes it. Without a year, the next such day, unless it fell in the
    last RECENT_PAST: "3 Jan" typed in November is next January's, "30 Nov" typed on 2 Dec is the
    one just gone (a form that wants a future day then asks whether next year's was meant, rather
    than quietly taking a date a year away), and "30 Dec" typed on 5 Jan is last December's.

    A weekday name means the next one after today. None if it is not a date we recognise.
    """
    typed = re.sub(r"[\s,]+", " ", text.strip().lower()).strip(" .")
    if typed in ("today", "tomorrow"):
        return today + timedelta(days=typed == "tomorrow")
    if typed in _WEEKDAYS:
        return today + timedelta(days=(_WEEKDAYS[typed] - today.weekday() - 1) % 7 + 1)
    if m := _ISO.fullmatch(typed):
        return _date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.fullmatch(typed):
        year = None if m[3] is None else int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return _nearest(today, int(m[2]), int(m[1]), year)
    for pattern, day_at, month_at in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        if (m := pattern.fullmatch(typed)) and m[month_at] in _MONTHS:
            return _nearest(
                today, _MONTHS[m[month_at]], int(m[day_at]), int(m[3]) if m[3] else None
            )
    return None


def a_year_on(day: date) -> date | None:
    """The same day next year (None for 29 Feb): what someone who typed a day just gone
    without its year may have meant."""
    return _date(day.year + 1, day.month, day.day)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(today: date, month: int, day: int, year: int | None) -> date | None:
    if year is not None:
        return _date(year, month, day)
    candidates = [d for d in (_date(today.year + n, month, day) for n in (-1, 0, 1)) if d]
    recent = [d for d in candidates if today - RECENT_PAST <= d < today]
    if recent:
        return recent[-1]
    ahead = [d for d in candidates if d >= today]
    # None for 29 Feb with no leap year near.
    return ahead[0] if ahead else None


class DateProblem(StrEnum):
    NOT_FUTURE = "not_future"
    NOT_WORKING_DAY = "not_working_day"
    NOT_AFTER_DUE = "not_after_due"
    TOO_FAR = "too_far"


def new_due_date_problem(new: date, *, current_due: date, today: date) -> DateProblem | None:
    """Why `new` cannot be an action's new due date: a future working day after the current one."""
    if new <= today:
        return DateProblem.NOT_FUTURE
    if new <= current_due:
        return DateProblem.NOT_AFTER_DUE
    if new > today + MAX_AHEAD:
        return DateProblem.TOO_FAR
    if not is_working_day(new):
        return DateProblem.NOT_WORKING_DAY
    return None

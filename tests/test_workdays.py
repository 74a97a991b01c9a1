"""Working days: weekends and England and Wales bank holidays are never working days."""

from __future__ import annotations

import random
from datetime import date, timedelta

from bot.rules.workdays import add_working_days, is_working_day, working_days_between


def test_an_inadequate_audit_on_christmas_eve_has_its_meeting_due_on_new_years_eve() -> None:
    # Thu 24 Dec 2026 + 3 working days skips Christmas, Boxing Day (substitute Mon 28) and the weekend.
    assert add_working_days(date(2026, 12, 24), 3) == date(2026, 12, 31)


def test_bank_holidays_and_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day falls on a Saturday
    assert not is_working_day(date(2026, 5, 25))  # spring bank holiday
    assert not is_working_day(date(2026, 11, 28))  # a Saturday
    assert is_working_day(date(2026, 11, 26))


def test_a_part_time_pattern_narrows_the_week() -> None:
    assert not is_working_day(date(2026, 11, 27), weekdays=(1, 2, 3))  # a Friday
    assert is_working_day(date(2026, 11, 25), weekdays=(1, 2, 3))


def test_counting_working_days_matches_walking_the_calendar() -> None:
    rng = random.Random(2026)
    for _ in range(2000):
        earlier = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 900))
        later = earlier + timedelta(days=rng.randrange(-5, 120))
        walked = sum(
            1
            for n in range(1, (later - earlier).days + 1)
            if is_working_day(earlier + timedelta(days=n))
        )
        assert working_days_between(earlier, later) == walked, (earlier, later)


def test_a_working_pattern_is_read_one_way_everywhere() -> None:
    from bot.rules.workdays import FULL_TIME, weekdays_of

    assert weekdays_of("1234") == (1, 2, 3, 4)
    assert weekdays_of("531") == (1, 3, 5)
    # Blank or unreadable: full time, never "works no day", which would stop every reminder.
    assert weekdays_of("") == FULL_TIME
    assert weekdays_of(None) == FULL_TIME
    assert weekdays_of("89") == FULL_TIME

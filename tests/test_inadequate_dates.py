"""When the response to an audit is due (bot.rules.deadlines): by default the action meeting 3
working days after the audit is completed, the child visit the next working day, England and Wales
bank holidays skipped; a tenant may choose other numbers, or calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.rules.deadlines import Deadline, Deadlines, Unit, deadline_of, meeting_due, visit_due
from storage.db import SessionMaker, transaction
from storage.models import Audit
from tests.helpers import audit_council, grade_inadequate


@pytest.mark.parametrize(
    ("graded", "visit", "meeting"),
    [
        # The example: Christmas Day, then Boxing Day on a Saturday (Monday off instead).
        (date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 31)),
        # New Year's Day 2027 is a Friday.
        (date(2026, 12, 31), date(2027, 1, 4), date(2027, 1, 6)),
        # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
        (date(2027, 3, 25), date(2027, 3, 30), date(2027, 4, 1)),
        # The early May bank holiday, Monday 4 May 2026.
        (date(2026, 5, 1), date(2026, 5, 5), date(2026, 5, 7)),
        # An ordinary Thursday runs over the weekend.
        (date(2026, 11, 26), date(2026, 11, 27), date(2026, 12, 1)),
        # Graded on a Saturday: the next working day is Monday.
        (date(2026, 11, 28), date(2026, 11, 30), date(2026, 12, 2)),
    ],
)
def test_meeting_and_visit_due_dates_skip_weekends_and_bank_holidays(
    graded: date, visit: date, meeting: date
) -> None:
    assert visit_due(graded) == visit
    assert meeting_due(graded) == meeting


def test_a_tenant_may_count_in_calendar_days_or_set_other_numbers() -> None:
    chosen = Deadlines(meeting=Deadline(2, Unit.CALENDAR), visit=Deadline(2, Unit.WORKING))
    # Thu 24 Dec 2026: two calendar days is Boxing Day; two working days skip to Tue 29 Dec.
    assert meeting_due(date(2026, 12, 24), chosen) == date(2026, 12, 26)
    assert visit_due(date(2026, 12, 24), chosen) == date(2026, 12, 30)


@pytest.mark.parametrize(
    ("deadline", "words"),
    [
        (Deadline(3, Unit.WORKING), "within 3 working days"),
        (Deadline(1, Unit.WORKING), "by the next working day"),
        (Deadline(2, Unit.CALENDAR), "within 2 calendar days"),
        (Deadline(1, Unit.CALENDAR), "by the next day"),
    ],
)
def test_a_deadline_in_words(deadline: Deadline, words: str) -> None:
    assert deadline.words == words


def test_a_deadline_out_of_range_or_in_another_unit_is_refused_with_a_reason() -> None:
    assert deadline_of(3, "working") == Deadline(3, Unit.WORKING)
    assert deadline_of(0, "working") == "The number of days must be from 1 to 20, not 0."
    assert deadline_of(21, "calendar") == "The number of days must be from 1 to 20, not 21."
    assert deadline_of(3, "weeks") == "The unit must be working or calendar, not 'weeks'."


async def test_an_audit_graded_on_christmas_eve_has_its_meeting_due_on_new_years_eve(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    audit = await grade_inadequate(
        sessions, council, now=datetime(2026, 12, 24, 15, 30, tzinfo=UTC), risk=True
    )

    assert audit.meeting_due_on == date(2026, 12, 31)
    assert audit.visit_due_on == date(2026, 12, 29)


async def test_the_completion_day_is_the_london_day_not_the_utc_one(
    sessions: SessionMaker,
) -> None:
    # 23:30 UTC on Wed 24 June 2026 is 00:30 on Thu 25 June in London (BST).
    council = await audit_council(sessions)
    audit = await grade_inadequate(
        sessions, council, now=datetime(2026, 6, 24, 23, 30, tzinfo=UTC), risk=True
    )

    assert audit.visit_due_on == date(2026, 6, 26)
    assert audit.meeting_due_on == date(2026, 6, 30)


async def test_without_risk_identified_no_visit_is_due(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    audit = await grade_inadequate(
        sessions, council, now=datetime(2026, 12, 24, 10, 0, tzinfo=UTC), risk=False
    )

    assert audit.meeting_due_on == date(2026, 12, 31)
    assert audit.visit_due_on is None
    async with transaction(sessions) as session:
        stored = await session.get(Audit, audit.id)
        assert stored is not None and stored.visit_due_on is None

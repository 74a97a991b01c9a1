"""When the inadequate response is due: the action meeting 3 working days after the audit is
completed, the child visit the next working day, England and Wales bank holidays skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.inadequate import MEETING_WORKING_DAYS, VISIT_WORKING_DAYS
from bot.rules.workdays import add_working_days
from storage.db import SessionMaker, transaction
from storage.models import Audit
from tests.audit_helpers import audit_council
from tests.inadequate_helpers import grade_inadequate


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
    assert add_working_days(graded, VISIT_WORKING_DAYS) == visit
    assert add_working_days(graded, MEETING_WORKING_DAYS) == meeting


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

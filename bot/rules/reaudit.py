"""Re-audit: tracking children where practice was judged inadequate (the framework's "closing the
loop"). Which audits are re-audited and when, how a re-audit's grades compare with the original's
per standard, and when an action counts as verified.

Pure: storage fetches the grades and states, these decide.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.rules.grades import GRADE_RANK, ActionState, Grade, Standard
from bot.rules.lifecycle import CANCEL_REASONS, CaseStatus
from bot.rules.workdays import is_working_day, next_working_day

# The framework's: re-audit every inadequate case after 3 months.
DEFAULT_MONTHS = 3
# The setting refuses a longer wait: a re-audit is a check that practice changed, not a new audit.
MAX_MONTHS = 12
# `inadequate` lists the cases judged inadequate this many months back.
LOOKBACK_MONTHS = 12

# Why a re-audit was not made, or was cancelled (audit-logged; shown in `inadequate`).
CASE_CLOSED = CANCEL_REASONS[CaseStatus.CLOSED]
NO_OTHER_AUDITOR = "no other auditor"


@dataclass(frozen=True, slots=True)
class Policy:
    """A tenant's setting: how many months on, and whether requires improvement is re-audited too."""

    months: int = DEFAULT_MONTHS
    requires_improvement: bool = False


DEFAULT_POLICY = Policy()


def needs_reaudit(overall: str | None, policy: Policy = DEFAULT_POLICY) -> bool:
    """An audit graded inadequate overall; requires improvement too if the tenant says so."""
    if overall == Grade.INADEQUATE:
        return True
    return policy.requires_improvement and overall == Grade.REQUIRES_IMPROVEMENT


def months_on(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it has no such day (30 Nov + 3
    months is 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def reaudit_due(completed_on: date, policy: Policy = DEFAULT_POLICY) -> date:
    """The re-audit is due `policy.months` after the original was completed, on that day if it is
    a working day, else the next one (weekends and England and Wales bank holidays)."""
    due = months_on(completed_on, policy.months)
    return due if is_working_day(due) else next_working_day(due)


def policy_problem(months: int) -> str | None:
    """Why `months` cannot be the setting, as a sentence; None if it can."""
    if not 1 <= months <= MAX_MONTHS:
        return f"The re-audit must be from 1 to {MAX_MONTHS} months on, not {months}."
    return None


class Change(StrEnum):
    IMPROVED = "improved"
    SAME = "same"
    WORSE = "worse"


CHANGE_LABELS = {Change.IMPROVED: "Improved", Change.SAME: "Same", Change.WORSE: "Worse"}

_RANK = GRADE_RANK  # best first: a lower rank is better


def standard_change(before: str | None, after: str | None) -> Change | None:
    """How one standard moved from the original's grade to the re-audit's; None if either is
    missing (or not a grade)."""
    if before not in _RANK or after not in _RANK:
        return None
    if _RANK[after] < _RANK[before]:
        return Change.IMPROVED
    if _RANK[after] > _RANK[before]:
        return Change.WORSE
    return Change.SAME


def compare(
    original: Mapping[str, str | None], again: Mapping[str, str | None]
) -> dict[Standard, Change | None]:
    """Per standard, in the framework's order: improved, same or worse."""
    return {s: standard_change(original.get(s), again.get(s)) for s in Standard}


def is_done(state: str) -> bool:
    return state in (ActionState.DONE, ActionState.CONFIRMED)


def is_verified(
    *, state: str, standard: str | None, reaudit_grades: Mapping[str, str | None] | None
) -> bool:
    """A done action is verified only once a completed re-audit shows the standard it targets
    is no longer inadequate. One that targets no standard (a meeting's action) never is."""
    if not is_done(state) or standard is None or reaudit_grades is None:
        return False
    grade = reaudit_grades.get(standard)
    return grade is not None and grade != Grade.INADEQUATE

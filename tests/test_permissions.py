"""Who may do what to an action, and the date rules, on their own (no database, no bot)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.rules.dates import DateProblem, new_due_date_problem, parse_day
from bot.rules.permissions import (
    MANAGER_VERBS,
    OWNER_VERBS,
    Person,
    TeamScope,
    Verb,
    may,
    team_scope,
)

TEAM, OTHER_TEAM, SERVICE, OTHER_SERVICE = 1, 2, 10, 20

ALEX = Person(
    id=1, roles=frozenset({"practitioner"}), team_id=TEAM, service_id=SERVICE, manager_id=2
)
MEGAN = Person(id=2, roles=frozenset({"team_manager"}), team_id=TEAM, service_id=SERVICE)
ANOTHER_TM = Person(id=3, roles=frozenset({"team_manager"}), team_id=TEAM, service_id=SERVICE)
OTHER_TM = Person(id=4, roles=frozenset({"team_manager"}), team_id=OTHER_TEAM, service_id=SERVICE)
SM = Person(id=5, roles=frozenset({"service_manager"}), service_id=SERVICE)
OTHER_HOS = Person(id=6, roles=frozenset({"head_of_service"}), service_id=OTHER_SERVICE)
QA = Person(id=7, roles=frozenset({"qa"}))
COLLEAGUE = Person(
    id=8, roles=frozenset({"practitioner", "auditor"}), team_id=TEAM, service_id=SERVICE
)


@pytest.mark.parametrize("verb", sorted(OWNER_VERBS))
def test_only_the_owner_or_qa_mark_done_snooze_or_ask_for_more_time(verb: Verb) -> None:
    assert may(verb, ALEX, ALEX)
    assert may(verb, QA, ALEX)
    for someone in (MEGAN, ANOTHER_TM, SM, COLLEAGUE, OTHER_TM):
        assert not may(verb, someone, ALEX), someone


@pytest.mark.parametrize("verb", sorted(MANAGER_VERBS))
def test_the_owner_s_managers_or_qa_decide_and_confirm(verb: Verb) -> None:
    # Line manager, a team manager of the owner's team, an SM of the owner's service, QA.
    for manager in (MEGAN, ANOTHER_TM, SM, QA):
        assert may(verb, manager, ALEX), manager
    # The owner, a colleague, a team manager of another team, a HoS of another service.
    for other in (ALEX, COLLEAGUE, OTHER_TM, OTHER_HOS):
        assert not may(verb, other, ALEX), other


def test_nobody_decides_on_their_own_action_not_even_qa() -> None:
    qa_owner = Person(id=9, roles=frozenset({"qa", "team_manager"}), team_id=TEAM)
    assert not may(Verb.CONFIRM_DONE, qa_owner, qa_owner)
    assert not may(Verb.DECIDE_EXTENSION, MEGAN, MEGAN)
    assert may(Verb.MARK_DONE, qa_owner, qa_owner)


def test_a_line_manager_in_another_team_still_manages() -> None:
    seconded = Person(id=10, roles=frozenset({"practitioner"}), team_id=OTHER_TEAM, manager_id=2)
    assert may(Verb.CONFIRM_DONE, MEGAN, seconded)
    assert not may(Verb.CONFIRM_DONE, ANOTHER_TM, seconded)


def test_team_scope_is_the_widest_the_roles_give() -> None:
    assert team_scope(QA) == TeamScope("all", None, QA.id)
    assert team_scope(SM) == TeamScope("service", SERVICE, SM.id)
    assert team_scope(MEGAN) == TeamScope("team", TEAM, MEGAN.id)
    assert team_scope(ALEX) is None
    assert team_scope(COLLEAGUE) is None


TODAY = date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("24 Dec", date(2026, 12, 24)),
        ("24 december", date(2026, 12, 24)),
        ("24th Dec", date(2026, 12, 24)),
        ("Dec 24", date(2026, 12, 24)),
        ("24/12/2026", date(2026, 12, 24)),
        ("24/12/26", date(2026, 12, 24)),
        ("24/12", date(2026, 12, 24)),
        ("2026-12-24", date(2026, 12, 24)),
        ("friday", date(2026, 11, 27)),
        ("Thu", date(2026, 12, 3)),  # today is Thursday: the next one
        ("today", TODAY),
        ("tomorrow", date(2026, 11, 27)),
        ("3 Jan", date(2027, 1, 3)),  # nearer next year than this
        ("26 Nov", TODAY),
        ("20 Nov", date(2026, 11, 20)),  # just gone: not a year away
        ("20/11", date(2026, 11, 20)),
        ("1 Jun", date(2027, 6, 1)),  # long gone: next year's
        ("29 Feb", None),  # not in 2025, 2026 or 2027
        ("31/02/2027", None),
        ("someday", None),
        ("", None),
    ],
)
def test_dates_as_people_type_them(typed: str, expected: date | None) -> None:
    assert parse_day(typed, today=TODAY) == expected


def test_a_day_just_gone_in_january_is_last_december_s() -> None:
    assert parse_day("30 Dec", today=date(2027, 1, 5)) == date(2026, 12, 30)


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (date(2026, 12, 10), None),
        (TODAY, DateProblem.NOT_FUTURE),
        (date(2026, 11, 20), DateProblem.NOT_FUTURE),
        (date(2026, 12, 3), DateProblem.NOT_AFTER_DUE),
        (date(2026, 12, 12), DateProblem.NOT_WORKING_DAY),  # Saturday
        (date(2026, 12, 28), DateProblem.NOT_WORKING_DAY),  # Boxing Day, substitute
        (date(2027, 12, 1), DateProblem.TOO_FAR),
    ],
)
def test_a_new_due_date_is_a_future_working_day_after_the_current_one(
    new: date, problem: DateProblem | None
) -> None:
    assert new_due_date_problem(new, current_due=date(2026, 12, 3), today=TODAY) == problem


def test_an_overdue_action_may_move_to_any_future_working_day() -> None:
    assert (
        new_due_date_problem(date(2026, 11, 27), current_due=date(2026, 11, 2), today=TODAY) is None
    )

"""The SMART check for an action and the limiting-judgement rule, on their own (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.rules.grades import (
    Standard,
    limiting_judgement_applies,
    limiting_judgement_problem,
    needs_action,
)
from bot.rules.smart import SmartField, SmartProblem, smart_problems
from cards.action_form import problem_messages

TODAY = date(2026, 11, 26)  # a Thursday
GOOD = {s.value: "good" for s in Standard}


def check(**given: object) -> dict[SmartField, SmartProblem]:
    fields: dict[str, object] = {
        "what": "Update the plan with dates",
        "measure": "Plan on file, reviewed by the TM",
        "owner_given": True,
        "owner_known": True,
        "due_on": date(2026, 12, 3),
        "today": TODAY,
    }
    return smart_problems(**(fields | given))  # type: ignore[arg-type]


def test_a_specific_measurable_owned_action_due_on_a_future_working_day_is_smart() -> None:
    assert check() == {}


@pytest.mark.parametrize(
    ("given", "field", "problem"),
    [
        ({"what": "  "}, SmartField.WHAT, SmartProblem.WHAT_MISSING),
        ({"what": "Plan"}, SmartField.WHAT, SmartProblem.WHAT_VAGUE),
        ({"measure": ""}, SmartField.MEASURE, SmartProblem.MEASURE_MISSING),
        ({"measure": "Done"}, SmartField.MEASURE, SmartProblem.MEASURE_VAGUE),
        ({"measure": "Is ok ok"}, SmartField.MEASURE, SmartProblem.MEASURE_VAGUE),
        ({"owner_given": False}, SmartField.OWNER, SmartProblem.OWNER_MISSING),
        ({"owner_known": False}, SmartField.OWNER, SmartProblem.OWNER_UNKNOWN),
        ({"due_on": None}, SmartField.DUE_ON, SmartProblem.DUE_MISSING),
        ({"due_on": TODAY}, SmartField.DUE_ON, SmartProblem.DUE_NOT_FUTURE),
        ({"due_on": date(2026, 11, 2)}, SmartField.DUE_ON, SmartProblem.DUE_NOT_FUTURE),
        ({"due_on": date(2026, 11, 28)}, SmartField.DUE_ON, SmartProblem.DUE_NOT_WORKING_DAY),
        ({"due_on": date(2026, 12, 28)}, SmartField.DUE_ON, SmartProblem.DUE_NOT_WORKING_DAY),
        ({"due_on": date(2028, 1, 4)}, SmartField.DUE_ON, SmartProblem.DUE_TOO_FAR),
    ],
)
def test_each_way_an_action_is_not_smart(
    given: dict[str, object], field: SmartField, problem: SmartProblem
) -> None:
    assert check(**given) == {field: problem}


def test_a_part_time_owner_s_day_off_is_not_a_working_day_for_them() -> None:
    friday = date(2026, 11, 27)
    assert check(due_on=friday, owner_weekdays=(1, 2, 3)) == {
        SmartField.DUE_ON: SmartProblem.DUE_OWNER_OFF
    }
    assert check(due_on=friday) == {}


def test_every_problem_has_words_and_dates_read_the_uk_way() -> None:
    every = {
        SmartField.WHAT: SmartProblem.WHAT_VAGUE,
        SmartField.DUE_ON: SmartProblem.DUE_NOT_WORKING_DAY,
    }
    words = problem_messages(every, due_on=date(2026, 12, 25), owner_name=None, today=TODAY)
    assert words == {
        "what": "Say a little more about what will be done, so it is specific.",
        "due_on": "Fri 25 Dec is not a working day. Choose a weekday that is not a bank holiday.",
    }
    off = problem_messages(
        {SmartField.DUE_ON: SmartProblem.DUE_OWNER_OFF},
        due_on=date(2026, 11, 27),
        owner_name="Lynne Robbins",
        today=TODAY,
    )
    assert (
        off["due_on"] == "Lynne Robbins doesn't work on Fridays. Choose one of their working days."
    )
    for problem in SmartProblem:
        assert problem_messages(
            {SmartField.WHAT: problem}, due_on=TODAY, owner_name="Sam", today=TODAY
        )["what"]


# Limiting judgement


def test_an_inadequate_standard_limits_a_better_overall_grade_without_a_reason() -> None:
    grades = GOOD | {"records": "inadequate", "oversight": "inadequate"}

    assert limiting_judgement_problem(grades, "good", None) == [
        Standard.RECORDS,
        Standard.OVERSIGHT,
    ]
    assert limiting_judgement_problem(grades, "good", "   ") == [
        Standard.RECORDS,
        Standard.OVERSIGHT,
    ]
    assert limiting_judgement_problem(grades, "good", "One late record, practice sound") == []
    assert limiting_judgement_problem(grades, "inadequate", None) == []
    assert limiting_judgement_applies(grades, "requires_improvement")
    assert not limiting_judgement_applies(grades, "inadequate")


def test_without_an_inadequate_standard_any_overall_grade_stands() -> None:
    grades = GOOD | {"plans": "requires_improvement"}
    assert limiting_judgement_problem(grades, "outstanding", None) == []
    assert limiting_judgement_problem(grades, "inadequate", None) == []
    assert not limiting_judgement_applies(grades, "outstanding")


def test_requires_improvement_and_inadequate_standards_need_an_action() -> None:
    assert [
        g
        for g in ("outstanding", "good", "requires_improvement", "inadequate", None)
        if needs_action(g)
    ] == [
        "requires_improvement",
        "inadequate",
    ]

"""Who is chased on which day, and for what: the pure reminder and escalation rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.rules.reminders import (
    ActionDue,
    AuditDue,
    FeedbackOwed,
    Person,
    bundles,
    escalations,
    feedback_listed_since,
    on_the_days_card,
)
from bot.rules.workdays import add_working_days
from cards.common import card_json
from cards.my_qa import my_qa_card

THU = date(2026, 11, 26)
ALEX = Person(id=1, name="Alex Wilber", team_id=10, service_id=100, manager_id=2)
MEGAN = Person(id=2, name="Megan Bowen", roles=frozenset({"team_manager"}), team_id=10)
SAM = Person(
    id=3, name="Sam Lead", roles=frozenset({"service_manager"}), service_id=100, team_id=None
)
PEOPLE = {p.id: p for p in (ALEX, MEGAN, SAM)}


def action(id: int, due_on: date, *, owner: int = 1, **more: object) -> ActionDue:
    return ActionDue(
        id=id,
        owner_id=owner,
        what=f"Action {id}",
        due_on=due_on,
        case_ref="C-10044",
        standard="plans",
        **more,  # type: ignore[arg-type]
    )


def audit(id: int, due_on: date, *, state: str = "assigned", auditor: int = 1) -> AuditDue:
    return AuditDue(
        id=id,
        auditor_id=auditor,
        case_ref="C-20044",
        kind="collaborative",
        theme=None,
        state=state,
        due_on=due_on,
    )


def owed(audit_id: int, completed_on: date, practitioner: int = 1) -> FeedbackOwed:
    return FeedbackOwed(
        audit_id=audit_id,
        practitioner_id=practitioner,
        case_ref="C-30044",
        completed_on=completed_on,
    )


def chased(
    today: date,
    *,
    people: list[Person] | None = None,
    actions: list[ActionDue] = (),  # type: ignore[assignment]
    audits: list[AuditDue] = (),  # type: ignore[assignment]
    feedback: list[FeedbackOwed] = (),  # type: ignore[assignment]
) -> dict[int, tuple[list[int], list[int], list[int]]]:
    """Who gets a card on `today`, with the action, audit and feedback ids on it."""
    return {
        b.person.id: (
            [a.id for a in b.actions],
            [a.id for a in b.audits],
            [f.audit_id for f in b.feedback],
        )
        for b in bundles(
            people=people or [ALEX],
            actions=actions,
            audits=audits,
            feedback=feedback,
            today=today,
        )
    }


def test_alex_gets_actions_due_within_three_working_days_today_or_overdue_oldest_first() -> None:
    horizon = add_working_days(THU, 3)
    assert horizon == date(2026, 12, 1)  # Thu → Fri, Mon, Tue
    items = [
        action(1, horizon),
        action(2, horizon + timedelta(days=1)),
        action(3, THU),
        action(4, THU - timedelta(days=30)),
    ]
    assert chased(THU, actions=items) == {1: ([4, 3, 1], [], [])}


def test_nobody_is_chased_on_christmas_day_or_the_substitute_boxing_day() -> None:
    overdue = [action(1, date(2026, 12, 1))]
    for holiday in (date(2026, 12, 25), date(2026, 12, 28)):
        assert chased(holiday, actions=overdue) == {}
    assert chased(date(2026, 12, 29), actions=overdue) == {1: ([1], [], [])}


def test_the_horizon_skips_christmas_so_the_eve_sees_new_years_eve() -> None:
    items = [action(1, date(2026, 12, 31)), action(2, date(2027, 1, 4))]
    assert chased(date(2026, 12, 24), actions=items) == {1: ([1], [], [])}


def test_nobody_is_chased_at_the_weekend() -> None:
    assert chased(date(2026, 11, 28), actions=[action(1, THU)]) == {}


def test_a_snooze_moves_the_reminder_not_the_due_date() -> None:
    snoozed = action(1, THU - timedelta(days=3), snoozed_until=date(2026, 11, 27))
    assert chased(THU, actions=[snoozed]) == {}
    assert chased(date(2026, 11, 27), actions=[snoozed]) == {1: ([1], [], [])}
    # A snooze that has passed does not hide it for ever.
    assert chased(date(2026, 11, 30), actions=[snoozed]) == {1: ([1], [], [])}


def test_nothing_while_away_and_reminders_resume_the_day_after() -> None:
    away = Person(id=1, name="Alex Wilber", away_until=date(2026, 11, 27))
    items = [action(1, THU)]
    assert chased(THU, people=[away], actions=items) == {}
    assert chased(date(2026, 11, 27), people=[away], actions=items) == {}
    assert chased(date(2026, 11, 30), people=[away], actions=items) == {1: ([1], [], [])}


def test_a_part_time_worker_is_chased_only_on_their_days() -> None:
    mon_to_wed = Person(id=1, name="Alex Wilber", working_days="123")
    items = [action(1, date(2026, 11, 20))]
    assert chased(THU, people=[mon_to_wed], actions=items) == {}
    assert chased(date(2026, 11, 27), people=[mon_to_wed], actions=items) == {}
    assert chased(date(2026, 11, 30), people=[mon_to_wed], actions=items) == {1: ([1], [], [])}


def test_nothing_for_someone_the_bot_cannot_reach() -> None:
    gone = Person(id=1, name="Alex Wilber", reachable=False)
    assert chased(THU, people=[gone], actions=[action(1, THU)]) == {}


def test_nothing_for_someone_with_nothing_due() -> None:
    later = [action(1, date(2026, 12, 2)), action(2, THU, state="done")]
    assert chased(THU, actions=later, audits=[audit(1, THU, state="completed")]) == {}


def test_audits_being_done_and_due_are_in_the_bundle() -> None:
    audits = [
        audit(1, THU - timedelta(days=2), state="in_progress"),
        audit(2, date(2026, 12, 1)),
        audit(3, date(2026, 12, 2)),
        audit(4, THU, state="cancelled"),
    ]
    assert chased(THU, audits=audits) == {1: ([], [1, 2], [])}


def test_feedback_is_asked_for_during_the_week_after_the_audit() -> None:
    feedback = [owed(1, THU - timedelta(days=7)), owed(2, THU - timedelta(days=8)), owed(3, THU)]
    assert chased(THU, feedback=feedback) == {1: ([], [], [1, 3])}


def test_one_bundle_per_person_with_everything_and_a_count() -> None:
    (bundle,) = bundles(
        people=[ALEX, MEGAN],
        actions=[action(1, THU), action(2, THU, owner=2)],
        audits=[audit(5, THU)],
        feedback=[owed(6, THU)],
        today=THU,
    )[:1]
    assert bundle.person == ALEX and bundle.count == 3
    assert bundle.subjects == ["action:1", "audit:5", "feedback:6"]


# --- escalation -----------------------------------------------------------------------------------


def escalated(
    today: date, actions: list[ActionDue], people: dict[int, Person] = PEOPLE
) -> dict[int, tuple[list[int], list[int]]]:
    return {
        e.manager.id: ([i.action.id for i in e.team], [i.action.id for i in e.service])
        for e in escalations(actions=actions, people=people, today=today)
    }


def test_five_working_days_overdue_goes_to_the_team_manager_ten_to_the_service_manager() -> None:
    four = action(1, add_working_days(THU, -4))
    five = action(2, add_working_days(THU, -5))
    nine = action(3, add_working_days(THU, -9))
    ten = action(4, add_working_days(THU, -10))
    assert escalated(THU, [four]) == {}
    assert escalated(THU, [four, five, nine, ten]) == {2: ([4, 3, 2], []), 3: ([], [4])}


def test_a_late_child_visit_or_action_meeting_is_escalated_from_the_first_working_day() -> None:
    late = add_working_days(THU, -1)
    visit = action(1, late, source="child_visit")
    ordinary = action(2, late)
    meeting = action(3, add_working_days(THU, -2), source="action_meeting")
    long_overdue = action(4, add_working_days(THU, -6))

    assert escalated(THU, [ordinary]) == {}
    # Megan hears of the visit and the meeting a day late; Sam (service) of the meeting at two.
    # They come before an ordinary action, however long that is overdue.
    assert escalated(THU, [long_overdue, ordinary, visit, meeting]) == {
        2: ([3, 1, 4], []),
        3: ([], [3]),
    }


def test_without_a_named_manager_the_team_managers_of_the_team_are_told() -> None:
    no_manager = Person(id=1, name="Alex Wilber", team_id=10, service_id=100)
    people = {**PEOPLE, 1: no_manager}
    assert escalated(THU, [action(1, add_working_days(THU, -6))], people) == {2: ([1], [])}


def test_a_team_managers_own_overdue_action_is_not_escalated_to_themselves() -> None:
    megans = action(1, add_working_days(THU, -12), owner=2)
    people = {
        **PEOPLE,
        2: Person(
            id=2, name="Megan", roles=frozenset({"team_manager"}), team_id=10, service_id=100
        ),
    }
    assert escalated(THU, [megans], people) == {3: ([], [1])}


def test_a_manager_who_is_both_gets_each_action_once() -> None:
    both = Person(
        id=2,
        name="Megan Bowen",
        roles=frozenset({"team_manager", "service_manager"}),
        team_id=10,
        service_id=100,
    )
    people = {1: ALEX, 2: both}
    assert escalated(THU, [action(1, add_working_days(THU, -11))], people) == {2: ([1], [])}


def test_an_away_manager_gets_no_escalation_and_nobody_is_escalated_to_on_a_bank_holiday() -> None:
    away = {
        **PEOPLE,
        2: Person(
            id=2, name="Megan", roles=frozenset({"team_manager"}), team_id=10, away_until=THU
        ),
    }
    assert escalated(THU, [action(1, add_working_days(THU, -6))], away) == {}
    assert escalated(date(2026, 12, 25), [action(1, date(2026, 12, 1))]) == {}


HOLLY = Person(id=4, name="Holly Head", roles=frozenset({"head_of_service"}), service_id=100)
LADDER = {**PEOPLE, 4: HOLLY}


def test_an_overdue_child_visit_goes_to_the_tm_then_sm_then_head_of_service() -> None:
    def told(days: int) -> dict[int, tuple[list[int], list[int]]]:
        visit = action(1, add_working_days(THU, -days), source="child_visit")
        return escalated(THU, [visit], LADDER)

    assert told(1) == {2: ([1], [])}
    assert told(2) == {2: ([1], []), 3: ([], [1])}
    assert told(3) == {2: ([1], []), 3: ([], [1]), 4: ([], [1])}
    # An ordinary action never reaches the head of service.
    assert escalated(THU, [action(2, add_working_days(THU, -30))], LADDER) == {
        2: ([2], []),
        3: ([], [2]),
    }


def test_an_away_or_missing_rung_passes_a_safeguarding_step_up_the_same_day() -> None:
    visit = action(1, add_working_days(THU, -1), source="child_visit")
    megan_away = {**LADDER, 2: replace(MEGAN, away_until=THU)}
    # Megan is away on its first day overdue: Sam has it that day, not the next.
    assert escalated(THU, [visit], megan_away) == {3: ([], [1])}
    # Sam cannot be reached either: Holly has it.
    both_gone = {**megan_away, 3: replace(SAM, reachable=False)}
    assert escalated(THU, [visit], both_gone) == {4: ([], [1])}
    # No team manager at all, and no service manager in the service.
    no_managers = {1: Person(id=1, name="Alex Wilber", team_id=10, service_id=100), 4: HOLLY}
    assert escalated(THU, [visit], no_managers) == {4: ([], [1])}
    # An ordinary action waits for Megan, as before.
    ordinary = action(2, add_working_days(THU, -6))
    assert escalated(THU, [ordinary], megan_away) == {}


def test_the_day_s_card_and_feedback_count_the_same_forms_owed() -> None:
    """The card asks for this week's forms and counts the month's others as "more from earlier";
    `feedback` lists them all (from feedback_listed_since): together they agree."""
    forms = [
        owed(1, THU - timedelta(days=2)),  # asked for on the card
        owed(2, THU - timedelta(days=20)),  # owed, no longer asked for: earlier
        owed(3, THU - timedelta(days=45)),  # past the list's window: neither
    ]
    [bundle] = bundles(
        people=[ALEX], actions=[action(9, THU)], audits=[], feedback=forms, today=THU
    )
    assert [f.audit_id for f in bundle.feedback] == [1]
    assert bundle.earlier_feedback == 1
    listed = [f for f in forms if f.completed_on >= feedback_listed_since(THU)]
    assert len(listed) == len(bundle.feedback) + bundle.earlier_feedback
    text = str(card_json(my_qa_card(bundle)))
    assert "1 more form from earlier in the month" in text
    # Forms owed only from earlier make no card on their own: nothing needs Alex today.
    assert bundles(people=[ALEX], actions=[], audits=[], feedback=forms[1:], today=THU) == []


def test_a_card_drawn_again_lists_what_it_showed_and_counts_what_is_due() -> None:
    snoozed_before = action(1, THU, snoozed_until=THU + timedelta(days=1))
    snoozed_today = action(2, THU, snoozed_until=THU + timedelta(days=1))
    due = action(3, THU)
    shown = frozenset({2, 3})  # the morning's card: 1 was snoozed already
    listed = [a.id for a in (snoozed_before, snoozed_today, due) if on_the_days_card(a, THU, shown)]
    assert listed == [2, 3]

"""The inadequate response over HTTP on a fixed clock (Thu 26 Nov 2026 10:02): the alert to the
service's HoS and SM, the team manager and QA; "Meeting held" and "Visit done" from the cards; the
wrong person, a second press, a stale card, bad values and a malformed payload."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from bot.settings import Settings
from cards.names import CardKind
from jobs import reminders
from jobs.runs import JobDeps
from storage.db import SessionMaker, transaction
from storage.models import Action, ActionMeeting, Audit, ExtensionRequest
from tests.chat import (
    ADELE,
    ALEX,
    GRADY,
    ISAIAH,
    LYNNE,
    MEGAN,
    NESTOR,
    PATTI,
    Chat,
    button,
    card_text,
    inputs,
    nodes,
    press,
)
from tests.helpers import (
    NOW,
    Clock,
    action_row,
    add_assigned_audit,
    audit_council,
    audit_row,
    everyone_says_hello,
    grade_inadequate,
    logged,
    post_card,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


CASE = "C-10001"  # alex's case in North


async def actions_of(sessions: SessionMaker, audit_id: int) -> list[Action]:
    async with sessions() as session:
        rows = await session.exec(
            select(Action).where(Action.audit_id == audit_id).order_by(col(Action.id))
        )
        return list(rows.all())


async def meetings(sessions: SessionMaker) -> list[ActionMeeting]:
    async with sessions() as session:
        return list((await session.exec(select(ActionMeeting))).all())


def meeting_form(audit_id: int, **values: str) -> dict[str, Any]:
    """What "Record the meeting" sends: one action for alex and one for megan (both by email),
    unless `values` say otherwise."""
    return {
        "action": "meeting_held",
        "audit_id": audit_id,
        "held_on": "2026-11-26",
        "attendees": "SW Alex Wilber, TM Megan Bowen, SM Adele Vance, IRO, CP chair",
        "what_1": "Update the child's plan with the outcome of the strategy meeting",
        "measure_1": "Plan on the case file shows the agreed outcomes and dates",
        "owner_1": "",
        "owner_email_1": "alexw@example.com",
        "due_on_1": "2026-12-03",
        "what_2": "Supervise the case fortnightly and record it",
        "measure_2": "Two supervision records on file by the due date",
        "owner_email_2": "MeganB@example.com",
        "due_on_2": "2026-12-10",
        **values,
    }


# The alert


async def test_an_inadequate_audit_alerts_the_hos_sm_tm_and_qa_once_each(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)

    audit = await grade_inadequate(sessions, council, risk=True)

    assert audit.meeting_due_on == date(2026, 12, 1)  # Thu + 3 working days
    assert audit.visit_due_on == date(2026, 11, 27)
    meeting, visit = await actions_of(sessions, audit.id or 0)
    assert (meeting.source, meeting.owner_id, meeting.due_on) == (
        "action_meeting",
        council.id("adele"),  # the service manager arranges it
        date(2026, 12, 1),
    )
    assert meeting.what == "Hold a multi-disciplinary action meeting on the inadequate audit"
    assert (visit.source, visit.owner_id, visit.due_on) == (
        "child_visit",
        council.id("alex"),  # the social worker visits
        date(2026, 11, 27),
    )
    assert meeting.state == visit.state == "open"
    assert [r.after for r in await logged(sessions, "audit.inadequate_response")] == [
        {"meeting_due_on": "2026-12-01", "visit_due_on": "2026-11-27"}
    ]
    assert len(await logged(sessions, "action.created")) == 2

    alerts = await queued(sessions, "inadequate_alert")
    assert sorted(d.recipient_staff_id or 0 for d in alerts) == sorted(
        council.id(k) for k in ("isaiah", "adele", "megan", "patti")
    )  # not the other service's HoS (grady), not the other team's TM (nestor)
    for alert in alerts:
        assert alert.summary == "An audit was graded inadequate: action meeting due Tue 1 Dec"
        assert CASE not in alert.summary
        assert alert.subjects == [
            f"audit:{audit.id}",
            f"action:{meeting.id}",
            f"action:{visit.id}",
        ]
    shown = card_text(alerts[0].card)
    for expected in (
        CASE,
        "North",
        "Practitioner: Alex Wilber",
        "Auditor: Patti Fernandez",
        "Every child has an assessment: Inadequate",
        "Overall: Inadequate",
        "Risk identified: Yes",
        "Due Tue 1 Dec",
        "Due tomorrow",
        "[Meeting held]",
        "[Visit done]",
    ):
        assert expected in shown, expected
    [to_alex] = await queued(sessions, "child_visit_due")
    assert to_alex.recipient_staff_id == council.id("alex")
    assert to_alex.summary == "Please visit the child: due tomorrow"
    assert "[Visit done]" in card_text(to_alex.card)
    assert "[Meeting held]" not in card_text(to_alex.card)


async def test_responding_twice_to_the_same_audit_changes_nothing_more(
    chat: Chat, sessions: SessionMaker
) -> None:
    from bot.services.inadequate import respond_to_completed

    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council, risk=False)
    async with transaction(sessions) as session:
        again = await session.get(Audit, audit.id)
        assert again is not None
        await respond_to_completed(
            session,
            tenant_id=council.tenant_id,
            audit=again,
            actor_id=council.id("patti"),
            today=NOW.date(),
            now=NOW,
        )

    assert [a.source for a in await actions_of(sessions, audit.id or 0)] == ["action_meeting"]
    assert len(await queued(sessions, "inadequate_alert")) == 4
    assert await queued(sessions, "child_visit_due") == []
    [alert] = [d for d in await queued(sessions, "inadequate_alert")][:1]
    assert "[Visit done]" not in card_text(alert.card)
    assert "Risk identified: No" in card_text(alert.card)


# Meeting held


async def test_the_meeting_s_actions_can_go_to_anyone_at_the_meeting_each_offered_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    await grade_inadequate(sessions, council)  # Patti audited Alex's case; she is QA too
    [alert] = [
        d
        for d in await queued(sessions, "inadequate_alert")
        if d.recipient_staff_id == council.id("adele")
    ]

    assert [c["title"] for c in inputs(alert.card)["owner_1"]["choices"]] == [
        "Alex Wilber (practitioner)",
        "Megan Bowen (team manager)",
        "Isaiah Langer (head of service)",
        "Adele Vance (service manager)",
        "Patti Fernandez (auditor)",
    ]


async def test_adele_records_the_meeting_and_the_owners_of_its_actions_are_told(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)
    meeting, visit = await actions_of(sessions, audit.id or 0)
    subjects = [f"audit:{audit.id}", f"action:{meeting.id}", f"action:{visit.id}"]
    for person, posted in ((ADELE, "to-adele"), (ISAIAH, "to-isaiah")):
        await post_card(
            sessions, person, kind="inadequate_alert", subjects=subjects, activity_id=posted
        )
    [alert] = [
        d
        for d in await queued(sessions, "inadequate_alert")
        if d.recipient_staff_id == council.id("adele")
    ]
    data = button(alert.card, "Record the meeting")
    assert data == {"action": "meeting_held", "audit_id": audit.id}

    pressed = await press(
        chat,
        meeting_form(audit.id or 0, owner_1=str(council.id("alex")), owner_email_1=""),
        who=ADELE,
        on="to-adele",
    )

    assert (
        "Meeting held ✓ today recorded, with 2 actions. I've told Alex Wilber and Megan Bowen."
        in (pressed.text)
    )
    assert "Meeting held ✓ Thu 26 Nov · recorded by Adele Vance, 26 Nov 10:02" not in pressed.text
    assert "Meeting held ✓ today · recorded by Adele Vance, 26 Nov 10:02" in pressed.text
    assert "Present: SW Alex Wilber, TM Megan Bowen, SM Adele Vance, IRO, CP chair" in pressed.text
    assert "[Meeting held]" not in pressed.text and "[Visit done]" in pressed.text
    [record] = await meetings(sessions)
    assert (record.audit_id, record.held_on, record.recorded_by) == (
        audit.id,
        date(2026, 11, 26),
        council.id("adele"),
    )
    done = await action_row(sessions, meeting.id or 0)
    assert done.state == "done" and done.done_at == NOW
    _, _, first, second = await actions_of(sessions, audit.id or 0)
    assert (first.source, first.owner_id, first.due_on, first.created_by) == (
        "meeting",
        council.id("alex"),
        date(2026, 12, 3),
        council.id("adele"),
    )
    assert (second.owner_id, second.due_on) == (council.id("megan"), date(2026, 12, 10))
    assigned = await queued(sessions, "action_assigned")
    assert [d.recipient_staff_id for d in assigned] == [council.id("alex"), council.id("megan")]
    assert all(CASE not in d.summary for d in assigned)
    assert assigned[0].summary == "You have a new action from an action meeting, due Thu 3 Dec"
    assert "[Mark done]" in card_text(assigned[0].card)
    assert len(await logged(sessions, "action_meeting.recorded")) == 1
    [marked] = await logged(sessions, "action.done")
    assert marked.entity_id == str(meeting.id) and marked.actor_id == council.id("adele")
    # Isaiah's card is updated in place; Adele's is the answer to her press.
    updates = {
        d.replaces_activity_id: d
        for d in await queued(sessions, "inadequate_alert")
        if d.replaces_activity_id
    }
    assert "to-isaiah" in updates and "to-adele" not in updates
    assert "Meeting held ✓ today · recorded by Adele Vance" in card_text(updates["to-isaiah"].card)
    assert "[Meeting held]" not in card_text(updates["to-isaiah"].card)


async def test_a_second_record_of_the_meeting_says_who_already_recorded_it(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)
    first = await press(chat, meeting_form(audit.id or 0), who=ADELE)
    assert "Meeting held ✓" in first.text

    clock.now = NOW.replace(hour=14)
    again = await press(chat, meeting_form(audit.id or 0, held_on="2026-11-25"), who=PATTI)

    assert "Already recorded by Adele Vance on 26 Nov 10:02: held today." in again.text
    assert "[Meeting held]" not in again.text
    assert len(await meetings(sessions)) == 1
    assert len(await actions_of(sessions, audit.id or 0)) == 4  # meeting, visit and the two
    [repeat] = await logged(sessions, "refused.meeting_held")
    assert repeat.after == {"reason": "already_recorded"}


async def test_only_the_service_s_managers_the_team_manager_or_qa_may_record_the_meeting(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)

    for who in (
        LYNNE,
        ALEX,
        NESTOR,
        GRADY,
    ):  # a colleague, the SW, another team's TM, another service's HoS
        pressed = await press(chat, meeting_form(audit.id or 0), who=who)
        assert pressed.error == (
            "Only the service's managers, the team manager or the QA team can record the meeting."
        )

    assert await meetings(sessions) == []
    assert len(await logged(sessions, "denied.meeting_held")) == 4
    for who in (MEGAN, ISAIAH):
        other = await grade_inadequate(sessions, council, case_index=2 if who is MEGAN else 4)
        assert "Meeting held ✓" in (await press(chat, meeting_form(other.id or 0), who=who)).text
    assert len(await meetings(sessions)) == 2


async def test_a_meeting_form_with_a_bad_value_comes_back_with_the_message_and_values_kept(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)
    alex = str(council.id("alex"))
    cases = [
        ({"held_on": "2026-11-27"}, "The meeting date can't be in the future."),
        ({"held_on": "2026-11-20"}, "The meeting can't be before the audit was completed (today)."),
        ({"held_on": ""}, "Please give the date the meeting was held."),
        ({"attendees": "  "}, "Please say who attended"),
        (
            {
                "what_1": "",
                "measure_1": "",
                "due_on_1": "",
                "owner_email_1": "",
                "what_2": "",
                "measure_2": "",
                "owner_email_2": "",
                "due_on_2": "",
            },
            "Please add at least one action agreed",
        ),
        ({"owner_1": alex, "due_on_1": "2026-12-25"}, "Action 1: Fri 25 Dec is not a working day."),
        ({"owner_1": alex, "due_on_1": "2026-11-26"}, "Action 1: today is not in the future."),
        (
            {"owner_1": alex, "owner_email_2": "nobody@example.com"},
            "Action 2: I can't find anyone with the email nobody@example.com in QA Loop.",
        ),
        ({"owner_email_1": ""}, "Action 1: please choose who owns it, or give their email."),
        ({"owner_1": alex, "measure_1": ""}, "Action 1: please say how we will know it's done."),
    ]
    for values, message in cases:
        pressed = await press(chat, meeting_form(audit.id or 0, **values), who=ADELE)

        assert pressed.error is None and pressed.card is not None
        assert message in pressed.text, (values, pressed.text)
        inputs = {i["id"]: i.get("value") for i in _inputs(pressed.card)}
        # The form is open in the card with what was typed.
        assert inputs["attendees"] == (
            values.get("attendees", meeting_form(0)["attendees"]).strip() or None
        )
        assert "[Record the meeting]" in pressed.text
        if "what_2" not in values:
            assert inputs["what_2"] == "Supervise the case fortnightly and record it"

    assert await meetings(sessions) == []
    assert (
        await action_row(sessions, (await actions_of(sessions, audit.id or 0))[0].id or 0)
    ).state == "open"
    assert len(await logged(sessions, "refused.meeting_held")) == len(cases)
    assert await queued(sessions, "action_assigned") == []


def _inputs(card: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if str(card.get("type", "")).startswith("Input."):
            found.append(card)
        for value in card.values():
            found += _inputs(value)
    elif isinstance(card, list):
        for value in card:
            found += _inputs(value)
    return found


async def test_malformed_or_misdirected_meeting_presses_change_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    ordinary = await add_assigned_audit(sessions, council, due_on=NOW.date(), state="completed")

    not_a_number = await press(chat, {"action": "meeting_held", "audit_id": "abc"}, who=ADELE)
    missing = await press(chat, {"action": "meeting_held"}, who=ADELE)
    unknown = await press(chat, meeting_form(999_999), who=ADELE)
    not_inadequate = await press(chat, meeting_form(ordinary.id or 0), who=ADELE)
    too_long = await press(chat, meeting_form(ordinary.id or 0, attendees="x" * 3000), who=ADELE)

    assert not_a_number.error == "That button sent something I can't use. Nothing was changed."
    assert missing.error == not_a_number.error
    assert unknown.error == "I can't find that audit. It may have been removed."
    assert not_inadequate.error == "This audit has no action meeting to record."
    assert too_long.error == (
        "The list of who attended can be up to 2,000 characters. Nothing was changed."
    )
    assert await meetings(sessions) == []
    assert len(await logged(sessions, "refused.bad_payload")) == 3
    assert [r.after for r in await logged(sessions, "refused.meeting_held")] == [
        {"reason": "not_found"},
        {"reason": "no_action_meeting"},
    ]


# Visit done


async def test_alex_records_the_visit_from_his_card_and_the_alerts_show_it(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)
    meeting, visit = await actions_of(sessions, audit.id or 0)
    await post_card(
        sessions,
        MEGAN,
        kind="inadequate_alert",
        subjects=[f"audit:{audit.id}", f"action:{meeting.id}", f"action:{visit.id}"],
        activity_id="to-megan",
    )
    [to_alex] = await queued(sessions, "child_visit_due")
    data = button(to_alex.card, "Record the visit")
    assert data == {"action": "visit_done", "audit_id": audit.id, "card": "visit"}

    pressed = await press(
        chat, data | {"visited_on": "2026-11-26", "visit_note": "Seen alone **at school**"}
    )

    assert pressed.card is not None
    assert pressed.card["body"][0]["text"] == "Please visit the child"
    assert "Visit done ✓ today recorded. Thank you." in pressed.text
    assert "Visit done ✓ today · recorded by Alex Wilber, 26 Nov 10:02" in pressed.text
    assert "[Visit done]" not in pressed.text
    done = await action_row(sessions, visit.id or 0)
    assert done.state == "done"
    assert done.done_note == "Seen alone **at school**"
    assert (await audit_row(sessions, audit.id or 0)).visited_on == date(2026, 11, 26)
    [recorded] = await logged(sessions, "audit.visit_recorded")
    assert (recorded.entity_id, recorded.actor_id) == (str(audit.id), council.id("alex"))
    assert (recorded.before, recorded.after) == (
        {"visited_on": None},
        {"visited_on": "2026-11-26"},
    )
    [update] = [
        d
        for d in await queued(sessions, "inadequate_alert")
        if d.replaces_activity_id == "to-megan"
    ]
    shown = card_text(update.card)
    assert "Visit done ✓ today · recorded by Alex Wilber" in shown
    assert "Note: Seen alone **at school**" in shown
    assert "[Visit done]" not in shown and "[Meeting held]" in shown


async def test_visit_done_twice_a_stale_card_and_the_wrong_person(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)
    _, visit = await actions_of(sessions, audit.id or 0)
    form = {"action": "visit_done", "audit_id": audit.id, "visited_on": "2026-11-26"}

    wrong = await press(chat, form, who=NESTOR)
    future = await press(chat, form | {"visited_on": "2026-11-27", "visit_note": "Planned"})
    # Alex marks the visit done from my actions; Megan's alert card is now stale.
    await press(chat, {"action": "mark_done", "action_id": visit.id, "note": "Visited"})
    clock.now = NOW.replace(hour=11)
    stale = await press(chat, form, who=MEGAN)

    assert wrong.error == (
        "Only the social worker, their team manager or the QA team can record the visit."
    )
    assert future.card is not None and "The visit date can't be in the future." in future.text
    assert {i["id"]: i.get("value") for i in _inputs(future.card)}["visit_note"] == "Planned"
    assert "Already recorded: visit done ✓ by Alex Wilber, 26 Nov 10:02." in stale.text
    assert "[Visit done]" not in stale.text
    done = await action_row(sessions, visit.id or 0)
    assert done.done_note == "Visited" and done.done_at == NOW
    # Marked done from my actions without a day: the day it was marked done.
    assert (await audit_row(sessions, audit.id or 0)).visited_on == date(2026, 11, 26)
    assert [r.after for r in await logged(sessions, "refused.visit_done")] == [
        {"reason": "future_date"},
        {"reason": "already_done"},
    ]
    assert len(await logged(sessions, "denied.visit_done")) == 1


async def test_alex_marks_the_visit_done_from_my_actions_saying_which_day_he_saw_the_child(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)  # completed Thu 26 Nov
    _, visit = await actions_of(sessions, audit.id or 0)
    clock.now = NOW.replace(day=27)

    mine = await chat.say("my actions")
    # The outbox may deliver the visit's own card meanwhile; the answer is the My actions card.
    [card] = [c for c in mine.cards if c["body"][0].get("text") == "My actions"]
    form = inputs(card)
    picked = form[f"visited_on_{visit.id}"]
    assert (picked["value"], picked["max"], picked["isRequired"]) == (
        "2026-11-27",
        "2026-11-27",
        True,
    )
    mark_done = button(card, "Mark done", visit.id)
    too_early = await press(chat, mark_done | {f"visited_on_{visit.id}": "2026-11-25"})
    in_future = await press(chat, mark_done | {f"visited_on_{visit.id}": "2026-11-28"})
    assert (await action_row(sessions, visit.id or 0)).state == "open"
    done = await press(
        chat, mark_done | {f"visited_on_{visit.id}": "2026-11-26", f"note_{visit.id}": "At home"}
    )

    assert too_early.error == "The visit can't be before the audit was completed (Thu 26 Nov)."
    assert in_future.error == "The visit date can't be in the future."
    assert (
        "Child seen Thu 26 Nov. Done ✓ by Alex Wilber, 27 Nov 10:02. "
        "I've asked Megan Bowen to confirm it." in done.text
    )
    row = await action_row(sessions, visit.id or 0)
    assert (row.state, row.done_note) == ("done", "At home")
    assert (await audit_row(sessions, audit.id or 0)).visited_on == date(2026, 11, 26)
    [recorded] = await logged(sessions, "audit.visit_recorded")
    assert recorded.after == {"visited_on": "2026-11-26"}
    assert [r.after for r in await logged(sessions, "refused.mark_done")] == [
        {"reason": "before_audit"},
        {"reason": "future_date"},
    ]
    # Other actions' Mark done asks no date.
    assert not any(
        key.startswith("visited_on_") and key != f"visited_on_{visit.id}" for key in form
    )

    # Megan, his manager, finds no visit on the case file and reopens it: not made after all.
    reopened = await press(
        chat, {"action": "reopen", "action_id": visit.id, "reason": "Not on file"}, who=MEGAN
    )
    assert reopened.error is None
    assert (await action_row(sessions, visit.id or 0)).state == "open"
    assert (await audit_row(sessions, audit.id or 0)).visited_on is None
    [undone] = await logged(sessions, "audit.visit_reopened")
    assert (undone.actor_id, undone.before, undone.after) == (
        council.id("megan"),
        {"visited_on": "2026-11-26"},
        {"visited_on": None},
    )


# Chased like any action


async def test_an_overdue_meeting_is_on_the_service_manager_s_daily_card(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    await grade_inadequate(sessions, council, risk=False)

    from datetime import UTC, datetime

    plan = await reminders.run(
        deps=JobDeps(sessions=sessions, settings=settings, tenant_id=council.tenant_id),
        now=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),  # Thu 3 Dec: the meeting was due Tue 1 Dec
    )

    [adele] = [p for p in plan if p.recipient_staff_id == council.id("adele")]
    shown = card_text(adele.card)
    assert "Hold a multi-disciplinary action meeting on the inadequate audit" in shown
    assert "overdue" in shown.lower()


async def test_a_child_visit_a_working_day_late_is_escalated_to_the_team_manager(
    chat: Chat, sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)  # Thu 26 Nov: the visit is due Fri 27 Nov
    _, visit = await actions_of(sessions, audit.id or 0)

    plan = await reminders.run(
        deps=JobDeps(sessions=sessions, settings=settings, tenant_id=council.tenant_id),
        now=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),  # Monday: one working day late
    )

    [to_megan] = [
        p
        for p in plan
        if p.recipient_staff_id == council.id("megan") and p.kind == CardKind.ESCALATION
    ]
    shown = card_text(to_megan.card)
    assert "Safeguarding: Child visit after risk identified" in shown
    assert f"Overdue by 1 working day  ·  was due Fri 27 Nov  ·  Action #{visit.id}" in shown
    # An ordinary action one day late is the owner's to chase, not yet the manager's.
    assert to_megan.subjects == [f"action:{visit.id}"]


async def test_an_escalation_card_refreshed_after_another_action_is_done_keeps_the_late_visit(
    chat: Chat, sessions: SessionMaker, settings: Settings, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)  # Thu 26 Nov: the visit is due Fri 27 Nov
    _, visit = await actions_of(sessions, audit.id or 0)
    monday = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    async with transaction(sessions) as session:
        ordinary = Action(
            tenant_id=council.tenant_id,
            owner_id=council.id("alex"),
            what="Update the chronology",
            measure="Chronology on file",
            due_on=date(2026, 11, 20),  # six working days before Monday
        )
        session.add(ordinary)
    plan = await reminders.run(
        deps=JobDeps(sessions=sessions, settings=settings, tenant_id=council.tenant_id),
        now=monday,
    )
    [morning] = [
        p
        for p in plan
        if p.recipient_staff_id == council.id("megan") and p.kind == CardKind.ESCALATION
    ]
    assert set(morning.subjects) == {f"action:{visit.id}", f"action:{ordinary.id}"}
    await post_card(
        sessions, MEGAN, kind=CardKind.ESCALATION, subjects=morning.subjects, activity_id="to-megan"
    )

    clock.now = monday
    await chat.say(f"done {ordinary.id}", who=ALEX)

    [refreshed] = [
        d
        for d in await queued(sessions, CardKind.ESCALATION)
        if d.replaces_activity_id == "to-megan"
    ]
    shown = card_text(refreshed.card)
    assert "Update the chronology" not in shown  # done, so no longer overdue
    assert "Safeguarding: Child visit after risk identified" in shown
    assert f"Action #{visit.id}" in shown
    assert refreshed.summary == "1 safeguarding step in your team is overdue"


# Safeguarding steps are not ordinary actions


def _item_buttons(card: dict[str, Any], action_id: int) -> list[str]:
    """The titles of one action's buttons on a list card (Show card forms and their buttons)."""
    titles = []
    for node in nodes(card):
        if node.get("type") == "ActionSet":
            for b in node["actions"]:
                inner = b.get("card", {}).get("actions", [])
                sent = [b.get("data", {}), *(i.get("data", {}) for i in inner)]
                if any(d.get("action_id") == action_id for d in sent):
                    titles.append(b["title"])
    return titles


async def test_a_child_visit_has_no_snooze_or_more_time_and_a_crafted_one_is_refused(
    chat: Chat, sessions: SessionMaker, settings: Settings, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)  # the visit is alex's, due Fri 27 Nov
    _, visit = await actions_of(sessions, audit.id or 0)
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    clock.now = friday

    plan = await reminders.run(
        deps=JobDeps(sessions=sessions, settings=settings, tenant_id=council.tenant_id), now=friday
    )
    [daily] = [p for p in plan if p.recipient_staff_id == council.id("alex")]
    mine = await chat.say("my actions")
    [listed] = [c for c in mine.cards if c["body"][0].get("text") == "My actions"]
    assert _item_buttons(daily.card, visit.id or 0) == ["Mark done"]
    assert _item_buttons(listed, visit.id or 0) == ["Mark done"]

    snoozed = await press(chat, {"action": "snooze", "action_id": visit.id, "days": 1})
    more_time = await press(
        chat,
        {
            "action": "request_extension",
            "action_id": visit.id,
            "new_due_on": "2026-12-03",
            "reason": "Caseload",
        },
    )

    assert snoozed.error == (
        "A child visit can't be snoozed: it is about a child's safety. Please record it as soon "
        "as it is done."
    )
    assert more_time.error == (
        "A child visit can't be given more time: it is about a child's safety. If it can't "
        "happen by its due date, please tell your manager today."
    )
    row = await action_row(sessions, visit.id or 0)
    assert (row.state, row.due_on, row.snoozed_until) == ("open", date(2026, 11, 27), None)
    async with sessions() as session:
        assert (await session.exec(select(ExtensionRequest))).all() == []
    for verb in ("snooze", "request_extension"):
        [refused] = await logged(sessions, f"refused.{verb}")
        assert (refused.entity_id, refused.after) == (
            str(visit.id),
            {"reason": "safeguarding_step"},
        )


async def test_done_typed_on_a_child_visit_asks_the_day_the_child_was_seen(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council)  # completed Thu 26 Nov
    _, visit = await actions_of(sessions, audit.id or 0)
    clock.now = NOW.replace(day=27)

    asked = await chat.say(f"done {visit.id} Seen at school")

    [card] = [c for c in asked.cards if c["body"][0].get("text") == "Please visit the child"]
    assert "When was the child seen? Please give the date of the visit." in card_text(card)
    form = inputs(card)
    assert form["visited_on"]["isRequired"] is True
    assert form["visit_note"]["value"] == "Seen at school"
    assert (await action_row(sessions, visit.id or 0)).state == "open"
    assert (await audit_row(sessions, audit.id or 0)).visited_on is None
    [refused] = await logged(sessions, "refused.mark_done")
    assert refused.after == {"reason": "visit_day_to_give"}

    done = await press(
        chat,
        button(card, "Record the visit")
        | {"visited_on": "2026-11-26", "visit_note": "Seen at school"},
    )

    assert "Visit done ✓ Thu 26 Nov recorded" in done.text
    assert (await action_row(sessions, visit.id or 0)).state == "done"
    assert (await audit_row(sessions, audit.id or 0)).visited_on == date(2026, 11, 26)


async def test_marking_the_action_meeting_done_asks_for_its_record_from_a_list_or_typed(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    audit = await grade_inadequate(sessions, council, risk=False)
    [meeting] = await actions_of(sessions, audit.id or 0)  # adele's, the service manager

    mine = await chat.say("my actions", who=ADELE)
    [listed] = [c for c in mine.cards if c["body"][0].get("text") == "My actions"]
    assert _item_buttons(listed, meeting.id or 0) == ["Record the meeting"]
    from_list = await press(chat, button(listed, "Record the meeting", meeting.id), who=ADELE)
    typed = await chat.say(f"done {meeting.id}", who=ADELE)

    prompt = (
        "To mark the action meeting done, please record it: the date it was held, who attended "
        "and the actions agreed."
    )
    # The reply in Adele's chat (a reply to what she typed): the morning's alerts, to Patti and
    # to Adele herself, may land while she types.
    [typed_card] = [
        card
        for sent in typed.sent
        if sent.conversation_id == f"a:personal-{ADELE.teams_id}" and sent.body.get("replyToId")
        for card in sent.cards
        if card["body"][0].get("text") == "Inadequate audit: action needed"
    ]
    for card in (from_list.card or {}, typed_card):
        assert prompt in card_text(card)
        assert {"held_on", "attendees", "what_1", "owner_1", "due_on_1"} <= set(inputs(card))
    assert (await action_row(sessions, meeting.id or 0)).state == "open"
    assert await meetings(sessions) == []
    assert [r.after for r in await logged(sessions, "refused.mark_done")] == [
        {"reason": "meeting_to_record"},
        {"reason": "meeting_to_record"},
    ]

    recorded = await press(
        chat, button(typed_card, "Record the meeting") | meeting_form(audit.id or 0), who=ADELE
    )

    assert "Meeting held ✓ today recorded, with 2 actions." in recorded.text
    assert (await action_row(sessions, meeting.id or 0)).state == "done"
    [held] = await meetings(sessions)
    assert held.attendees.startswith("SW Alex Wilber")

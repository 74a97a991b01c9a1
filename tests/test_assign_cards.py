"""The "audit assigned" card and its copies, "Can't do this one", Reassign, and `audit new`:
conversations over HTTP on a fixed clock (Thu 26 Nov 2026); the database shows what changed, the
outbox what was queued for other people."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.features import CATALOGUE
from bot.services.allocation import check_new_audit
from cards.audit_assigned import (
    AssignedView,
    AuditForm,
    AuditorChoice,
    audit_assigned_card,
    audit_copy_card,
    audit_declined_card,
    new_audit_form,
)
from cards.common import card_json, card_size
from storage.db import SessionMaker, transaction
from storage.models import Staff
from tests.chat import (
    ALEX,
    DIEGO,
    JONI,
    MEGAN,
    PATTI,
    Chat,
    button,
    buttons,
    card_text,
    inputs,
    press,
)
from tests.helpers import (
    NOW,
    AuditCouncil,
    Clock,
    assigned,
    audit_council,
    audit_row,
    audits,
    everyone_says_hello,
    logged,
    post_card,
    queued,
)

pytestmark = pytest.mark.clock(NOW)  # Thu 26 Nov 2026, 10:02 in London


async def ready(chat: Chat, sessions: SessionMaker) -> AuditCouncil:
    council = await audit_council(sessions)
    await everyone_says_hello(chat)
    return council


def case_ref(council: AuditCouncil, team: str = "North", index: int = 0) -> str:
    return council.cases[team][index].case_ref


# The assigned card and its copies


async def test_diego_is_sent_the_assigned_card_and_alex_and_megan_a_copy(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    ref = case_ref(council)

    [card] = await queued(sessions, "audit_assigned")
    assert card.recipient_staff_id == council.id("diego")
    assert card.summary == "You have a new audit to do"
    assert card.subjects == [f"audit:{audit_id}"]
    shown = card_text(card.card)
    for expected in (ref, "Collaborative audit", "Due Fri 18 Dec", "Practitioner: Alex Wilber"):
        assert expected in shown
    assert "Team manager: Megan Bowen" in shown
    assert button(card.card, "Record grades") == {"action": "open_grading", "audit_id": audit_id}
    assert button(card.card, "Send to the QA team") == {
        "action": "decline_audit",
        "audit_id": audit_id,
    }
    reason = inputs(card.card)[f"reason_{audit_id}"]
    assert reason["isRequired"] is True and reason["maxLength"] == 2000
    assert "[Can't do this one]" in shown

    copies = {d.recipient_staff_id: d for d in await queued(sessions, "audit_assigned_copy")}
    assert set(copies) == {council.id("alex"), council.id("megan")}
    to_alex, to_megan = copies[council.id("alex")], copies[council.id("megan")]
    assert to_alex.summary == "One of your cases has been selected for audit"
    assert to_megan.summary == "A case in your team has been selected for audit"
    assert (
        f"Your case {ref} has been selected for a collaborative audit with Diego Siciliani, "
        "due Fri 18 Dec." in card_text(to_alex.card)
    )
    assert "Diego Siciliani" in card_text(to_megan.card)
    assert ref not in card.summary
    for copy in (to_alex, to_megan):
        assert ref not in copy.summary
    assert not list(buttons(to_megan.card))  # the manager's copy has nothing to press
    # The practitioner's copy of a collaborative audit offers only their own view first.
    assert [b["title"] for b in buttons(to_alex.card)] == ["Your own view first"]


# Can't do this one


async def decline(
    chat: Chat, audit_id: int, reason: str = "I supervised this worker until May", **more: Any
) -> Any:
    data = {"action": "decline_audit", "audit_id": audit_id, f"reason_{audit_id}": reason}
    return await press(chat, data, who=more.get("who", DIEGO), on=more.get("on"))


async def test_diego_can_t_do_one_the_qa_team_is_told_and_patti_reassigns_it_to_joni(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    subject = f"audit:{audit_id}"
    await post_card(
        sessions,
        DIEGO,
        kind="audit_assigned",
        subjects=[subject],
        activity_id="d1",
        tenant_id=council.tenant_id,
    )
    await post_card(
        sessions,
        ALEX,
        kind="audit_assigned_copy",
        subjects=[subject],
        activity_id="a1",
        tenant_id=council.tenant_id,
    )

    declined = await decline(
        chat, audit_id, "I supervised this worker [until May](https://x.test)", on="d1"
    )

    assert "You said you can't do this one:" in declined.text
    assert "I supervised this worker [until May](https://x.test)" in declined.text
    assert "The QA team will find someone else." in declined.text
    assert not list(buttons(declined.card or {}))
    row = await audit_row(sessions, audit_id)
    assert row.state == "declined"
    assert row.declined_reason == "I supervised this worker [until May](https://x.test)"
    [logged_decline] = await logged(sessions, "audit.declined")
    assert logged_decline.actor_id == council.id("diego")
    assert logged_decline.before == {
        "state": "assigned",
        "auditor_id": council.id("diego"),
        "declined_reason": None,
    }
    [to_patti] = await queued(sessions, "audit_declined")
    assert to_patti.recipient_staff_id == council.id("patti")
    assert to_patti.summary == "An audit needs a new auditor"
    assert case_ref(council) not in to_patti.summary
    shown = card_text(to_patti.card)
    assert "Diego Siciliani can't do this one:" in shown
    choice = inputs(to_patti.card)[f"auditor_id_{audit_id}"]
    offered = [c["title"] for c in choice["choices"]]
    # Not Alex (his own case), not Diego (who just said no); other teams, least loaded first.
    assert offered == ["Joni Sherman, East: 0 open", "Patti Fernandez: 0 open"]
    assert choice["value"] == str(council.id("joni"))
    [alex_copy] = [
        d for d in await queued(sessions, "audit_assigned_copy") if d.replaces_activity_id == "a1"
    ]
    assert "the QA team is finding someone else" in card_text(alex_copy.card)

    data = button(to_patti.card, "Reassign") | {f"auditor_id_{audit_id}": str(council.id("joni"))}
    reassigned = await press(chat, data, who=PATTI)

    assert "Reassigned ✓ to Joni Sherman." in reassigned.text
    assert not list(buttons(reassigned.card or {}))
    row = await audit_row(sessions, audit_id)
    assert (row.state, row.auditor_id, row.declined_reason) == (
        "assigned",
        council.id("joni"),
        None,
    )
    [logged_move] = await logged(sessions, "audit.reassigned")
    assert logged_move.actor_id == council.id("patti")
    assert logged_move.after == {
        "state": "assigned",
        "auditor_id": council.id("joni"),
        "declined_reason": None,
    }
    to_joni = [
        d
        for d in await queued(sessions, "audit_assigned")
        if d.recipient_staff_id == council.id("joni")
    ]
    assert len(to_joni) == 1 and "[Record grades]" in card_text(to_joni[0].card)
    updates = {
        d.replaces_activity_id: d
        for kind in ("audit_assigned", "audit_assigned_copy")
        for d in await queued(sessions, kind)
        if d.replaces_activity_id
    }
    diego_card = card_text(updates["d1"].card)
    assert "Passed on. This audit is now with Joni Sherman." in diego_card
    assert "[Record grades]" not in diego_card
    assert "collaborative audit with Joni Sherman" in card_text(updates["a1"].card)


async def test_someone_away_through_the_due_date_is_offered_last_and_not_by_default(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    async with transaction(sessions) as session:
        joni = await session.get(Staff, council.id("joni"))
        assert joni is not None
        joni.away_until = date(2027, 1, 8)
    audit_id = await assigned(sessions, council, auditor="diego")

    await decline(chat, audit_id)

    [to_patti] = await queued(sessions, "audit_declined")
    choice = inputs(to_patti.card)[f"auditor_id_{audit_id}"]
    offered = [c["title"] for c in choice["choices"]]
    assert offered == ["Patti Fernandez: 0 open", "Joni Sherman, East: 0 open, away until 8 Jan"]
    assert choice["value"] == str(council.id("patti"))


async def test_only_the_auditor_can_say_they_can_t_do_it(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")

    for who in (ALEX, PATTI):
        pressed = await decline(chat, audit_id, who=who)
        assert pressed.error == "Only the audit's auditor can say they can't do it."

    assert (await audit_row(sessions, audit_id)).state == "assigned"
    denials = await logged(sessions, "denied.decline_audit")
    assert [d.actor_id for d in denials] == [council.id("alex"), council.id("patti")]
    assert denials[0].entity == "audit" and denials[0].entity_id == str(audit_id)
    assert await queued(sessions, "audit_declined") == []


async def test_a_second_press_of_can_t_do_this_one_changes_nothing(
    chat: Chat, sessions: SessionMaker, clock: Clock
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    await decline(chat, audit_id, "On leave")
    clock.now = NOW.replace(hour=11)

    again = await decline(chat, audit_id, "Something else")

    assert again.error == "You've already passed this audit back to the QA team."
    assert (await audit_row(sessions, audit_id)).declined_reason == "On leave"
    assert len(await queued(sessions, "audit_declined")) == 1
    assert len(await logged(sessions, "audit.declined")) == 1
    [repeat] = await logged(sessions, "refused.decline_audit")
    assert repeat.after == {"reason": "already_declined"}


async def test_can_t_do_this_one_on_a_cancelled_or_completed_audit_changes_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    cancelled = await assigned(sessions, council, auditor="diego", state="cancelled")
    completed = await assigned(sessions, council, auditor="diego", case_index=1, state="completed")

    assert (await decline(chat, cancelled)).error == (
        "This audit was cancelled, so there is nothing to do."
    )
    assert (await decline(chat, completed)).error == "This audit is already completed."
    assert (await audit_row(sessions, cancelled)).state == "cancelled"
    assert (await audit_row(sessions, completed)).state == "completed"
    reasons = [r.after for r in await logged(sessions, "refused.decline_audit")]
    assert reasons == [{"reason": "already_cancelled"}, {"reason": "already_completed"}]


async def test_a_malformed_decline_is_refused_and_nothing_changes(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")

    no_reason = await decline(chat, audit_id, "   ")
    too_long = await decline(chat, audit_id, "x" * 2001)
    bad_id = await press(
        chat, {"action": "decline_audit", "audit_id": "7; drop", "reason": "x"}, who=DIEGO
    )
    missing = await decline(chat, 999_999)

    message = "Please say why you can't do it, in up to 2,000 characters. Nothing was changed."
    assert no_reason.error == too_long.error == message
    assert bad_id.error == "That button sent something I can't use. Nothing was changed."
    assert missing.error == "I can't find that audit. It may have been removed."
    assert (await audit_row(sessions, audit_id)).state == "assigned"
    assert len(await logged(sessions, "refused.bad_payload")) == 3
    assert await queued(sessions, "audit_declined") == []


# Reassign


async def declined_audit(chat: Chat, sessions: SessionMaker) -> tuple[AuditCouncil, int]:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    await decline(chat, audit_id, "On leave")
    return council, audit_id


def reassign_to(audit_id: int, staff_id: int) -> dict[str, Any]:
    return {
        "action": "reassign_audit",
        "audit_id": audit_id,
        f"auditor_id_{audit_id}": str(staff_id),
    }


async def test_only_the_qa_team_can_reassign(chat: Chat, sessions: SessionMaker) -> None:
    council, audit_id = await declined_audit(chat, sessions)

    for who in (MEGAN, DIEGO, JONI):
        pressed = await press(chat, reassign_to(audit_id, council.id("joni")), who=who)
        assert pressed.error == "Only the QA team can reassign an audit."

    row = await audit_row(sessions, audit_id)
    assert (row.state, row.auditor_id) == ("declined", council.id("diego"))
    assert len(await logged(sessions, "denied.reassign_audit")) == 3


async def test_reassigning_twice_or_to_someone_who_can_t_take_it_changes_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council, audit_id = await declined_audit(chat, sessions)

    own_case = await press(chat, reassign_to(audit_id, council.id("alex")), who=PATTI)
    not_an_auditor = await press(chat, reassign_to(audit_id, council.id("megan")), who=PATTI)
    first = await press(chat, reassign_to(audit_id, council.id("joni")), who=PATTI)
    again = await press(chat, reassign_to(audit_id, council.id("patti")), who=PATTI)
    malformed = await press(chat, {"action": "reassign_audit", "audit_id": audit_id}, who=PATTI)

    assert own_case.error == not_an_auditor.error
    assert own_case.error == "They can't take this audit. Please choose someone from the list."
    assert first.error is None
    assert again.error == "Already reassigned: Joni Sherman has it."
    assert malformed.error == "Please choose who should do it. Nothing was changed."
    assert (await audit_row(sessions, audit_id)).auditor_id == council.id("joni")
    assert len(await logged(sessions, "audit.reassigned")) == 1
    reasons = [r.after for r in await logged(sessions, "refused.reassign_audit")]
    assert reasons == [
        {"reason": "not_eligible"},
        {"reason": "not_eligible"},
        {"reason": "already_assigned"},
    ]


async def test_an_audit_not_declined_cannot_be_reassigned_from_a_card(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    cancelled = await assigned(sessions, council, auditor="diego", state="cancelled")

    pressed = await press(chat, reassign_to(cancelled, council.id("joni")), who=PATTI)

    assert pressed.error == "This audit was cancelled, so there is nothing to reassign."
    assert (await audit_row(sessions, cancelled)).auditor_id == council.id("diego")


# audit new


def create(**values: str) -> dict[str, Any]:
    form = {
        "case_ref": "C-20001",
        "kind": "thematic",
        "theme": "MASH strategy meetings",
        "auditor": "joni",
        "due_on": "2026-12-18",
    }
    return {"action": "create_audit"} | form | values


async def test_patti_creates_a_thematic_audit_from_the_form(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)

    form = (await chat.say("audit new", who=PATTI)).cards[0]
    fields = inputs(form)
    assert list(fields) == ["case_ref", "kind", "theme", "auditor", "due_on"]
    kinds = [c["value"] for c in fields["kind"]["choices"]]
    assert kinds == ["thematic", "multi_agency", "senior_manager", "team_manager", "collaborative"]
    assert fields["due_on"]["min"] == "2026-11-27"
    auditors = {c["value"]: c["title"] for c in fields["auditor"]["choices"]}
    assert auditors[str(council.id("joni"))] == "Joni Sherman, East: 0 open"
    assert button(form, "Create audit") == {"action": "create_audit"}

    data = button(form, "Create audit") | create(auditor=str(council.id("joni")))
    created = await press(chat, data, who=PATTI)

    assert "Audit created ✓" in created.text
    assert "Thematic audit: MASH strategy meetings" in created.text
    assert "I've told Joni Sherman, Diego Siciliani and Nestor Wilke." in created.text
    [audit] = await audits(sessions)
    assert (audit.kind, audit.theme, audit.allocation_id) == (
        "thematic",
        "MASH strategy meetings",
        None,
    )
    assert audit.auditor_id == council.id("joni")
    assert audit.practitioner_id == council.id("diego")
    assert str(audit.due_on) == "2026-12-18" and audit.state == "assigned"
    [made] = await logged(sessions, "audit.created")
    assert made.actor_id == council.id("patti") and made.entity_id == str(audit.id)
    [to_joni] = await queued(sessions, "audit_assigned")
    assert to_joni.recipient_staff_id == council.id("joni")
    assert "[Record grades]" in card_text(to_joni.card)
    copies = await queued(sessions, "audit_assigned_copy")
    assert {d.recipient_staff_id for d in copies} == {council.id("diego"), council.id("nestor")}
    assert "has been selected for a thematic audit by Joni Sherman" in card_text(copies[0].card)

    again = await press(chat, data, who=PATTI)  # a second press on a copy of the form
    assert "There is already an open thematic audit of that case" in again.text
    assert len(await audits(sessions)) == 1


async def test_a_bad_value_brings_the_form_back_with_the_message_and_the_values_kept(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    joni = str(council.id("joni"))
    cases = {
        "That doesn't look like a case reference. Please use the case system's id, never a name.": create(
            case_ref="Jane Smith", auditor=joni
        ),
        "I can't find that case among the imported cases. Check the reference, or import it first.": create(
            case_ref="C-99999", auditor=joni
        ),
        "A thematic audit needs a theme, for example MASH strategy meetings.": create(
            theme=" ", auditor=joni
        ),
        "I don't know that auditor. Please give the email of someone who audits.": create(
            auditor="lynner@example.com"
        ),
        "Diego Siciliani works this case, so can't audit it. Please choose someone else.": create(
            auditor=DIEGO.email
        ),
        "Sat 19 Dec is not a working day. Please choose a weekday that is not a bank holiday.": create(
            auditor=joni, due_on="2026-12-19"
        ),
        "Please choose a due date after today.": create(auditor=joni, due_on="2026-11-26"),
        "Please choose the kind of audit.": create(auditor=joni, kind="gossip"),
    }
    for message, data in cases.items():
        pressed = await press(chat, data, who=PATTI)
        assert pressed.error is None
        assert message in pressed.text, pressed.text
        kept = inputs(pressed.card or {})
        assert kept["case_ref"]["value"] == data["case_ref"]
        assert kept["due_on"]["value"] == data["due_on"]
        assert kept["auditor"]["value"] == data["auditor"]

    assert await audits(sessions) == []
    assert len(await logged(sessions, "refused.create_audit")) == len(cases)
    assert await queued(sessions, "audit_assigned") == []


async def test_audit_new_is_for_the_qa_team_only(chat: Chat, sessions: SessionMaker) -> None:
    council = await ready(chat, sessions)

    typed = await chat.say("audit new", who=MEGAN)
    pressed = await press(chat, create(auditor=str(council.id("joni"))), who=MEGAN)

    assert "not available for your role" in typed.text
    assert pressed.error == "Only the QA team can create an audit."
    assert await audits(sessions) == []
    [denied] = await logged(sessions, "denied.create_audit")
    assert denied.actor_id == council.id("megan")


async def test_a_case_ref_typed_in_lower_case_and_an_auditor_by_email_are_accepted(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)

    created = await press(
        chat,
        create(case_ref=" c-30002 ", kind="multi_agency", theme="", auditor=" PattiF@example.com"),
        who=PATTI,
    )

    assert "Multi-agency audit" in created.text
    assert "I've told Joni Sherman." in created.text  # not Patti, who made it; Joni works the case
    [audit] = await audits(sessions)
    assert audit.case_id == council.cases["East"][1].id and audit.theme is None
    assert audit.auditor_id == council.id("patti")


def test_the_card_actions_are_registered() -> None:
    assert {"decline_audit", "reassign_audit", "create_audit"} <= set(CATALOGUE.verbs)


# The cards on their own


def test_the_cards_are_adaptive_1_5_show_people_s_text_literally_and_stay_small() -> None:
    evil = "[Approve](https://evil.example) **bold**"
    view = AssignedView(
        id=7,
        case_ref="C-123456",
        kind="thematic",
        theme=evil,
        state="declined",
        due_on=date(2026, 12, 18),
        team="North",
        auditor_id=1,
        auditor_name="Diego Siciliani",
        practitioner_id=2,
        practitioner_name="Alex Wilber",
        manager_id=3,
        manager_name="Megan Bowen",
        declined_reason=evil + " é 漢字" * 300,
    )
    choices = [AuditorChoice(n, f"Auditor {n:03d}", "East", n, n % 2 == 0) for n in range(1, 200)]
    today = date(2026, 11, 26)
    cards = [
        audit_assigned_card(view, recipient_id=1, today=today),
        audit_copy_card(view, recipient_id=2, today=today),
        audit_declined_card(view, choices=choices, today=today),
        new_audit_form(AuditForm(theme=evil), auditors=choices, today=today, message=evil),
    ]
    for card in cards:
        shown = card_json(card)
        assert shown["version"] == "1.5"
        assert card_size(card) < 40_000
        assert evil not in [b.get("text") for b in shown["body"] if b["type"] == "TextBlock"]
    assert evil in card_text(card_json(cards[0]))  # in a RichTextBlock's TextRun: no markdown
    assert "auditor" in inputs(card_json(cards[3]))  # 199 auditors: asked for by email
    assert inputs(card_json(cards[3]))["auditor"]["type"] == "Input.Text"


async def test_the_council_s_own_case_reference_pattern_words_the_form_s_answer(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    pattern = r"^NS\d{6}$"

    async def check(case_ref: str) -> object:
        form = AuditForm(
            case_ref=case_ref, auditor=JONI.email, theme="Neglect", due_on="2026-12-18"
        )
        async with sessions() as session:
            return await check_new_audit(
                session,
                tenant_id=council.tenant_id,
                form=form,
                today=date(2026, 11, 26),
                case_ref_pattern=pattern,
            )

    not_a_ref = (
        "That doesn't look like a case reference. Please use the case system's id, never a name."
    )
    not_found = (
        "I can't find that case among the imported cases. Check the reference, or import it first."
    )
    assert await check("NS123456") == not_found
    assert await check("C-99999") == not_a_ref  # a reference by the default pattern, not theirs
    imported = await check(council.cases["South"][0].case_ref)  # imported: always found
    assert not isinstance(imported, str)


# Cancelling an audit that will not be done


async def diego_s_card_is_posted(
    sessions: SessionMaker, council: AuditCouncil, audit_id: int
) -> None:
    """Diego's "An audit for you" card, posted as activity d1."""
    await post_card(
        sessions,
        DIEGO,
        kind="audit_assigned",
        subjects=[f"audit:{audit_id}"],
        activity_id="d1",
        tenant_id=council.tenant_id,
    )


def cancel_with(audit_id: int, reason: str) -> dict[str, Any]:
    return {"action": "cancel_audit", "audit_id": audit_id, f"cancel_reason_{audit_id}": reason}


async def test_patti_cancels_an_audit_and_the_auditor_s_card_says_so(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    await diego_s_card_is_posted(sessions, council, audit_id)

    asked = await chat.say(f"audit cancel {audit_id}", who=PATTI)

    [form] = [c for c in asked.cards if f"Cancel audit #{audit_id}?" in card_text(c)]
    assert f"cancel_reason_{audit_id}" in inputs(form)
    assert (await audit_row(sessions, audit_id)).state == "assigned"  # nothing yet
    pressed = await press(
        chat, button(form, "Cancel audit") | cancel_with(audit_id, "Case closed"), who=PATTI
    )
    assert "Audit cancelled ✓" in pressed.text and "Why: Case closed" in pressed.text
    assert (await audit_row(sessions, audit_id)).state == "cancelled"
    [cancelled] = await logged(sessions, "audit.cancelled")
    assert cancelled.actor_id == council.id("patti")
    assert cancelled.before is not None and cancelled.before["state"] == "assigned"
    assert cancelled.after is not None and cancelled.after["reason"] == "Case closed"
    [update] = [
        d for d in await queued(sessions, "audit_assigned") if d.replaces_activity_id == "d1"
    ]
    assert "This audit was cancelled." in card_text(update.card)
    assert "[Record grades]" not in card_text(update.card)

    again = await press(chat, cancel_with(audit_id, "Twice"), who=PATTI)
    assert again.error == "This audit is already cancelled."
    assert len(await logged(sessions, "audit.cancelled")) == 1


async def test_only_the_qa_team_cancels_and_bad_requests_change_nothing(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    done_id = await assigned(sessions, council, auditor="joni", case_index=1, state="completed")

    for who in (DIEGO, MEGAN):
        pressed = await press(chat, cancel_with(audit_id, "Not mine to cancel"), who=who)
        assert pressed.error == "Only the QA team can cancel an audit."
    typed = await chat.say(f"audit cancel {audit_id}", who=DIEGO)
    assert "not available for your role" in typed.text
    blank = await press(chat, cancel_with(audit_id, "   "), who=PATTI)
    assert (
        blank.error
        == "Please say why it is cancelled, in up to 2,000 characters. Nothing was changed."
    )
    completed = await press(chat, cancel_with(done_id, "Too late"), who=PATTI)
    assert completed.error == "This audit is completed, so it can't be cancelled."
    no_number = await chat.say("audit cancel the one for C-1", who=PATTI)
    assert "I can't find an open audit by that number or case reference." in no_number.text
    by_case = await chat.say(f"audit cancel {case_ref(council).lower()}", who=PATTI)
    assert f"Cancel audit #{audit_id}?" in by_case.text  # the case's one open audit
    nowhere = await chat.say("audit cancel 999999", who=PATTI)
    assert "I can't find that audit." in nowhere.text

    assert (await audit_row(sessions, audit_id)).state == "assigned"
    assert (await audit_row(sessions, done_id)).state == "completed"
    assert await logged(sessions, "audit.cancelled") == []
    assert len(await logged(sessions, "denied.cancel_audit")) == 2


async def test_a_declined_audit_can_be_cancelled_from_the_qa_team_s_card(
    chat: Chat, sessions: SessionMaker
) -> None:
    _, audit_id = await declined_audit(chat, sessions)
    [to_patti] = await queued(sessions, "audit_declined")
    offered = [b["title"] for b in buttons(to_patti.card)]
    assert offered == ["Reassign", "Cancel audit"]  # Cancel audit sits under "Cancel this audit"

    pressed = await press(chat, cancel_with(audit_id, "Child moved out of area"), who=PATTI)

    assert "Audit cancelled ✓" in pressed.text
    assert (await audit_row(sessions, audit_id)).state == "cancelled"


# Reassigning an open audit: its auditor is off sick, say


async def test_patti_reassigns_an_audit_in_progress_and_a_second_press_is_told(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego", state="in_progress")
    await diego_s_card_is_posted(sessions, council, audit_id)

    asked = await chat.say(f"audit reassign {audit_id}", who=PATTI)

    [form] = [c for c in asked.cards if f"Reassign audit #{audit_id}" in card_text(c)]
    offered = [c["title"] for c in inputs(form)[f"auditor_id_{audit_id}"]["choices"]]
    assert offered == ["Joni Sherman, East: 0 open", "Patti Fernandez: 0 open"]
    reassign = button(form, "Reassign")
    assert reassign["from_auditor"] == council.id("diego")
    choose_joni = reassign | {f"auditor_id_{audit_id}": str(council.id("joni"))}

    pressed = await press(chat, choose_joni, who=PATTI)

    assert "Reassigned ✓ to Joni Sherman." in pressed.text
    row = await audit_row(sessions, audit_id)
    assert (row.auditor_id, row.state) == (council.id("joni"), "in_progress")
    [moved] = await logged(sessions, "audit.reassigned")
    assert moved.before is not None and moved.before["auditor_id"] == council.id("diego")
    [to_joni] = [
        d
        for d in await queued(sessions, "audit_assigned")
        if d.recipient_staff_id == council.id("joni")
    ]
    assert "[Record grades]" in card_text(to_joni.card)
    [to_diego] = [
        d for d in await queued(sessions, "audit_assigned") if d.replaces_activity_id == "d1"
    ]
    assert "Passed on. This audit is now with Joni Sherman." in card_text(to_diego.card)

    again = await press(
        chat, reassign | {f"auditor_id_{audit_id}": str(council.id("patti"))}, who=PATTI
    )
    assert again.error == "Already reassigned: Joni Sherman has it."
    assert (await audit_row(sessions, audit_id)).auditor_id == council.id("joni")


async def test_reassigning_tells_the_old_auditor_the_practitioner_and_the_team_manager(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    audit_id = await assigned(sessions, council, auditor="diego")
    before = {d.id for d in await queued(sessions, "audit_assigned")} | {
        d.id for d in await queued(sessions, "audit_assigned_copy")
    }
    form = next(
        c
        for c in (await chat.say(f"audit reassign {audit_id}", who=PATTI)).cards
        if "Reassign" in card_text(c)
    )
    choose_joni = button(form, "Reassign") | {f"auditor_id_{audit_id}": str(council.id("joni"))}

    await press(chat, choose_joni, who=PATTI)

    new = [
        d
        for kind in ("audit_assigned", "audit_assigned_copy")
        for d in await queued(sessions, kind)
        if d.id not in before and d.replaces_activity_id is None
    ]
    names = {person.id: person.display_name for person in council.staff.values()}
    told = {names[d.recipient_staff_id]: (d.summary, card_text(d.card)) for d in new}
    assert set(told) == {"Joni Sherman", "Diego Siciliani", "Alex Wilber", "Megan Bowen"}
    summary, text = told["Diego Siciliani"]
    assert summary == "An audit is no longer yours"
    assert "This audit is no longer yours" in text and "now with Joni Sherman" in text
    assert "[Record grades]" not in text
    for copied in ("Alex Wilber", "Megan Bowen"):
        summary, text = told[copied]
        assert summary == "An audit has a new auditor"
        assert "Joni Sherman" in text
        assert "C-" not in summary


async def test_audit_reassign_is_for_the_qa_team_and_open_audits(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await ready(chat, sessions)
    done_id = await assigned(sessions, council, auditor="diego", state="completed")
    open_id = await assigned(sessions, council, auditor="diego", case_index=1)

    assert (
        "not available for your role"
        in (await chat.say(f"audit reassign {open_id}", who=DIEGO)).text
    )
    assert (
        "This audit is already completed."
        in (await chat.say(f"audit reassign {done_id}", who=PATTI)).text
    )
    asked_nothing = await chat.say("audit reassign", who=PATTI)
    assert "Which audit? For example: audit reassign 12" in asked_nothing.text
    second_id = await assigned(sessions, council, auditor="joni", case_index=1, state="declined")
    two = await chat.say(f"audit reassign {case_ref(council, index=1)}", who=PATTI)
    assert f"That case has 2 open audits: #{open_id} (" in two.text
    assert f"#{second_id} (" in two.text
    # A press from someone outside QA, with a made-up from_auditor, changes nothing.
    forged = {
        "action": "reassign_audit",
        "audit_id": open_id,
        "from_auditor": council.id("diego"),
        f"auditor_id_{open_id}": str(council.id("joni")),
    }
    refused = await press(chat, forged, who=MEGAN)
    assert refused.error == "Only the QA team can reassign an audit."
    assert (await audit_row(sessions, open_id)).auditor_id == council.id("diego")

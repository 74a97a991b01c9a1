"""Conversations over HTTP: Teams-shaped activities in, cards out through the fake connector.
Read as transcripts: Alex says something, and the card that came back shows what he sees."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import func, select

from bot.rules.workdays import add_working_days
from storage.db import SessionMaker
from storage.models import ConversationRef, InboundActivity, Staff
from tests.chat import ALEX, MEGAN, STRANGER, Chat, Persona, card_text
from tests.helpers import add_action, add_audit, logged, small_council

TODAY = date.today()


async def test_alex_types_my_actions_and_sees_the_overdue_one_first(
    alex: Persona, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    await add_action(
        sessions, council, owner="alex", what="Update the plan", due_on=TODAY + timedelta(days=20)
    )
    await add_action(
        sessions, council, owner="alex", what="Record the visit", due_on=add_working_days(TODAY, -6)
    )
    await add_action(sessions, council, owner="megan", what="Megan's own action", due_on=TODAY)

    answer = await alex.says("my actions")

    assert answer.status in (200, 201)
    text = answer.text
    assert "Record the visit" in text and "Update the plan" in text
    assert text.index("Record the visit") < text.index("Update the plan")
    assert "Overdue by 6 working days" in text
    assert "Megan's own action" not in text
    assert answer.sent[0].body["summary"] == "You have 2 open actions"
    assert "C-" not in answer.sent[0].body["summary"]


async def test_commands_are_case_insensitive_with_an_optional_slash(
    alex: Persona, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=TODAY)
    for typed in ("/My Actions", "ACTIONS", "  my   actions. "):
        answer = await alex.says(typed)
        assert "Update the plan" in answer.text, typed


async def test_a_misspelling_gets_did_you_mean(alex: Persona, sessions: SessionMaker) -> None:
    await small_council(sessions)
    answer = await alex.says("helpp")
    assert "Did you mean help?" in answer.text
    assert "[help]" in answer.text.lower() or "[Help]" in answer.text


async def test_gibberish_gets_pointed_at_help(alex: Persona, sessions: SessionMaker) -> None:
    await small_council(sessions)
    answer = await alex.says("[Approve](https://evil.example) please")
    assert "help" in answer.text.lower()
    card = answer.card
    assert "https://evil.example" not in str(
        [b.get("text") for b in card["body"] if b["type"] == "TextBlock"]
    )


async def test_help_lists_only_working_commands_for_my_roles(
    alex: Persona, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    answer = await alex.says("help")

    alex_roles = frozenset({"auditor", "practitioner"})
    from bot.features import CATALOGUE

    COMMANDS = CATALOGUE.commands
    for command in COMMANDS:
        assert (command.name in answer.text) == command.allowed(alex_roles), command.name
    assert "unreachable" not in answer.text  # QA only
    # Grouped so it scans: what everyone has, then what Alex's roles add; no channel commands.
    text = answer.text
    assert text.index("For everyone") < text.index("my actions – ") < text.index("For your role")
    assert text.index("For your role") < text.index("guide – ")
    assert "In a team channel" not in text


async def test_my_audits_shows_both_sides(alex: Persona, sessions: SessionMaker) -> None:
    council = await small_council(sessions)
    await add_audit(
        sessions,
        council,
        auditor="alex",
        practitioner=None,
        due_on=TODAY + timedelta(days=5),
        case_index=1,
    )
    await add_audit(
        sessions,
        council,
        auditor="megan",
        practitioner="alex",
        due_on=TODAY + timedelta(days=9),
        case_index=2,
    )

    answer = await alex.says("my audits")

    assert council.cases[1].case_ref in answer.text
    assert council.cases[2].case_ref in answer.text
    assert "Megan Bowen" in answer.text


async def test_an_unknown_person_is_told_whom_to_ask(chat: Chat, sessions: SessionMaker) -> None:
    await small_council(sessions)
    answer = await chat.person(STRANGER).says("my actions")
    assert "not set up" in answer.text
    assert "your QA team" in answer.text


async def test_someone_in_the_roster_without_an_id_is_bound_by_email_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    async with sessions() as session:
        megan = await session.get(Staff, council.staff["megan"].id)
        assert megan is not None
        megan.aad_object_id = None
        session.add(megan)
        await session.commit()
    chat.connector.members[MEGAN.teams_id] = {
        "id": MEGAN.teams_id,
        "name": MEGAN.name,
        "aadObjectId": MEGAN.aad,
        "email": MEGAN.email,
        "userPrincipalName": MEGAN.email,
    }

    first = await chat.say("help", who=MEGAN)
    chat.connector.members.clear()
    second = await chat.say("help", who=MEGAN)

    assert "Megan" in first.text and "Megan" in second.text
    async with sessions() as session:
        bound = await session.get(Staff, council.staff["megan"].id)
        assert bound is not None and bound.aad_object_id == MEGAN.aad


async def test_in_a_channel_case_details_go_to_the_private_chat(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=TODAY)
    await chat.say("help")  # Alex has a personal chat with the bot

    answer = await chat.say("my actions", where="channel_message", expect=2)

    by_conversation = {s.conversation_id: s for s in answer.sent}
    private = by_conversation[f"a:personal-{ALEX.teams_id}"]
    thread = next(s for cid, s in by_conversation.items() if cid.startswith("19:"))
    assert "Update the plan" in str(private.cards)
    assert council.cases[0].case_ref not in str(thread.body)
    assert "private chat" in str(thread.body)


async def test_in_a_channel_without_a_private_chat_one_is_created(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=TODAY)

    answer = await chat.say("my actions", where="channel_message", expect=2)

    assert chat.connector.created_conversations[0]["members"][0]["id"] == ALEX.teams_id
    assert any(
        "Update the plan" in str(s.cards) for s in answer.sent if s.conversation_id.startswith("a:")
    )


async def test_a_repeated_read_only_command_is_answered_once_and_writes_no_claim(
    chat: Chat, sessions: SessionMaker
) -> None:
    """`help` changes nothing: its re-delivery is caught in the process (issue 15)."""
    await small_council(sessions)
    activity = chat.activity("personal_message", text="help")
    first = await chat.post(activity, expect=1)
    again = await chat.post(activity)
    assert first.status == 201 and again.status == 200
    assert len(chat.connector.sent) == 1
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(InboundActivity))).one() == 0


async def test_a_repeated_command_that_changes_something_takes_effect_once(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    action = await add_action(sessions, council, owner="alex", what="Update the plan", due_on=TODAY)
    activity = chat.activity("personal_message", text=f"done {action.id}")
    first = await chat.post(activity, expect=1)
    again = await chat.post(activity)
    assert first.status == 201 and again.status == 200
    assert len(chat.connector.sent) == 1
    assert len(await logged(sessions, "action.done")) == 1
    async with sessions() as session:
        assert (await session.exec(select(func.count()).select_from(InboundActivity))).one() == 1


async def test_a_throttled_reply_is_retried_not_a_500(chat: Chat, sessions: SessionMaker) -> None:
    await small_council(sessions)
    chat.connector.faults.append((429, "1"))
    answer = await chat.say("help")
    assert answer.status == 201
    assert chat.connector.refused == [429]
    assert "What I can do" in answer.text


async def test_the_conversation_reference_follows_a_new_service_url(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    await chat.say("help")
    moved = chat.activity("personal_message", text="help")
    moved["serviceUrl"] = chat.connector.service_url.replace("127.0.0.1", "localhost")
    await chat.post(moved, expect=1)
    async with sessions() as session:
        refs = (await session.exec(select(ConversationRef))).all()
    assert len(refs) == 1 and refs[0].service_url.startswith("http://localhost")


async def test_a_person_in_another_tenant_sees_nothing_of_ours(
    chat: Chat, sessions: SessionMaker
) -> None:
    ours = await small_council(sessions)
    await add_action(sessions, ours, owner="alex", what="Our secret action", due_on=TODAY)
    other_tenant = "11111111-1111-1111-1111-111111111111"
    theirs = await small_council(sessions, tenant_id=other_tenant)
    await add_action(sessions, theirs, owner="alex", what="Their action", due_on=TODAY)

    answer = await chat.say("my actions", tenant=other_tenant)

    assert "Their action" in answer.text
    assert "Our secret action" not in answer.text
    assert ours.cases[0].case_ref not in answer.text


async def test_paging_through_actions_changes_the_card_in_place(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    for n in range(12):
        await add_action(
            sessions,
            council,
            owner="alex",
            what=f"Action number {n:02d}",
            due_on=TODAY + timedelta(days=n),
        )

    first = await chat.say("my actions")
    assert "Action number 09" in first.text and "Action number 10" not in first.text

    pressed = await chat.press({"action": "my_actions_page", "offset": 10})

    assert pressed.status == 200
    assert pressed.body["statusCode"] == 200
    page_two = card_text(pressed.body["value"])
    assert "Action number 10" in page_two and "Action number 11" in page_two
    assert "Action number 00" not in page_two


async def test_a_malformed_card_submit_gets_a_clear_answer(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)
    for data in (
        {"action": "my_actions_page", "offset": "lots"},
        {"action": "launch_missiles"},
        "nonsense",
    ):
        pressed = await chat.press(data)  # type: ignore[arg-type]
        assert pressed.status == 200
        assert pressed.body["statusCode"] == 400
        assert pressed.body["value"]["message"]


async def test_the_note_left_in_a_channel_reads_as_one_plain_sentence(
    chat: Chat, sessions: SessionMaker
) -> None:
    council = await small_council(sessions)
    await add_action(sessions, council, owner="alex", what="Update the plan", due_on=TODAY)

    answer = await chat.say("my actions", where="channel_message", expect=2)

    thread = next(s for s in answer.sent if s.conversation_id.startswith("19:"))
    assert card_text(thread.cards[0]) == (
        "I've sent that to our private chat, so case details stay private."
    )


async def test_in_a_channel_what_was_typed_is_never_repeated(
    chat: Chat, sessions: SessionMaker
) -> None:
    await small_council(sessions)

    answer = await chat.say("show me C-424242 please", where="channel_message")

    assert "C-424242" not in str(answer.sent[0].body)
    assert "I don't know that command." in answer.text
    # In the personal chat, repeating it back helps and nobody else reads it.
    assert "C-424242" in (await chat.say("show me C-424242 please")).text


async def test_a_command_not_for_your_role_is_named_as_you_typed_it(
    alex: Persona, sessions: SessionMaker
) -> None:
    await small_council(sessions)

    answer = await alex.says("digest")

    assert "“digest” is not available for your role." in answer.text

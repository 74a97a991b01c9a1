"""Choosing channels: `use this channel for qa digests|briefings` and `stop using this channel`,
typed in a channel by the QA team or an admin, and the offer posted when the bot joins a team."""

from __future__ import annotations

import pytest

from bot.features.channels import handlers as channel_commands
from cards.channels import team_welcome_card
from storage.db import SessionMaker, transaction
from storage.models import ChannelUse, ConversationRef
from tests.chat import ALEX, PATTI, Chat, button, buttons, card_text
from tests.helpers import (
    GENERAL,
    QA_CHANNEL,
    audit_council,
    channel_message_seen,
    channel_uses,
    logged,
    person,
    personal_chat,
    request,
    rows,
)


async def test_patti_chooses_general_for_briefings_and_the_channel_itself_is_stored(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions)

    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        reply = await channel_commands.use_channel(
            request(session, patti, args="for briefings", conversation_id=thread)
        )

    shown = card_text(reply.content())
    assert "Done ✓ I'll post Best Practice Briefings here" in shown
    assert "this channel (General)" in shown
    assert not reply.private and reply.error is None
    # Posts go to the channel, not to the thread the command was typed in.
    assert await channel_uses(sessions) == [(GENERAL, "briefings")]
    [use] = await rows(sessions, ChannelUse)
    assert use.chosen_by == council.id("patti")
    [chosen] = await logged(sessions, "channel.chosen")
    assert chosen.actor_id == council.id("patti")
    assert chosen.after == {"conversation_ref_id": use.conversation_ref_id, "purpose": "briefings"}


async def test_choosing_again_says_so_and_adds_nothing(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions)
    for _ in range(2):
        async with transaction(sessions) as session:
            patti = await person(session, council.id("patti"))
            reply = await channel_commands.use_channel(
                request(session, patti, args="for qa digests", conversation_id=thread)
            )
    assert "Already posting the monthly QA digest here" in card_text(reply.content())
    assert await channel_uses(sessions) == [(GENERAL, "qa_digests")]
    assert len(await logged(sessions, "channel.chosen")) == 1


async def test_one_channel_may_take_both_and_stop_one_of_them(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions, QA_CHANNEL, name="QA team")
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        for args in ("for qa digests", "for briefings"):
            await channel_commands.use_channel(
                request(session, patti, args=args, conversation_id=thread)
            )
        stopped = await channel_commands.stop_using_channel(
            request(session, patti, args="for briefings", conversation_id=thread)
        )

    shown = card_text(stopped.content())
    assert "Stopped ✓" in shown and "Best Practice Briefings" in shown
    assert "It still gets the monthly QA digest." in shown
    assert await channel_uses(sessions) == [(QA_CHANNEL, "qa_digests")]
    [entry] = await logged(sessions, "channel.stopped")
    assert entry.before == {"purposes": ["briefings", "qa_digests"]}
    assert entry.after == {"purposes": ["qa_digests"]}


async def test_stop_using_this_channel_stops_everything_and_a_second_stop_changes_nothing(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions)
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        for args in ("for qa digests", "for briefings"):
            await channel_commands.use_channel(
                request(session, patti, args=args, conversation_id=thread)
            )
        await channel_commands.stop_using_channel(request(session, patti, conversation_id=thread))
        again = await channel_commands.stop_using_channel(
            request(session, patti, conversation_id=thread)
        )
    assert await channel_uses(sessions) == []
    assert "I wasn't posting anything to this channel" in card_text(again.content())
    assert len(await logged(sessions, "channel.stopped")) == 1


async def test_in_a_personal_chat_it_says_to_go_to_the_channel_and_stores_nothing(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
    chat_id = await personal_chat(sessions, patti)
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        reply = await channel_commands.use_channel(
            request(session, patti, args="for briefings", conversation_id=chat_id)
        )
    assert "This works in a team channel" in card_text(reply.content())
    assert reply.error == "This works in a team channel, not here."
    assert await rows(sessions, ChannelUse) == []
    [refusal] = await logged(sessions, "refused.use_channel")
    assert refusal.after == {"reason": "not_a_channel"}


@pytest.mark.parametrize("who", ["alex", "megan", "isaiah"])
async def test_only_qa_or_an_admin_may_choose_and_a_refusal_is_logged(
    sessions: SessionMaker, who: str
) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions)
    async with transaction(sessions) as session:
        someone = await person(session, council.id(who))
        reply = await channel_commands.use_channel(
            request(session, someone, args="for briefings", conversation_id=thread)
        )
        stop = await channel_commands.stop_using_channel(
            request(session, someone, conversation_id=thread)
        )
    assert reply.error == "Only the QA team or an admin can choose the channels I post to."
    assert stop.error == reply.error
    assert await rows(sessions, ChannelUse) == []
    assert [r.actor_id for r in await logged(sessions, "denied.use_channel")] == [council.id(who)]
    assert len(await logged(sessions, "denied.stop_channel")) == 1


async def test_an_admin_may_choose(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions)
    async with transaction(sessions) as session:
        grady = await person(session, council.id("grady"))
        grady.roles = "admin"
        session.add(grady)
    async with transaction(sessions) as session:
        grady = await person(session, council.id("grady"))
        reply = await channel_commands.use_channel(
            request(session, grady, args="briefings", conversation_id=thread)
        )
    assert reply.error is None
    assert await channel_uses(sessions) == [(GENERAL, "briefings")]


async def test_an_unknown_kind_of_post_is_explained(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    thread = await channel_message_seen(sessions)
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        reply = await channel_commands.use_channel(
            request(session, patti, args="for cake", conversation_id=thread)
        )
    assert "use this channel for qa digests" in card_text(reply.content())
    assert await rows(sessions, ChannelUse) == []


async def test_the_welcome_card_offers_both_and_its_button_chooses_the_channel(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    card = team_welcome_card().model_dump(mode="json", by_alias=True, exclude_none=True)
    assert [b["data"] for b in buttons(card)] == [
        {"action": "use_channel", "purpose": "briefings"},
        {"action": "use_channel", "purpose": "qa_digests"},
    ]
    data = button(card, "Post QA digests here")
    payload = channel_commands.UseChannel.model_validate(data)
    # A press on a card in a channel comes from the card's thread.
    thread = await channel_message_seen(sessions, QA_CHANNEL, name="QA team")
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        reply = await channel_commands.on_use_channel(
            request(session, patti, conversation_id=thread), payload
        )
    assert "I'll post the monthly QA digest to this channel (QA team)" in card_text(reply.content())
    assert await channel_uses(sessions) == [(QA_CHANNEL, "qa_digests")]
    # Only the channel's own reference was added beside the thread's.
    assert sorted(r.conversation_id for r in await rows(sessions, ConversationRef)) == sorted(
        [QA_CHANNEL, f"{QA_CHANNEL};messageid=1764148442112"]
    )


# Over HTTP, once the lead has registered the commands (bot.commands.COMMANDS) and the handler
# passes the conversation id to commands.


async def test_over_http_patti_types_it_in_general_and_alex_cannot(
    chat: Chat, sessions: SessionMaker
) -> None:
    await audit_council(sessions)
    answer = await chat.say(
        "<at>QA Loop</at> use this channel for briefings", who=PATTI, where="channel_message"
    )
    assert "Done ✓ I'll post Best Practice Briefings here" in answer.text
    assert answer.sent[0].conversation_id.startswith(GENERAL)
    refused = await chat.say(
        "<at>QA Loop</at> stop using this channel", who=ALEX, where="channel_message"
    )
    assert "not available for your role" in refused.text
    assert await channel_uses(sessions) == [(GENERAL, "briefings")]

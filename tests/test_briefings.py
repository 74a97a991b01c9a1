"""Best Practice Briefings in chat: `briefing` for anyone, the QA team's form, preview, edit,
publish now to the briefing channels and the monthly job; nothing with a case reference reaches
a channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.features import CATALOGUE
from bot.features.briefings import handlers as briefing_flow
from bot.features.channels import handlers as channel_commands
from bot.settings import Settings
from cards.channels import team_welcome_card
from jobs import briefing as briefing_job
from jobs.runs import Job
from jobs.runs import run_job as run_for_tenants
from storage.db import SessionMaker, transaction
from storage.models import Briefing, Case
from tests.chat import PATTI, Chat, button, buttons, card_text
from tests.helpers import (
    GENERAL,
    NOW,
    QA_CHANNEL,
    AuditCouncil,
    audit_council,
    channel_message_seen,
    deliveries,
    logged,
    person,
    request,
    rows,
)

FORM = {
    "action": "save_briefing",
    "title": "Purposeful visits",
    "read": "A visit has a purpose the child understands.\n\nWrite down what you saw and heard.",
    "key_messages": "- See the child alone\n- Record their words [not a link](https://x.test)",
    "link": "https://academy.example.org/visits",
}


NAMES = {GENERAL: "General", QA_CHANNEL: "QA team"}


def _json(card: Any) -> dict[str, Any]:
    return (
        card
        if isinstance(card, dict)
        else card.model_dump(mode="json", by_alias=True, exclude_none=True)
    )


async def _press(
    sessions: SessionMaker,
    council: AuditCouncil,
    who: str,
    data: dict[str, Any],
    *,
    conversation_id: str | None = None,
) -> Any:
    """Press a button as the router would: the payload parsed, then the action run."""
    action = CATALOGUE.verbs[data["action"]]
    payload = action.payload.model_validate(data)
    async with transaction(sessions) as session:
        someone = await person(session, council.id(who))
        return await action.run(request(session, someone, conversation_id=conversation_id), payload)


async def _use_for_briefings(sessions: SessionMaker, council: AuditCouncil, *channels: str) -> None:
    for channel in channels:
        thread = await channel_message_seen(sessions, channel, name=NAMES[channel])
        async with transaction(sessions) as session:
            patti = await person(session, council.id("patti"))
            await channel_commands.use_channel(
                request(session, patti, args="for briefings", conversation_id=thread)
            )


async def _saved(sessions: SessionMaker, council: AuditCouncil) -> int:
    reply = await _press(sessions, council, "patti", FORM)
    assert reply.error is None, reply.error
    [briefing] = await rows(sessions, Briefing)
    return int(briefing.id)


async def test_patti_writes_a_briefing_and_sees_the_preview_with_publish_and_edit(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    await _use_for_briefings(sessions, council, GENERAL)
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        form = await briefing_flow.show_briefing(request(session, patti, args="new"))
    assert "New Best Practice Briefing" in card_text(form.content())
    assert button(form.content(), "Preview")["action"] == "save_briefing"

    preview = await _press(sessions, council, "patti", FORM)

    shown = card_text(preview.content())
    assert "Saved ✓ This is how staff will see it." in shown
    assert "Purposeful visits" in shown and "• See the child alone" in shown
    # Typed text is shown literally: the markdown link stays text.
    assert "• Record their words [not a link](https://x.test)" in shown
    assert "It will be posted to: General." in shown
    [briefing] = await rows(sessions, Briefing)
    assert briefing.state == "draft" and briefing.author_id == council.id("patti")
    assert briefing.key_messages == [
        "See the child alone",
        "Record their words [not a link](https://x.test)",
    ]
    assert briefing.read == FORM["read"]
    titles = [b["title"] for b in buttons(preview.content())]
    assert titles == ["Publish now", "Publish on Tue 8 Dec", "Edit"]
    assert button(preview.content(), "Publish now") == {
        "action": "publish_briefing",
        "briefing_id": briefing.id,
    }
    [saved] = await logged(sessions, "briefing.saved")
    assert saved.actor_id == council.id("patti") and saved.after is not None
    assert saved.after["title"] == "Purposeful visits" and saved.after["via"] == "form"


async def test_a_form_with_problems_comes_back_with_the_messages_and_what_was_typed(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    bad = FORM | {"title": "", "link": "http://academy.example.org", "key_messages": "\n \n"}

    reply = await _press(sessions, council, "patti", bad)

    card = reply.content()
    shown = card_text(card)
    assert "Please give the briefing a title." in shown
    assert "The link must be a web address starting with https://." in shown
    assert "Please give at least one key message, one per line." in shown
    inputs = {i["id"]: i.get("value") for i in _inputs(card)}
    assert inputs["read"] == FORM["read"] and inputs["link"] == "http://academy.example.org"
    assert await rows(sessions, Briefing) == []
    [refusal] = await logged(sessions, "refused.save_briefing")
    assert refusal.after == {"reason": "form", "fields": ["title", "key_messages", "link"]}


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


async def test_a_briefing_that_names_a_case_is_refused(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    case_ref = council.cases["North"][0].case_ref
    reply = await _press(
        sessions, council, "patti", FORM | {"read": f"See case {case_ref.lower()}."}
    )
    assert f"It names a case reference ({case_ref})" in card_text(reply.content())
    assert await rows(sessions, Briefing) == []
    # A year, or a number that is no case here, is fine.
    fine = await _press(sessions, council, "patti", FORM | {"read": "Since 2026, 4000 visits."})
    assert fine.error is None and len(await rows(sessions, Briefing)) == 1


async def test_edit_reopens_the_form_with_its_values_and_saving_changes_that_draft(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    briefing_id = await _saved(sessions, council)

    form = await _press(
        sessions, council, "patti", {"action": "edit_briefing", "briefing_id": briefing_id}
    )

    values = {i["id"]: i.get("value") for i in _inputs(form.content())}
    assert values == {
        "title": "Purposeful visits",
        "read": FORM["read"],
        "key_messages": "See the child alone\nRecord their words [not a link](https://x.test)",
        "link": "https://academy.example.org/visits",
    }
    data = button(form.content(), "Preview")
    assert data == {"action": "save_briefing", "briefing_id": briefing_id}
    await _press(sessions, council, "patti", data | values | {"title": "Purposeful visits, again"})
    [briefing] = await rows(sessions, Briefing)
    assert briefing.title == "Purposeful visits, again"
    [edited] = await logged(sessions, "briefing.edited")
    assert edited.before is not None and edited.before["title"] == "Purposeful visits"


async def test_publish_now_posts_to_every_briefing_channel_once(sessions: SessionMaker) -> None:
    council = await audit_council(sessions)
    await _use_for_briefings(sessions, council, GENERAL, QA_CHANNEL)
    briefing_id = await _saved(sessions, council)
    publish = {"action": "publish_briefing", "briefing_id": briefing_id}

    done = await _press(sessions, council, "patti", publish)

    assert "Published ✓" in card_text(done.content())
    assert "Posted on 26 Nov 10:02 to: General, QA team." in card_text(done.content())
    assert "[Publish now]" not in card_text(done.content())
    [briefing] = await rows(sessions, Briefing)
    assert briefing.state == "published" and briefing.published_at == NOW
    posted = await deliveries(sessions, "briefing")
    assert [ref.conversation_id for _, ref in posted] == [GENERAL, QA_CHANNEL]
    for delivery, _ in posted:
        assert delivery.recipient_staff_id is None
        assert delivery.summary == "New Best Practice Briefing"
        assert "Purposeful visits" in card_text(delivery.card)
        assert "[Publish now]" not in card_text(delivery.card)
    [published] = await logged(sessions, "briefing.published")
    assert published.actor_id == council.id("patti")
    assert published.after is not None and published.after["via"] == "card"

    again = await _press(sessions, council, "patti", publish)
    assert again.summary == "Already published"
    assert len(await deliveries(sessions, "briefing")) == 2
    assert len(await logged(sessions, "briefing.published")) == 1


async def test_publish_with_no_briefing_channel_says_how_to_choose_one(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    briefing_id = await _saved(sessions, council)
    reply = await _press(
        sessions, council, "patti", {"action": "publish_briefing", "briefing_id": briefing_id}
    )
    assert reply.error is not None and "use this channel for briefings" in reply.error
    [briefing] = await rows(sessions, Briefing)
    assert briefing.state == "draft"
    assert await deliveries(sessions, "briefing") == []


@pytest.mark.parametrize(
    "data",
    [
        {"action": "new_briefing"},
        FORM,
        {"action": "publish_briefing", "briefing_id": 1},
        {"action": "schedule_briefing", "briefing_id": 1},
        {"action": "edit_briefing", "briefing_id": 1},
        {"action": "preview_briefing"},
    ],
    ids=lambda d: d["action"],
)
async def test_only_the_qa_team_may_write_or_publish(
    sessions: SessionMaker, data: dict[str, Any]
) -> None:
    council = await audit_council(sessions)
    await _use_for_briefings(sessions, council, GENERAL)
    await _saved(sessions, council)

    reply = await _press(sessions, council, "megan", data)

    assert reply.error == "Only the QA team can write and publish briefings."
    [briefing] = await rows(sessions, Briefing)
    assert briefing.state == "draft" and briefing.title == "Purposeful visits"
    assert await deliveries(sessions, "briefing") == []
    [denial] = await logged(sessions, f"denied.{data['action']}")
    assert denial.actor_id == council.id("megan")


async def test_briefing_shows_anyone_the_latest_and_qa_also_gets_new_and_drafts(
    sessions: SessionMaker,
) -> None:
    council = await audit_council(sessions)
    async with transaction(sessions) as session:
        lynne = await person(session, council.id("lynne"))
        nothing = await briefing_flow.show_briefing(request(session, lynne))
    assert "There is no briefing yet." in card_text(nothing.content())
    assert list(buttons(nothing.content())) == []

    await _use_for_briefings(sessions, council, GENERAL)
    first = await _saved(sessions, council)
    await _press(sessions, council, "patti", {"action": "publish_briefing", "briefing_id": first})
    await _press(sessions, council, "patti", FORM | {"title": "Next month's"})

    async with transaction(sessions) as session:
        lynne = await person(session, council.id("lynne"))
        latest = await briefing_flow.show_briefing(request(session, lynne))
        patti = await person(session, council.id("patti"))
        for_qa = await briefing_flow.show_briefing(request(session, patti))
    shown = card_text(latest.content())
    assert "Purposeful visits" in shown and "Published today." in shown
    assert "Next month's" not in shown
    assert "[New briefing]" not in shown and "[Learn more]" in shown
    assert "[New briefing]" in card_text(for_qa.content())
    assert "[Preview the newest draft]" in card_text(for_qa.content())


async def test_the_monthly_job_posts_the_newest_scheduled_briefing_once(
    sessions: SessionMaker, settings: Settings
) -> None:
    council = await audit_council(sessions)
    await _use_for_briefings(sessions, council, GENERAL)
    older = await _saved(sessions, council)
    await _press(sessions, council, "patti", FORM | {"title": "Not scheduled"})
    scheduled = await _press(
        sessions, council, "patti", {"action": "schedule_briefing", "briefing_id": older}
    )
    assert "Scheduled ✓ It will be posted on Tue 8 Dec." in card_text(scheduled.content())
    job = Job("briefing", briefing_job.run, at=lambda s: s.briefing_time, days="tue")
    on_the_day = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)

    [dry] = await run_for_tenants(
        job, sessions=sessions, settings=settings, now=on_the_day, dry_run=True
    )
    assert [json.loads(p.dry_run_line())["conversation"] for p in dry.planned] == [GENERAL]
    assert await deliveries(sessions, "briefing") == []

    [ran] = await run_for_tenants(job, sessions=sessions, settings=settings, now=on_the_day)
    assert ran.state == "ran" and len(ran.planned) == 1
    [(posted, ref)] = await deliveries(sessions, "briefing")
    assert ref.conversation_id == GENERAL and posted.recipient_staff_id is None
    assert "Purposeful visits" in card_text(posted.card)
    states = {b.title: b.state for b in await rows(sessions, Briefing)}
    assert states == {"Purposeful visits": "published", "Not scheduled": "draft"}
    [published] = await logged(sessions, "briefing.published")
    assert published.actor_id is None and published.after is not None
    assert published.after["via"] == "job"

    # Nothing else is scheduled: a later month's run posts nothing.
    [later] = await run_for_tenants(
        job, sessions=sessions, settings=settings, now=datetime(2027, 1, 12, 10, tzinfo=UTC)
    )
    assert later.planned == [] and len(await deliveries(sessions, "briefing")) == 1


async def test_no_case_reference_reaches_any_channel(sessions: SessionMaker) -> None:
    """Every card the channel flows post or answer with, scanned for the council's case refs."""
    council = await audit_council(sessions)
    refs = [c.case_ref for cases in council.cases.values() for c in cases]
    thread = await channel_message_seen(sessions)
    cards: list[Any] = [team_welcome_card()]
    async with transaction(sessions) as session:
        patti = await person(session, council.id("patti"))
        for args in ("for briefings", "for qa digests"):
            reply = await channel_commands.use_channel(
                request(session, patti, args=args, conversation_id=thread)
            )
            cards.append(reply.card)
        cards.append(
            (
                await briefing_flow.show_briefing(request(session, patti, conversation_id=thread))
            ).card
        )
    briefing_id = await _saved(sessions, council)
    done = await _press(
        sessions,
        council,
        "patti",
        {"action": "publish_briefing", "briefing_id": briefing_id},
        conversation_id=thread,
    )
    cards.append(done.card)
    posted = await deliveries(sessions, "briefing")
    assert posted
    cards += [d.card for d, _ in posted]
    summaries = [d.summary for d, _ in posted]
    text = json.dumps([_json(c) for c in cards]) + json.dumps(summaries)
    assert [r for r in refs if r in text] == []
    # And the check is real: a case's reference does show where it belongs.
    async with transaction(sessions) as session:
        case = await session.get(Case, council.cases["North"][0].id)
        assert case is not None and case.case_ref in refs


async def test_over_http_patti_publishes_from_general_and_it_is_queued_for_general(
    chat: Chat, sessions: SessionMaker
) -> None:
    await audit_council(sessions)
    chosen = await chat.say(
        "<at>QA Loop</at> use this channel for briefings", who=PATTI, where="channel_message"
    )
    assert "Done ✓" in chosen.text
    form = await chat.say("<at>QA Loop</at> briefing new", who=PATTI, where="channel_message")
    data = button(form.cards[0], "Preview")
    preview = await chat.press(data | {k: v for k, v in FORM.items() if k != "action"}, who=PATTI)
    card = preview.body["value"]
    published = await chat.press(button(card, "Publish now"), who=PATTI)
    assert "Published ✓" in card_text(published.body["value"])
    [(_, ref)] = await deliveries(sessions, "briefing")
    assert ref.conversation_id == GENERAL

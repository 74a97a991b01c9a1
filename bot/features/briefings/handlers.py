"""`briefing`, `briefing new` and the briefing form: QA writes, previews, schedules and publishes
Best Practice Briefings to staff channels."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from bot.payloads import Id, Payload
from bot.rules.briefing import (
    DRAFT,
    PUBLISHED,
    READY,
    BriefingText,
    form_problems,
    scheduled_day,
    split_key_messages,
)
from bot.services.briefings import (
    AUTHORS,
    FormText,
    case_ref_problem,
    case_refs_in,
    channel_label,
    publish,
    view_of,
)
from bot.turn import Reply, Request
from cards.action_done import uk_moment
from cards.briefing import (
    briefing_form_card,
    briefing_preview_card,
    briefing_published_card,
    latest_briefing_card,
)
from cards.common import uk_date
from cards.names import CardVerb
from cards.notices import error_card, usage_card
from storage import actions, audit_log, briefings, channels
from storage.channels import Purpose
from storage.models import Briefing

_NOT_ALLOWED = "Only the QA team can write and publish briefings."


async def show_briefing(request: Request) -> Reply:
    """`briefing`: the latest published briefing; `briefing new` opens the form (QA)."""
    if request.args == "new":
        return await new_briefing(request)
    if request.args:
        message = "Type briefing to read the latest, or briefing new to write one."
        return Reply(card=usage_card(message), summary=message)
    session, tenant_id = request.session, request.tenant_id
    latest = await briefings.latest_published(session=session, tenant_id=tenant_id)
    may_author = bool(request.person.role_set & AUTHORS)
    drafts = (
        await briefings.count_unpublished(session=session, tenant_id=tenant_id) if may_author else 0
    )
    view = None
    if latest is not None:
        zone = await actions.display_zone(session=session, tenant_id=tenant_id)
        published = latest.published_at.astimezone(zone) if latest.published_at else None
        view = view_of(latest, published_local=published)
    card = latest_briefing_card(view, today=request.today, may_author=may_author, drafts=drafts)
    summary = f"Best Practice Briefing: {latest.title}" if latest else "No briefing yet"
    return Reply(card=card, summary=summary[:200])


async def new_briefing(request: Request) -> Reply:
    """`briefing new` (QA): the authoring form."""
    if refused := _refuse_non_author(request, CardVerb.NEW_BRIEFING):
        return refused
    # A draft is the author's until it is published: asked in a channel, the form goes to their
    # personal chat, so the team does not watch it being written.
    return Reply(card=briefing_form_card(), summary="New Best Practice Briefing", private=True)


class NoData(Payload):
    pass


class SaveBriefing(Payload):
    briefing_id: Id | None = None
    title: FormText = ""
    read: FormText = ""
    key_messages: FormText = ""
    link: FormText = ""
    problems: ClassVar[dict[str, str]] = {
        "title": "The title is too long.",
        "read": "The five-minute read is too long.",
        "key_messages": "The key messages are too long.",
        "link": "The link is too long.",
    }


class BriefingAction(Payload):
    briefing_id: Id


class PreviewBriefing(Payload):
    briefing_id: Id | None = Field(None)


async def on_new(request: Request, _payload: NoData) -> Reply:
    return await new_briefing(request)


async def on_save(request: Request, payload: SaveBriefing) -> Reply:
    """Preview: a form with a problem comes back with the message and what was typed."""
    if refused := _refuse_non_author(request, CardVerb.SAVE_BRIEFING):
        return refused
    values = {
        "title": payload.title,
        "read": payload.read,
        "key_messages": payload.key_messages,
        "link": payload.link,
    }
    messages = split_key_messages(payload.key_messages)
    problems = form_problems(
        title=payload.title, read=payload.read, key_messages=messages, link=payload.link
    )
    text = BriefingText(payload.title, payload.read, tuple(messages), payload.link or None)
    if not problems and (refs := await case_refs_in(request.session, request.tenant_id, text)):
        problems["read"] = case_ref_problem(refs)
    existing = None
    if payload.briefing_id is not None:
        existing = await briefings.get(
            session=request.session, tenant_id=request.tenant_id, briefing_id=payload.briefing_id
        )
        if existing is None or existing.state == PUBLISHED:
            message = (
                "That briefing has been published, so it can't be changed. Start a new one."
                if existing
                else "I can't find that briefing."
            )
            _log(request, "refused.save_briefing", payload.briefing_id, "published_or_missing")
            return Reply(card=error_card(message), summary=message, error=message)
    if problems:
        _log(request, "refused.save_briefing", payload.briefing_id, "form", fields=list(problems))
        card = briefing_form_card(values=values, problems=problems, briefing_id=payload.briefing_id)
        return Reply(card=card, summary="Please check the form")
    saved = await briefings.save_draft(
        session=request.session,
        tenant_id=request.tenant_id,
        text=text,
        author_id=request.person.id,
        briefing=existing,
        via="form",
    )
    return await _preview(request, saved, notice="Saved ✓ This is how staff will see it.")


async def on_preview(request: Request, payload: PreviewBriefing) -> Reply:
    if refused := _refuse_non_author(request, CardVerb.PREVIEW_BRIEFING):
        return refused
    session, tenant_id = request.session, request.tenant_id
    found = (
        await briefings.get(session=session, tenant_id=tenant_id, briefing_id=payload.briefing_id)
        if payload.briefing_id is not None
        else await briefings.newest_unpublished(session=session, tenant_id=tenant_id)
    )
    if found is None:
        message = "There is no draft briefing. Type briefing new to write one."
        return Reply(card=error_card(message), summary=message, error=message)
    return await _preview(request, found)


async def on_edit(request: Request, payload: BriefingAction) -> Reply:
    if refused := _refuse_non_author(request, CardVerb.EDIT_BRIEFING):
        return refused
    found = await _unpublished(request, payload.briefing_id, CardVerb.EDIT_BRIEFING)
    if isinstance(found, Reply):
        return found
    values = {
        "title": found.title,
        "read": found.read,
        "key_messages": "\n".join(found.key_messages or ()),
        "link": found.link or "",
    }
    card = briefing_form_card(values=values, briefing_id=found.id)
    return Reply(card=card, summary="Edit the briefing")


async def on_schedule(request: Request, payload: BriefingAction) -> Reply:
    if refused := _refuse_non_author(request, CardVerb.SCHEDULE_BRIEFING):
        return refused
    found = await _unpublished(request, payload.briefing_id, CardVerb.SCHEDULE_BRIEFING)
    if isinstance(found, Reply):
        return found
    day = scheduled_day(request.today)
    if found.state != READY:
        briefings.set_state(
            request.session,
            found,
            state=READY,
            actor_id=request.person.id,
            now=request.now,
            via="card",
        )
    notice = f"Scheduled ✓ It will be posted on {uk_date(day, today=request.today)}."
    return await _preview(request, found, notice=notice)


async def on_publish(request: Request, payload: BriefingAction) -> Reply:
    if refused := _refuse_non_author(request, CardVerb.PUBLISH_BRIEFING):
        return refused
    session, tenant_id = request.session, request.tenant_id
    found = await briefings.get(
        session=session, tenant_id=tenant_id, briefing_id=payload.briefing_id
    )
    if found is None:
        message = "I can't find that briefing."
        _log(request, "refused.publish_briefing", payload.briefing_id, "missing")
        return Reply(card=error_card(message), summary=message, error=message)
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    targets = await channels.channels_for(
        session=session, tenant_id=tenant_id, purpose=Purpose.BRIEFINGS
    )
    names = [channel_label(ref) for ref in targets]
    if found.state == PUBLISHED:
        assert found.published_at is not None
        when = uk_moment(found.published_at.astimezone(zone), today=request.today)
        _log(request, "refused.publish_briefing", found.id, "already_published")
        card = briefing_published_card(view_of(found), channels=names, when=f"on {when}")
        return Reply(card=card, summary="Already published")
    if not targets:
        message = (
            "No channel is set up for briefings yet. In a team channel, type "
            "@QA Loop use this channel for briefings, then press Publish now again."
        )
        _log(request, "refused.publish_briefing", found.id, "no_channels")
        return Reply(card=error_card(message), summary=message, error=message)
    await publish(
        session,
        briefing=found,
        targets=targets,
        actor_id=request.person.id,
        now=request.now,
        via="card",
    )
    when = uk_moment(request.now.astimezone(zone), today=request.today)
    card = briefing_published_card(view_of(found), channels=names, when=f"on {when}")
    return Reply(card=card, summary="Briefing published")


async def _preview(request: Request, briefing: Briefing, *, notice: str | None = None) -> Reply:
    targets = await channels.channels_for(
        session=request.session, tenant_id=request.tenant_id, purpose=Purpose.BRIEFINGS
    )
    card = briefing_preview_card(
        view_of(briefing),
        today=request.today,
        scheduled_for=scheduled_day(request.today),
        channels=[channel_label(ref) for ref in targets],
        notice=notice,
    )
    return Reply(card=card, summary=notice or "Preview of your briefing")


async def _unpublished(request: Request, briefing_id: int, verb: str) -> Briefing | Reply:
    found = await briefings.get(
        session=request.session, tenant_id=request.tenant_id, briefing_id=briefing_id
    )
    if found is None or found.state not in (DRAFT, READY):
        message = (
            "That briefing has been published, so it can't be changed. Start a new one."
            if found
            else "I can't find that briefing."
        )
        _log(request, f"refused.{verb}", briefing_id, "published_or_missing")
        return Reply(card=error_card(message), summary=message, error=message)
    return found


def _refuse_non_author(request: Request, verb: str) -> Reply | None:
    if request.person.role_set & AUTHORS:
        return None
    _log(request, f"denied.{verb}", None, "role")
    return Reply(card=error_card(_NOT_ALLOWED), summary=_NOT_ALLOWED, error=_NOT_ALLOWED)


def _log(
    request: Request,
    event: str,
    briefing_id: int | None,
    reason: str,
    *,
    fields: list[str] | None = None,
) -> None:
    after: dict[str, object] = {"reason": reason}
    if fields:
        after["fields"] = fields
    audit_log.record(
        request.session,
        tenant_id=request.tenant_id,
        actor_id=request.person.id,
        event=event,
        entity="briefing",
        entity_id=briefing_id,
        after=after,
    )

"""Best Practice Briefings: `briefing` (the latest, for anyone), `briefing new` (QA: the form),
the author's preview with Publish now / Publish on the schedule / Edit, and publishing to the
channels chosen for briefings. The monthly `briefing` job publishes with the same function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notify
from bot.payloads import CardAction, Id, Payload
from bot.rules.briefing import (
    DRAFT,
    PUBLISHED,
    READY,
    BriefingFileError,
    BriefingText,
    FileProblem,
    form_problems,
    parse_briefing_file,
    scheduled_day,
    split_key_messages,
)
from bot.rules.roles import Role
from bot.turn import Reply, Request
from cards.action_done import uk_moment
from cards.briefing import (
    EDIT,
    NEW,
    PREVIEW,
    PUBLISH,
    SAVE,
    SCHEDULE,
    BriefingView,
    briefing_card,
    briefing_form_card,
    briefing_preview_card,
    briefing_published_card,
    latest_briefing_card,
)
from cards.common import card_json, uk_date
from cards.notices import error_card, usage_card
from storage import actions, audit_log, briefings, channels, outbox, staff
from storage.channels import Purpose
from storage.models import Briefing, ConversationRef

KIND = "briefing"
# The notification preview in the channel: our words only, never the author's.
CHANNEL_SUMMARY = "New Best Practice Briefing"
AUTHORS = frozenset({Role.QA})
_NOT_ALLOWED = "Only the QA team can write and publish briefings."
# A token that could be a case reference ("C-10001", "AB123456"); checked against the tenant's
# cases, so a year or a phone number does not trip it.
_CASE_LIKE = re.compile(r"(?<![\w-])[A-Za-z]{0,3}-?\d{3,10}(?![\w-])")


def view_of(briefing: Briefing, *, published_local: datetime | None = None) -> BriefingView:
    """`published_local`: the publishing moment in the tenant's zone, for the date shown."""
    assert briefing.id is not None
    published = published_local or briefing.published_at
    return BriefingView(
        id=briefing.id,
        title=briefing.title,
        read=briefing.read,
        key_messages=tuple(briefing.key_messages or ()),
        link=briefing.link,
        state=briefing.state,
        published_on=published.date() if published else None,
    )


def channel_label(ref: ConversationRef) -> str:
    return ref.channel_name or "General"


# --- commands -----------------------------------------------------------------------------------


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
    if refused := _refuse_non_author(request, "new_briefing"):
        return refused
    # A draft is the author's until it is published: asked in a channel, the form goes to their
    # personal chat, so the team does not watch it being written.
    return Reply(card=briefing_form_card(), summary="New Best Practice Briefing", private=True)


# --- card actions -------------------------------------------------------------------------------

FormText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]


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
    if refused := _refuse_non_author(request, "save_briefing"):
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
    if refused := _refuse_non_author(request, "preview_briefing"):
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
    if refused := _refuse_non_author(request, "edit_briefing"):
        return refused
    found = await _unpublished(request, payload.briefing_id, "edit_briefing")
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
    if refused := _refuse_non_author(request, "schedule_briefing"):
        return refused
    found = await _unpublished(request, payload.briefing_id, "schedule_briefing")
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
    if refused := _refuse_non_author(request, "publish_briefing"):
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


# --- publishing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelPost:
    conversation: ConversationRef
    dedupe_key: str
    card: dict[str, object]


def channel_posts(briefing: Briefing, targets: list[ConversationRef]) -> list[ChannelPost]:
    """One post per channel; the key makes a second Publish (or the job) a no-op per channel."""
    card = card_json(briefing_card(view_of(briefing)))
    return [
        ChannelPost(ref, f"{KIND}:{briefing.id}:{ref.id}", card)
        for ref in targets
        if ref.id is not None
    ]


async def publish(
    session: AsyncSession,
    *,
    briefing: Briefing,
    targets: list[ConversationRef],
    actor_id: int | None,
    now: datetime,
    via: str,
) -> list[ChannelPost]:
    """Mark published and queue the posts, in the caller's transaction: both or neither."""
    posts = channel_posts(briefing, targets)
    briefings.set_state(session, briefing, state=PUBLISHED, actor_id=actor_id, now=now, via=via)
    for post in posts:
        assert post.conversation.id is not None
        await outbox.enqueue(
            session,
            tenant_id=briefing.tenant_id,
            dedupe_key=post.dedupe_key,
            kind=KIND,
            conversation_ref_id=post.conversation.id,
            summary=CHANNEL_SUMMARY,
            card=dict(post.card),
        )
    return posts


async def case_refs_in(session: AsyncSession, tenant_id: str, text: BriefingText) -> list[str]:
    """Case references of this tenant named anywhere in the briefing."""
    words = " ".join([text.title, text.read, *text.key_messages, text.link or ""])
    candidates = {m.upper() for m in _CASE_LIKE.findall(words)}
    return await briefings.known_case_refs(
        session=session, tenant_id=tenant_id, candidates=candidates
    )


def case_ref_problem(refs: list[str]) -> str:
    return (
        f"It names a case reference ({', '.join(refs[:3])}). Briefings go to staff channels, "
        "so please take it out."
    )


# --- helpers ------------------------------------------------------------------------------------


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


ACTIONS: dict[str, CardAction] = {
    NEW: CardAction(NoData, on_new),
    SAVE: CardAction(SaveBriefing, on_save),
    PREVIEW: CardAction(PreviewBriefing, on_preview),
    EDIT: CardAction(BriefingAction, on_edit),
    SCHEDULE: CardAction(BriefingAction, on_schedule),
    PUBLISH: CardAction(BriefingAction, on_publish),
}


# --- import from a file (qaloop briefing import) ------------------------------------------------

PREVIEW_KIND = "briefing_preview"


@dataclass(frozen=True, slots=True)
class Imported:
    briefing_id: int
    title: str
    state: str
    # Whether the preview card was queued to the author's personal chat.
    preview_sent: bool


async def import_briefing(
    session: AsyncSession,
    *,
    tenant_id: str,
    text: str,
    author_email: str,
    ready: bool,
    now: datetime,
    today: date,
) -> Imported:
    """Store the file's briefing as a draft (or scheduled, `ready`) and send its author the
    preview. Raises BriefingFileError with every problem; then nothing is stored."""
    problems: list[FileProblem] = []
    try:
        parsed: BriefingText | None = parse_briefing_file(text)
    except BriefingFileError as exc:
        problems += exc.problems
        parsed = None
    author = await staff.active_by_email(session=session, tenant_id=tenant_id, email=author_email)
    if author is None:
        problems.append(FileProblem(0, f"--author {author_email}: nobody with that email here."))
    elif not author.role_set & AUTHORS:
        problems.append(FileProblem(0, f"--author {author_email}: only the QA team can author."))
    if parsed is not None:
        refs = await case_refs_in(session, tenant_id, parsed)
        for ref in refs:
            line = next((n for n, row in enumerate(text.splitlines(), 1) if ref in row.upper()), 0)
            problems.append(FileProblem(line, case_ref_problem([ref])))
    if problems:
        raise BriefingFileError(sorted(problems, key=lambda p: p.line))
    assert parsed is not None and author is not None
    saved = await briefings.save_draft(
        session=session, tenant_id=tenant_id, text=parsed, author_id=author.id, via="import"
    )
    if ready:
        briefings.set_state(session, saved, state=READY, actor_id=author.id, now=now, via="import")
    targets = await channels.channels_for(
        session=session, tenant_id=tenant_id, purpose=Purpose.BRIEFINGS
    )
    card = briefing_preview_card(
        view_of(saved),
        today=today,
        scheduled_for=scheduled_day(today),
        channels=[channel_label(ref) for ref in targets],
        notice="Imported ✓ This is how staff will see it.",
    )
    sent = await notify.tell(
        session,
        tenant_id=tenant_id,
        person=author,
        kind=PREVIEW_KIND,
        key=f"{PREVIEW_KIND}:{saved.id}",
        summary="Your briefing is ready to preview",
        card=card,
    )
    assert saved.id is not None
    return Imported(saved.id, saved.title, saved.state, sent)

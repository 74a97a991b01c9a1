"""Best Practice Briefings as content: the view of a briefing, the channels it goes to, checking
it names no case, publishing it, and importing one from a file. The briefings feature's form and
the monthly `briefing` job publish with the same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.briefing import (
    PUBLISHED,
    READY,
    BriefingFileError,
    BriefingText,
    FileProblem,
    parse_briefing_file,
    scheduled_day,
)
from bot.rules.cases import case_ref_words
from bot.rules.roles import Role
from bot.services import notify
from cards.briefing import BriefingView, briefing_card, briefing_preview_card
from cards.common import card_json
from cards.names import CardKind
from storage import briefings, channels, outbox, staff
from storage.channels import Purpose
from storage.models import Briefing, ConversationRef

# The notification preview in the channel: our words only, never the author's.
CHANNEL_SUMMARY = "New Best Practice Briefing"
AUTHORS = frozenset({Role.QA})


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


# --- card actions -------------------------------------------------------------------------------

FormText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]


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
        ChannelPost(ref, f"{CardKind.BRIEFING}:{briefing.id}:{ref.id}", card)
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
            kind=CardKind.BRIEFING,
            conversation_ref_id=post.conversation.id,
            summary=CHANNEL_SUMMARY,
            card=dict(post.card),
        )
    return posts


async def case_refs_in(session: AsyncSession, tenant_id: str, text: BriefingText) -> list[str]:
    """Case references of this tenant named anywhere in the briefing."""
    words = " ".join([text.title, text.read, *text.key_messages, text.link or ""])
    # Any word that could be a case reference, checked against the tenant's cases, so a year or
    # a phone number does not trip it.
    candidates = set(case_ref_words(words))
    return await briefings.known_case_refs(
        session=session, tenant_id=tenant_id, candidates=candidates
    )


def case_ref_problem(refs: list[str]) -> str:
    return (
        f"It names a case reference ({', '.join(refs[:3])}). Briefings go to staff channels, "
        "so please take it out."
    )


# --- helpers ------------------------------------------------------------------------------------


# --- import from a file (qaloop briefing import) ------------------------------------------------


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
        kind=CardKind.BRIEFING_PREVIEW,
        key=f"{CardKind.BRIEFING_PREVIEW}:{saved.id}",
        summary="Your briefing is ready to preview",
        card=card,
    )
    assert saved.id is not None
    return Imported(saved.id, saved.title, saved.state, sent)

"""Best Practice Briefings: drafts, the ones ready for the monthly post, and the published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.briefing import DRAFT, PUBLISHED, READY, BriefingText
from storage import audit_log
from storage.models import Briefing, Case


def _fields(briefing: Briefing) -> dict[str, Any]:
    return {
        "title": briefing.title,
        "read_chars": len(briefing.read),
        "key_messages": len(briefing.key_messages or []),
        "link": briefing.link,
        "state": briefing.state,
    }


async def get(*, session: AsyncSession, tenant_id: str, briefing_id: int) -> Briefing | None:
    result = await session.exec(
        select(Briefing).where(Briefing.tenant_id == tenant_id, Briefing.id == briefing_id)
    )
    return result.first()


async def save_draft(
    *,
    session: AsyncSession,
    tenant_id: str,
    text: BriefingText,
    author_id: int | None,
    briefing: Briefing | None = None,
    via: str,
) -> Briefing:
    """Store a new draft, or change `briefing` (not yet published) to `text`."""
    before = _fields(briefing) if briefing is not None else None
    if briefing is None:
        briefing = Briefing(tenant_id=tenant_id, title="", read="", author_id=author_id)
    briefing.title = text.title
    briefing.read = text.read
    briefing.key_messages = list(text.key_messages)
    briefing.link = text.link
    session.add(briefing)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=author_id,
        event="briefing.saved" if before is None else "briefing.edited",
        entity="briefing",
        entity_id=briefing.id,
        before=before,
        after={**_fields(briefing), "via": via},
    )
    return briefing


def set_state(
    session: AsyncSession,
    briefing: Briefing,
    *,
    state: str,
    actor_id: int | None,
    now: datetime,
    via: str,
) -> None:
    before = {"state": briefing.state, "published_at": _iso(briefing.published_at)}
    briefing.state = state
    if state == PUBLISHED:
        briefing.published_at = now
    session.add(briefing)
    audit_log.record(
        session,
        tenant_id=briefing.tenant_id,
        actor_id=actor_id,
        event=f"briefing.{state}",
        entity="briefing",
        entity_id=briefing.id,
        before=before,
        after={"state": state, "published_at": _iso(briefing.published_at), "via": via},
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def latest_published(*, session: AsyncSession, tenant_id: str) -> Briefing | None:
    result = await session.exec(
        select(Briefing)
        .where(Briefing.tenant_id == tenant_id, Briefing.state == PUBLISHED)
        .order_by(col(Briefing.published_at).desc(), col(Briefing.id).desc())
    )
    return result.first()


async def newest_unpublished(
    *, session: AsyncSession, tenant_id: str, states: tuple[str, ...] = (DRAFT, READY)
) -> Briefing | None:
    """The newest briefing in `states`: the monthly job asks for READY ones only."""
    result = await session.exec(
        select(Briefing)
        .where(Briefing.tenant_id == tenant_id, col(Briefing.state).in_(states))
        .order_by(col(Briefing.created_at).desc(), col(Briefing.id).desc())
    )
    return result.first()


async def count_unpublished(*, session: AsyncSession, tenant_id: str) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(Briefing)
        .where(Briefing.tenant_id == tenant_id, col(Briefing.state).in_((DRAFT, READY)))
    )
    return int(result.one())


async def known_case_refs(
    *, session: AsyncSession, tenant_id: str, candidates: set[str]
) -> list[str]:
    """Which of `candidates` are case references in this tenant: a briefing goes to staff
    channels, so it must not name a case."""
    if not candidates:
        return []
    result = await session.exec(
        select(Case.case_ref).where(
            Case.tenant_id == tenant_id, col(Case.case_ref).in_(sorted(candidates))
        )
    )
    return sorted(set(result.all()))


async def published_between(
    *, session: AsyncSession, tenant_id: str, start: datetime, end: datetime
) -> list[tuple[str, datetime]]:
    """Briefings published in [start, end), oldest first: their titles and when."""
    result = await session.exec(
        select(Briefing.title, Briefing.published_at)
        .where(
            Briefing.tenant_id == tenant_id,
            Briefing.state == PUBLISHED,
            col(Briefing.published_at) >= start,
            col(Briefing.published_at) < end,
        )
        .order_by(col(Briefing.published_at), col(Briefing.id))
    )
    return [(title, at) for title, at in result.all() if at is not None]

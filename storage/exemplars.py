"""Exemplars: suggesting one from an audit, the QA team's decision (once, compare-and-set), the
card's view of one, and the approved ones per theme for the learning links. Each change writes
its audit-log row in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.exemplars import APPROVED, DECLINED, SUGGESTED
from cards.exemplars import ExemplarView
from cards.practice import ExemplarNote
from storage import audit_log, staff
from storage.db import compare_and_set, locked
from storage.models import Exemplar


async def suggest(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_id: int,
    standard: str,
    theme: str,
    title: str,
    text: str,
    actor_id: int,
) -> Exemplar:
    exemplar = Exemplar(
        tenant_id=tenant_id,
        audit_id=audit_id,
        standard=standard,
        theme=theme,
        title=title,
        text=text,
        state=SUGGESTED,
        suggested_by=actor_id,
    )
    session.add(exemplar)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="exemplar.suggested",
        entity="exemplar",
        entity_id=exemplar.id,
        before=None,
        after={"audit_id": audit_id, "theme": theme, "state": SUGGESTED},
    )
    return exemplar


async def same_suggestion(
    *, session: AsyncSession, tenant_id: str, audit_id: int, theme: str, title: str, text: str
) -> Exemplar | None:
    """The same exemplar already suggested from this audit (a second press of Send)."""
    result = await session.exec(
        select(Exemplar).where(
            Exemplar.tenant_id == tenant_id,
            Exemplar.audit_id == audit_id,
            Exemplar.theme == theme,
            Exemplar.title == title,
            Exemplar.text == text,
        )
    )
    return result.first()


async def for_update(*, session: AsyncSession, tenant_id: str, exemplar_id: int) -> Exemplar | None:
    result = await session.exec(
        await locked(
            session,
            select(Exemplar).where(Exemplar.tenant_id == tenant_id, Exemplar.id == exemplar_id),
        )
    )
    return result.first()


async def decide(
    session: AsyncSession, exemplar: Exemplar, *, approve: bool, actor_id: int, now: datetime
) -> bool:
    """Suggested → approved or declined; False when someone decided first."""
    state = APPROVED if approve else DECLINED
    if not await compare_and_set(
        session, exemplar, {"state": SUGGESTED}, state=state, decided_by=actor_id, decided_at=now
    ):
        return False
    audit_log.record(
        session,
        tenant_id=exemplar.tenant_id,
        actor_id=actor_id,
        event=f"exemplar.{state}",
        entity="exemplar",
        entity_id=exemplar.id,
        before={"state": SUGGESTED},
        after={"state": state},
    )
    return True


async def exemplar_view(
    *,
    session: AsyncSession,
    tenant_id: str,
    exemplar_id: int,
    zone: ZoneInfo,
    titles: Mapping[str, str],
) -> ExemplarView | None:
    """`titles`: theme key → its name in the themes file (the key where it has gone)."""
    exemplar = (
        await session.exec(
            select(Exemplar).where(Exemplar.tenant_id == tenant_id, Exemplar.id == exemplar_id)
        )
    ).first()
    if exemplar is None or exemplar.id is None:
        return None
    people = await staff.names(
        session=session,
        tenant_id=tenant_id,
        ids={i for i in (exemplar.suggested_by, exemplar.decided_by) if i is not None},
    )
    return ExemplarView(
        id=exemplar.id,
        standard=exemplar.standard,
        theme_title=titles.get(exemplar.theme, exemplar.theme),
        title=exemplar.title,
        text=exemplar.text,
        state=exemplar.state,
        suggested_by=people.get(exemplar.suggested_by, "an auditor"),
        audit_id=exemplar.audit_id,
        decided_by=people.get(exemplar.decided_by) if exemplar.decided_by else None,
        decided_at=exemplar.decided_at.astimezone(zone) if exemplar.decided_at else None,
    )


async def approved_by_theme(
    *, session: AsyncSession, tenant_id: str
) -> dict[str, tuple[ExemplarNote, ...]]:
    """Theme key → its approved exemplars, newest approval first."""
    rows = await session.exec(
        select(Exemplar.theme, Exemplar.title, Exemplar.text)
        .where(Exemplar.tenant_id == tenant_id, Exemplar.state == APPROVED)
        .order_by(col(Exemplar.decided_at).desc(), col(Exemplar.id).desc())
    )
    found: dict[str, list[ExemplarNote]] = {}
    for theme, title, text in rows.all():
        found.setdefault(theme, []).append(ExemplarNote(title, text))
    return {theme: tuple(notes) for theme, notes in found.items()}

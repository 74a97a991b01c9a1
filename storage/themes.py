"""The practice themes ticked in audits: an audit's ticks, and replacing them (audit-logged)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.evidence import ThemeCount
from bot.rules.grades import DONE_AUDIT_STATES
from cards.grading import TaggedTheme
from storage import audit_log
from storage.models import Audit, AuditTheme, UTCDateTime


async def audit_themes(
    *, session: AsyncSession, tenant_id: str, audit_id: int
) -> tuple[TaggedTheme, ...]:
    rows = (
        await session.exec(
            select(AuditTheme)
            .where(AuditTheme.tenant_id == tenant_id, AuditTheme.audit_id == audit_id)
            .order_by(col(AuditTheme.id))
        )
    ).all()
    return tuple(TaggedTheme(r.theme, r.standard, r.title, r.finding) for r in rows)


async def set_audit_themes(
    session: AsyncSession, audit: Audit, *, actor_id: int, ticks: Collection[TaggedTheme]
) -> bool:
    """The audit's ticks become `ticks` (one per theme); False when they already were."""
    assert audit.id is not None
    rows = (
        await session.exec(
            select(AuditTheme).where(
                AuditTheme.tenant_id == audit.tenant_id, AuditTheme.audit_id == audit.id
            )
        )
    ).all()
    before = {r.theme: r.finding for r in rows}
    after = {t.key: t.finding for t in ticks}
    if before == after:
        return False
    wanted = {t.key: t for t in ticks}
    for row in rows:
        tick = wanted.get(row.theme)
        if tick is None:
            await session.delete(row)
        elif tick.finding != row.finding:
            row.finding = tick.finding
            session.add(row)
    for key, tick in wanted.items():
        if key not in before:
            session.add(
                AuditTheme(
                    tenant_id=audit.tenant_id,
                    audit_id=audit.id,
                    standard=tick.standard,
                    theme=key,
                    title=tick.title,
                    finding=tick.finding,
                    created_by=actor_id,
                )
            )
    audit_log.record(
        session,
        tenant_id=audit.tenant_id,
        actor_id=actor_id,
        event="audit.themes",
        entity="audit",
        entity_id=audit.id,
        before={k: v for k, v in before.items() if after.get(k) != v},
        after={k: v for k, v in after.items() if before.get(k) != v},
    )
    return True


async def theme_counts(
    *, session: AsyncSession, tenant_id: str, start: datetime, end: datetime
) -> list[ThemeCount]:
    """Each theme's ticks on audits completed in [start, end), by finding; a theme reads by the
    name it was last ticked with."""
    ticked = and_(
        col(Audit.id) == col(AuditTheme.audit_id),
        col(Audit.tenant_id) == tenant_id,
        col(Audit.state).in_(DONE_AUDIT_STATES),
        col(Audit.completed_at) >= sa.literal(start, UTCDateTime()),
        col(Audit.completed_at) < sa.literal(end, UTCDateTime()),
    )
    keys = [col(AuditTheme.standard), col(AuditTheme.theme), col(AuditTheme.finding)]
    connection = await session.connection()
    rows: Sequence[Any] = (
        await connection.execute(
            sa.select(*keys, func.count(), func.max(col(AuditTheme.id)))
            .select_from(AuditTheme)
            .join(Audit, ticked)
            .where(col(AuditTheme.tenant_id) == tenant_id)
            .group_by(*keys)
        )
    ).all()
    latest: dict[str, int] = {}
    for _, theme, _, _, newest in rows:
        latest[theme] = max(newest, latest.get(theme, 0))
    titles: dict[str, str] = {}
    if latest:
        named = await connection.execute(
            sa.select(col(AuditTheme.theme), col(AuditTheme.title)).where(
                col(AuditTheme.tenant_id) == tenant_id,
                col(AuditTheme.id).in_(sorted(latest.values())),
            )
        )
        titles = {theme: title for theme, title in named.all()}
    return [
        ThemeCount(standard, theme, titles.get(theme, theme), finding, audits)
        for standard, theme, finding, audits, _ in rows
    ]

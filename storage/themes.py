"""The practice themes ticked in audits: an audit's ticks, and replacing them (audit-logged)."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cards.grading import TaggedTheme
from storage import audit_log
from storage.models import Audit, AuditTheme


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

"""The practice themes ticked in audits: an audit's ticks, replacing them (audit-logged), and
the counts the themes report ranks. Counts only; what they mean is bot.rules.themes'."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import DONE_AUDIT_STATES
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


async def theme_counts(
    *,
    session: AsyncSession,
    tenant_id: str,
    since: datetime,
    until: datetime,
    team_ids: Collection[int] | None = None,
) -> Mapping[tuple[str, str], int]:
    """Audits done (completed at `since` ≤ t < `until`) that ticked each theme, by (finding,
    theme); only the given teams' audits when `team_ids` is given."""
    query = (
        select(AuditTheme.finding, AuditTheme.theme, func.count(func.distinct(Audit.id)))
        .join(Audit, col(Audit.id) == col(AuditTheme.audit_id))
        .where(
            AuditTheme.tenant_id == tenant_id,
            Audit.tenant_id == tenant_id,
            col(Audit.state).in_(DONE_AUDIT_STATES),
            col(Audit.completed_at) >= since,
            col(Audit.completed_at) < until,
        )
        .group_by(col(AuditTheme.finding), col(AuditTheme.theme))
    )
    if team_ids is not None:
        query = query.where(col(Audit.team_id).in_(team_ids))
    return {(finding, theme): n for finding, theme, n in (await session.exec(query)).all()}


async def theme_titles(*, session: AsyncSession, tenant_id: str) -> Mapping[str, tuple[str, str]]:
    """Each theme ever ticked: its standard and latest name as ticked (for a theme since removed
    from the file)."""
    rows = (
        await session.exec(
            select(AuditTheme.theme, AuditTheme.standard, AuditTheme.title)
            .where(AuditTheme.tenant_id == tenant_id)
            .order_by(col(AuditTheme.id))
        )
    ).all()
    return {theme: (standard, title) for theme, standard, title in rows}

"""The practice themes ticked in audits: an audit's ticks, replacing them (audit-logged), and the
themes report's counts by team, month, theme and finding (bot.rules.theme_report ranks them)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.digest import local_start
from bot.rules.evidence import ThemeCount
from bot.rules.grades import DONE_AUDIT_STATES
from bot.rules.theme_report import AuditTally, ThemeTally
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


def _completed_in(
    months: list[date], end: date, zone: ZoneInfo
) -> tuple[list[sa.ColumnElement[bool]], sa.ColumnElement[int]]:
    """Audits completed from the first month's start to the close of `end` (local dates), and
    the index in `months` of the month each was completed in."""
    starts = [sa.literal(local_start(m, zone), UTCDateTime()) for m in months]
    close = sa.literal(local_start(end + timedelta(days=1), zone), UTCDateTime())
    completed = col(Audit.completed_at)
    where = [
        col(Audit.state).in_(DONE_AUDIT_STATES),
        completed >= starts[0],
        completed < close,
    ]
    index = sa.case(
        *((completed < start, n - 1) for n, start in enumerate(starts[1:], 1)),
        else_=len(months) - 1,
    )
    return where, index


async def theme_counts(
    *,
    session: AsyncSession,
    tenant_id: str,
    months: list[date],
    end: date,
    zone: ZoneInfo,
    team_ids: Collection[int] | None = None,
) -> tuple[list[ThemeTally], list[AuditTally]]:
    """Completed audits (completed or moderated, in `months` up to the close of `end`) that
    ticked each theme as each finding, by the audit's team and month; and every completed audit
    by team and month, ticks or not. One row a tick, so a theme counts once an audit."""
    completed, month_index = _completed_in(months, end, zone)
    in_teams = [] if team_ids is None else [col(Audit.team_id).in_(sorted(team_ids))]
    tick_rows = (
        await (await session.connection()).execute(
            sa.select(
                col(Audit.team_id),
                month_index,
                col(AuditTheme.theme),
                col(AuditTheme.finding),
                func.max(col(AuditTheme.standard)),
                func.max(col(AuditTheme.title)),
                func.count(),
            )
            .select_from(AuditTheme)
            .join(
                Audit,
                and_(col(Audit.id) == col(AuditTheme.audit_id), col(Audit.tenant_id) == tenant_id),
            )
            .where(col(AuditTheme.tenant_id) == tenant_id, *completed, *in_teams)
            .group_by(
                col(Audit.team_id), month_index, col(AuditTheme.theme), col(AuditTheme.finding)
            )
        )
    ).all()
    audit_rows = (
        await (await session.connection()).execute(
            sa.select(col(Audit.team_id), month_index, func.count())
            .where(col(Audit.tenant_id) == tenant_id, *completed, *in_teams)
            .group_by(col(Audit.team_id), month_index)
        )
    ).all()
    return (
        [
            ThemeTally(team, months[index], theme, standard, title, finding, n)
            for team, index, theme, finding, standard, title, n in tick_rows
        ],
        [AuditTally(team, months[index], n) for team, index, n in audit_rows],
    )


async def theme_totals(
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

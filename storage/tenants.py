"""Tenants: a row appears the first time an allowed tenant talks to the bot."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage import audit_log
from storage.db import SessionMaker
from storage.models import Tenant


async def ensure(*, sessions: SessionMaker, tenant_id: str, timezone: str) -> None:
    """The tenant's row, made on first contact in the zone the bot runs its jobs in."""
    async with sessions() as session:
        if await session.get(Tenant, tenant_id) is not None:
            return
        session.add(Tenant(id=tenant_id, name="(not yet imported)", timezone=timezone))
        try:
            # Written first: the audit-log row refers to the tenant's row.
            await session.flush()
        except IntegrityError:  # another request created it first
            await session.rollback()
            return
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=None,
            event="tenant.seen",
            entity="tenant",
            entity_id=tenant_id,
        )
        try:
            await session.commit()
        except IntegrityError:  # another request created it first
            await session.rollback()


async def record_refused(
    *, sessions: SessionMaker, home_tenant_id: str, refused_tenant_id: str | None, timezone: str
) -> None:
    """A security audit row, in the bot's home tenant, for an activity refused because of its
    tenant (outside the allow-list, or none given); nothing is stored for the tenant itself."""
    await ensure(sessions=sessions, tenant_id=home_tenant_id, timezone=timezone)
    async with sessions() as session:
        audit_log.record(
            session,
            tenant_id=home_tenant_id,
            actor_id=None,
            event="security.tenant_refused",
            entity="tenant",
            entity_id=refused_tenant_id[:64] if refused_tenant_id else None,
        )
        await session.commit()


async def other_zones(*, sessions: SessionMaker, timezone: str) -> list[tuple[str, str]]:
    """Tenants whose time zone is not `timezone`, with theirs."""
    async with sessions() as session:
        rows = await session.exec(
            select(Tenant.id, Tenant.timezone).where(Tenant.timezone != timezone)
        )
        return [(tenant_id, zone) for tenant_id, zone in rows.all()]

"""Tenants: a row appears the first time an allowed tenant talks to the bot."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storage import audit_log
from storage.db import SessionMaker
from storage.models import Tenant


async def ensure(*, sessions: SessionMaker, tenant_id: str) -> None:
    async with sessions() as session:
        if await session.get(Tenant, tenant_id) is not None:
            return
        session.add(Tenant(id=tenant_id, name="(not yet imported)"))
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

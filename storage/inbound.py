"""Activity ids already handled, so Teams' re-deliveries take effect once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import SessionMaker
from storage.models import InboundActivity


async def claim(*, sessions: SessionMaker, tenant_id: str, activity_id: str) -> bool:
    """True the first time this activity id is seen for the tenant; False for a repeat."""
    async with sessions() as session:
        session.add(InboundActivity(tenant_id=tenant_id, activity_id=activity_id))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def remember_response(
    *, session: AsyncSession, tenant_id: str, activity_id: str, response: dict[str, Any]
) -> None:
    row = (
        await session.exec(
            select(InboundActivity).where(
                InboundActivity.tenant_id == tenant_id, InboundActivity.activity_id == activity_id
            )
        )
    ).first()
    if row is not None:
        row.response = response
        session.add(row)


async def earlier_response(
    *, session: AsyncSession, tenant_id: str, activity_id: str
) -> dict[str, Any] | None:
    result = await session.exec(
        select(InboundActivity.response).where(
            InboundActivity.tenant_id == tenant_id, InboundActivity.activity_id == activity_id
        )
    )
    response = result.first()
    return dict(response) if response is not None else None


async def forget_before(*, session: AsyncSession, cutoff: datetime) -> None:
    """Drop old ids: Teams re-delivers within minutes, not days."""
    await session.exec(delete(InboundActivity).where(col(InboundActivity.received_at) < cutoff))

"""The response to an inadequate audit: the alert, the action meeting within 3 working days and
the child visit the next working day, each tracked until recorded as done."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import CardAction
from storage.models import Audit

ACTIONS: dict[str, CardAction] = {}


async def respond_to_inadequate(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    actor_id: int,
    today: date,
    now: datetime,
) -> None:
    """Called in the completing transaction when an audit is completed as inadequate."""
    raise NotImplementedError

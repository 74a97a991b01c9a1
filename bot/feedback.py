"""The practitioner's feedback on their audit: the form, one response per audit editable for 7 days
with every version kept, and `feedback` (forms I still owe)."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import CardAction
from storage.models import Audit

ACTIONS: dict[str, CardAction] = {}


async def ask_for_feedback(
    session: AsyncSession, *, tenant_id: str, audit: Audit, today: date
) -> bool:
    """Called in the completing transaction: queue the feedback form to the audit's practitioner.

    False when there is nobody to ask or no chat with them yet (`feedback` still lists it).
    """
    raise NotImplementedError

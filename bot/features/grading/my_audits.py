"""`my audits`: audits a person is doing, and audits of their cases."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import PagePayload
from bot.services.refresh import posted_list
from bot.settings import Settings
from bot.turn import Command, Reply, Request
from cards.common import counted
from cards.my_audits import my_audits_card
from cards.names import CardKind, audit_subject, page_subject
from cards.views import PAGE_SIZE
from storage import audits
from storage.models import SentCard


async def show_my_audits(request: Request) -> Reply:
    assert request.person.id is not None
    return await my_audits_reply(
        request.session,
        request.tenant_id,
        request.person.id,
        today=request.today,
        offset=request.offset,
    )


async def my_audits_reply(
    session: AsyncSession, tenant_id: str, person_id: int, *, today: date, offset: int
) -> Reply:
    """One page of the person's audits, kept track of so a change redraws it that day."""
    items, page = await audits.my_audits(
        session=session,
        tenant_id=tenant_id,
        person_id=person_id,
        today=today,
        offset=offset,
        size=PAGE_SIZE,
    )
    card = my_audits_card(items=items, page=page, today=today)
    return Reply(
        card=card,
        summary=f"You have {counted(page.total, 'audit')}",
        private=True,
        kind=CardKind.MY_AUDITS,
        shows=(*(audit_subject(i.id) for i in items), page_subject(offset)),
    )


async def rebuild_my_audits(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """A `my audits` card posted today, drawn again: the same page as things stand now."""
    found = await posted_list(session, tenant_id, sent, today)
    if found is None:
        return None
    person_id, offset = found
    reply = await my_audits_reply(session, tenant_id, person_id, today=today, offset=offset)
    return reply.content(), reply.summary


async def page_of_audits(request: Request, payload: PagePayload) -> Reply:
    return await show_my_audits(request.at(payload.offset))


MY_AUDITS = Command(
    "my audits",
    "Audits you are doing and audits of your cases",
    show_my_audits,
    aliases=("audits", "my audit"),
    read_only=True,
)

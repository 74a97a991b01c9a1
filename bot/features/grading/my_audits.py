"""`my audits`: audits a person is doing, and audits of their cases."""

from __future__ import annotations

from bot.payloads import PagePayload
from bot.turn import Command, Reply, Request
from cards.common import counted
from cards.my_audits import my_audits_card
from cards.views import PAGE_SIZE
from storage import audits


async def show_my_audits(request: Request) -> Reply:
    assert request.person.id is not None
    items, page = await audits.my_audits(
        session=request.session,
        tenant_id=request.tenant_id,
        person_id=request.person.id,
        today=request.today,
        offset=request.offset,
        size=PAGE_SIZE,
    )
    card = my_audits_card(items=items, page=page, today=request.today)
    return Reply(card=card, summary=f"You have {counted(page.total, 'audit')}", private=True)


async def page_of_audits(request: Request, payload: PagePayload) -> Reply:
    return await show_my_audits(request.at(payload.offset))


MY_AUDITS = Command(
    "my audits",
    "Audits you are doing and audits of your cases",
    show_my_audits,
    aliases=("audits", "my audit"),
)

"""Exemplars as the QA team sees them: the approval card sent to each of them, and redrawn when
one of them decides."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import notify
from bot.services.practice import practice_for
from bot.services.theme_report import titles_of
from bot.settings import Settings
from cards.common import card_json
from cards.exemplars import REVIEW_SUMMARY, ExemplarView, exemplar_review_card
from cards.names import CardKind, exemplar_subject, subject_id
from storage import actions, allocation, exemplars
from storage.models import SentCard


async def view_of(
    session: AsyncSession, *, tenant_id: str, exemplar_id: int, settings: Settings
) -> ExemplarView | None:
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    return await exemplars.exemplar_view(
        session=session,
        tenant_id=tenant_id,
        exemplar_id=exemplar_id,
        zone=zone,
        titles=titles_of(practice_for(settings)),
    )


async def ask_qa(
    session: AsyncSession, *, tenant_id: str, view: ExemplarView, today: date, suggested_by: int
) -> int:
    """The approval card to each member of the QA team but the one who suggested it; how many."""
    card = exemplar_review_card(view, today=today)
    told = 0
    for person in await allocation.qa_team(session=session, tenant_id=tenant_id):
        if person.id == suggested_by:
            continue
        told += await notify.tell(
            session,
            tenant_id=tenant_id,
            person=person,
            kind=CardKind.EXEMPLAR_REVIEW,
            key=f"{CardKind.EXEMPLAR_REVIEW}:{view.id}:{person.id}",
            summary=REVIEW_SUMMARY,
            card=card,
            subjects=[exemplar_subject(view.id)],
        )
    return told


async def rebuild_review(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    exemplar_id = subject_id(sent.subject, "exemplar")
    if exemplar_id is None:
        return None
    view = await view_of(session, tenant_id=tenant_id, exemplar_id=exemplar_id, settings=settings)
    if view is None:
        return None
    return card_json(exemplar_review_card(view, today=today)), REVIEW_SUMMARY

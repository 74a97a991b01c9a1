"""Sending a card to someone's personal chat through the outbox, from a turn, a job or the CLI.

Nothing is sent here: a delivery is queued in the caller's transaction and the outbox sender posts
it after commit, at most once per dedupe key.
"""

from __future__ import annotations

import logging

from microsoft_teams.cards import AdaptiveCard
from sqlmodel.ext.asyncio.session import AsyncSession

from cards.common import card_json
from storage import conversations, outbox
from storage.models import Staff

log = logging.getLogger(__name__)


async def tell(
    session: AsyncSession,
    *,
    tenant_id: str,
    person: Staff,
    kind: str,
    key: str,
    summary: str,
    card: AdaptiveCard,
    subjects: list[str] | None = None,
) -> bool:
    """Queue `card` to the person's personal chat; False if the bot has no chat with them (yet).

    `key` names the message (e.g. "audit_assigned:12:34"): the same key is never queued twice.
    `summary` is the notification preview, so it never carries a case reference.
    `subjects` (e.g. ["audit:12"]) let cards already posted be updated in place later.
    """
    assert person.id is not None
    if not person.active:
        # A leaver gets nothing more; what was theirs has moved (bot.services.lifecycle).
        log.info("staff %s has left; %s not sent", person.id, kind)
        return False
    where = await conversations.personal_reference(
        session=session, tenant_id=tenant_id, staff_id=person.id
    )
    if where is None or where.id is None:
        log.info("no personal chat with staff %s; %s not sent", person.id, kind)
        return False
    await outbox.enqueue(
        session,
        tenant_id=tenant_id,
        dedupe_key=key,
        kind=kind,
        conversation_ref_id=where.id,
        recipient_staff_id=person.id,
        summary=summary,
        card=card_json(card),
        subjects=subjects,
    )
    return True

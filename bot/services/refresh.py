"""Cards already posted are updated in place when what they show changes (DESIGN §4).

Each kind of posted card (SentCard.kind) that can change has a rebuilder, declared by the feature
that owns the card (bot.feature.Feature.rebuilders): given the posted card's row, it builds the
card afresh from the database (with the bot's settings), or None when it no longer can. The app
passes the rebuilders in, bound to its settings (bot.turn.Rebuilders);
kinds without one (one-off notices) are never updated.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.turn import Rebuilders
from cards.names import subject_id
from storage import actions, outbox, reminders
from storage.models import SentCard


async def rebuilt_card(
    session: AsyncSession,
    rebuilders: Rebuilders,
    *,
    tenant_id: str,
    subject: str,
    conversation_id: str,
    activity_id: str,
    today: date,
) -> dict[str, Any] | None:
    """The posted card `activity_id` in that conversation, built afresh, if it shows `subject` and
    its kind has a rebuilder; used to answer a button press with that same card."""
    for sent, where in await outbox.cards_showing(session, tenant_id=tenant_id, subject=subject):
        if (
            rebuilders.knows(sent.kind)
            and sent.activity_id == activity_id
            and where.conversation_id == conversation_id
        ):
            built = await rebuilders.rebuild(session, tenant_id, sent, today)
            return built[0] if built else None
    return None


async def refresh_cards(
    session: AsyncSession,
    rebuilders: Rebuilders,
    *,
    tenant_id: str,
    subjects: list[str],
    today: date,
    change_key: str,
    except_activity_id: str | None = None,
) -> int:
    """Queue an in-place update of every posted card showing any of `subjects`; how many.

    One update per posted card however many of the subjects it shows. `change_key` names the
    change, so asking twice for the same change queues nothing more. The card whose button was
    pressed (`except_activity_id`) is left out: the answer to the press already updates it.
    """
    queued = 0
    done: set[tuple[int, str]] = set()
    for subject in subjects:
        for sent, where in await outbox.cards_showing(
            session, tenant_id=tenant_id, subject=subject
        ):
            posted = (sent.conversation_ref_id, sent.activity_id)
            if (
                not rebuilders.knows(sent.kind)
                or posted in done
                or sent.activity_id == except_activity_id
            ):
                continue
            done.add(posted)
            built = await rebuilders.rebuild(session, tenant_id, sent, today)
            if built is None:
                continue
            card, summary = built
            queued += await outbox.enqueue(
                session,
                tenant_id=tenant_id,
                dedupe_key=f"update:{sent.id}:{change_key}",
                kind=sent.kind,
                conversation_ref_id=sent.conversation_ref_id,
                summary=summary,
                card=card,
                recipient_staff_id=where.staff_id,
                replaces_activity_id=sent.activity_id,
            )
    return queued


async def posted_list(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[int, int] | None:
    """Whose list a posted list card is, and which page (offset) it shows; None for one posted
    before `today`: yesterday's list is left as it was, not redrawn for ever after."""
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    if sent.sent_at.astimezone(zone).date() != today:
        return None
    person_id = await reminders.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=sent.conversation_ref_id
    )
    if person_id is None:
        return None
    subjects = await outbox.subjects_of(
        session,
        tenant_id=tenant_id,
        conversation_ref_id=sent.conversation_ref_id,
        activity_id=sent.activity_id,
    )
    pages = [i for s in subjects if (i := subject_id(s, "page")) is not None]
    return person_id, min(pages, default=0)

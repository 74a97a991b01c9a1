"""The outbox: proactive messages are enqueued here and sent at most once by bot.delivery."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ConversationRef, Delivery, SentCard


async def enqueue(
    session: AsyncSession,
    *,
    tenant_id: str,
    dedupe_key: str,
    kind: str,
    conversation_ref_id: int,
    summary: str,
    card: dict[str, Any],
    recipient_staff_id: int | None = None,
    subjects: list[str] | None = None,
    replaces_activity_id: str | None = None,
) -> bool:
    """Queue one message; False (and nothing written) when its dedupe key was queued before.

    The dedupe key names the message, e.g. "my_qa:<staff id>:2026-11-26": the same key is never
    sent twice, however often a job or a button asks for it.
    """
    values = {
        "tenant_id": tenant_id,
        "dedupe_key": dedupe_key,
        "kind": kind,
        "conversation_ref_id": conversation_ref_id,
        "summary": summary,
        "card": card,
        "recipient_staff_id": recipient_staff_id,
        "subjects": subjects,
        "replaces_activity_id": replaces_activity_id,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def cards_showing(
    session: AsyncSession, *, tenant_id: str, subject: str
) -> list[tuple[SentCard, ConversationRef]]:
    """The cards already posted that show this subject, newest first, with where they are."""
    result = await session.exec(
        select(SentCard, ConversationRef)
        .join(ConversationRef, col(ConversationRef.id) == col(SentCard.conversation_ref_id))
        .where(SentCard.tenant_id == tenant_id, SentCard.subject == subject)
        .order_by(col(SentCard.sent_at).desc())
    )
    return list(result.all())

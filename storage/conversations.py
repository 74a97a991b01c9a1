"""Stored conversation references: where the bot can reach a person or a channel."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_log
from storage.models import ConversationRef, utcnow

# A reference stored before any turn in its chat (the demo's, for the Agents Playground's mock
# users) carries this key. The chat's first real turn replaces the reference, and counts as the
# first time the chat reaches its person, as it would for a chat the bot had never seen.
AHEAD_OF_USE = "storedAheadOfUse"


class Saved(NamedTuple):
    row: ConversationRef
    # The first time this chat reaches its person (so they may be owed today's card).
    first_for_person: bool


async def save_reference(
    *,
    session: AsyncSession,
    tenant_id: str,
    conversation_id: str,
    conversation_type: str,
    service_url: str,
    reference: dict[str, Any],
    staff_id: int | None = None,
    aad_object_id: str | None = None,
    team_aad_group_id: str | None = None,
    channel_name: str | None = None,
) -> Saved:
    """Insert or refresh a reference; a changed serviceUrl is recorded in the audit log. Says
    whether this is the first time the conversation reaches its person: a new row, one stored
    before the person was known, or one stored ahead of use (AHEAD_OF_USE).

    Two turns from one new chat can race here (Teams sends the install event and the first
    message together), so the insert gives way to a row another turn has just written.
    """
    values = {
        "tenant_id": tenant_id,
        "conversation_id": conversation_id,
        "conversation_type": conversation_type,
        "service_url": service_url,
        "reference": reference,
        "staff_id": staff_id,
        "aad_object_id": aad_object_id,
        "team_aad_group_id": team_aad_group_id,
        "channel_name": channel_name,
        "updated_at": utcnow(),
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = await session.exec(
        insert(ConversationRef)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "conversation_id"])
    )
    row = await reference_of(session=session, tenant_id=tenant_id, conversation_id=conversation_id)
    assert row is not None
    if inserted.rowcount:
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=staff_id,
            event="conversation.stored",
            entity="conversationref",
            entity_id=row.id,
            after={"type": conversation_type, "service_url": service_url},
        )
        return Saved(row, first_for_person=staff_id is not None)
    first_for_person = staff_id is not None and (
        row.staff_id is None or bool(row.reference.get(AHEAD_OF_USE))
    )
    if row.service_url != service_url:
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=staff_id,
            event="conversation.service_url_changed",
            entity="conversationref",
            entity_id=row.id,
            before={"service_url": row.service_url},
            after={"service_url": service_url},
        )
    row.service_url = service_url
    row.reference = reference
    row.staff_id = staff_id if staff_id is not None else row.staff_id
    row.aad_object_id = aad_object_id or row.aad_object_id
    row.team_aad_group_id = team_aad_group_id or row.team_aad_group_id
    row.channel_name = channel_name or row.channel_name
    row.updated_at = utcnow()
    session.add(row)
    return Saved(row, first_for_person)


async def reference_of(
    *, session: AsyncSession, tenant_id: str, conversation_id: str
) -> ConversationRef | None:
    """The stored reference of this conversation, if any."""
    result = await session.exec(
        select(ConversationRef).where(
            ConversationRef.tenant_id == tenant_id,
            ConversationRef.conversation_id == conversation_id,
        )
    )
    return result.first()


async def personal_reference(
    *, session: AsyncSession, tenant_id: str, staff_id: int
) -> ConversationRef | None:
    """The person's 1:1 chat with the bot, the most recently used first."""
    result = await session.exec(
        _PERSONAL_REFERENCE, params={"tenant_id": tenant_id, "staff_id": staff_id}
    )
    return result.first()


# Read for the approver on every press (storage.db, prebuilt statements).
_PERSONAL_REFERENCE = (
    select(ConversationRef)
    .where(
        ConversationRef.tenant_id == bindparam("tenant_id"),
        ConversationRef.staff_id == bindparam("staff_id"),
        ConversationRef.conversation_type == "personal",
    )
    .order_by(ConversationRef.updated_at.desc())  # type: ignore[attr-defined]
)

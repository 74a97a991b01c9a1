"""Channels chosen for what the bot posts ("qa_digests", "briefings"), and their references."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import and_, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_log, conversations
from storage.models import ChannelUse, ConversationRef


class Purpose(StrEnum):
    QA_DIGESTS = "qa_digests"
    BRIEFINGS = "briefings"


_THREAD = ";messageid="


def channel_id_of(conversation_id: str) -> str:
    """A channel message's conversation is its thread ("19:…@thread.tacv2;messageid=…"); posts
    go to the channel itself."""
    return conversation_id.split(_THREAD, 1)[0]


async def channel_reference(
    *, session: AsyncSession, tenant_id: str, conversation_id: str
) -> ConversationRef | None:
    """The stored reference for the channel a message or card came from, made from the thread's
    reference when only that is stored; None when the conversation is not a channel."""
    here = await conversations.reference_of(
        session=session, tenant_id=tenant_id, conversation_id=conversation_id
    )
    if here is None or here.conversation_type != "channel":
        return None
    channel_id = channel_id_of(conversation_id)
    if channel_id == conversation_id:
        return here
    stored = await conversations.reference_of(
        session=session, tenant_id=tenant_id, conversation_id=channel_id
    )
    if stored is not None:
        return stored
    ref = dict(here.reference)
    ref["conversation"] = {**dict(ref.get("conversation") or {}), "id": channel_id}
    ref.pop("activityId", None)
    saved = await conversations.save_reference(
        session=session,
        tenant_id=tenant_id,
        conversation_id=channel_id,
        conversation_type="channel",
        service_url=here.service_url,
        reference=ref,
        team_aad_group_id=here.team_aad_group_id,
        channel_name=here.channel_name,
    )
    return saved.row


async def uses_of(
    *, session: AsyncSession, tenant_id: str, conversation_ref_id: int
) -> list[Purpose]:
    result = await session.exec(
        select(ChannelUse.purpose)
        .where(
            ChannelUse.tenant_id == tenant_id,
            ChannelUse.conversation_ref_id == conversation_ref_id,
        )
        .order_by(col(ChannelUse.purpose))
    )
    return [Purpose(p) for p in result.all() if p in Purpose._value2member_map_]


async def choose(
    *,
    session: AsyncSession,
    tenant_id: str,
    conversation_ref_id: int,
    purpose: Purpose,
    chosen_by: int | None,
) -> bool:
    """Use the channel for `purpose`; False when it already was (nothing written)."""
    if purpose in await uses_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=conversation_ref_id
    ):
        return False
    use = ChannelUse(
        tenant_id=tenant_id,
        conversation_ref_id=conversation_ref_id,
        purpose=purpose.value,
        chosen_by=chosen_by,
    )
    session.add(use)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=chosen_by,
        event="channel.chosen",
        entity="channeluse",
        entity_id=use.id,
        after={"conversation_ref_id": conversation_ref_id, "purpose": purpose.value},
    )
    return True


async def stop(
    *,
    session: AsyncSession,
    tenant_id: str,
    conversation_ref_id: int,
    purposes: frozenset[Purpose],
    actor_id: int | None,
) -> list[Purpose]:
    """Stop using the channel for `purposes`; returns those it was used for."""
    current = await uses_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=conversation_ref_id
    )
    stopped = [p for p in current if p in purposes]
    if not stopped:
        return []
    await session.exec(
        delete(ChannelUse).where(
            and_(
                col(ChannelUse.tenant_id) == tenant_id,
                col(ChannelUse.conversation_ref_id) == conversation_ref_id,
                col(ChannelUse.purpose).in_([p.value for p in stopped]),
            )
        )
    )
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="channel.stopped",
        entity="conversationref",
        entity_id=conversation_ref_id,
        before={"purposes": [p.value for p in current]},
        after={"purposes": [p.value for p in current if p not in stopped]},
    )
    return stopped


async def channels_for(
    *, session: AsyncSession, tenant_id: str, purpose: Purpose
) -> list[ConversationRef]:
    """The channels chosen for `purpose`, in the order they were chosen."""
    result = await session.exec(
        select(ConversationRef)
        .join(
            ChannelUse,
            and_(
                col(ChannelUse.conversation_ref_id) == col(ConversationRef.id),
                col(ChannelUse.tenant_id) == tenant_id,
            ),
        )
        .where(ConversationRef.tenant_id == tenant_id, ChannelUse.purpose == purpose.value)
        .order_by(col(ChannelUse.created_at), col(ChannelUse.id))
    )
    return list(result.all())

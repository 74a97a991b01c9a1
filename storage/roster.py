"""Queries behind roster sync: binding a team's members to staff, and the teams the bot is in."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_log
from storage.models import ConversationRef, Staff


@dataclass(frozen=True, slots=True)
class Member:
    """A team member as Teams' roster gives them."""

    teams_id: str
    aad_object_id: str | None
    email: str | None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TeamChannel:
    """A channel of a team the bot is in: where to ask for the team's roster."""

    tenant_id: str
    conversation_id: str
    reference: dict[str, Any]


async def bind_members(
    *, session: AsyncSession, tenant_id: str, members: Sequence[Member]
) -> tuple[dict[str, Staff], int]:
    """Staff for each member (by Teams id), and how many Entra ids were bound just now.

    A member is recognised by Entra id, else by email; an email match binds the Entra id to
    that roster row once, as when the person first messages the bot. A row already bound to
    another Entra id is somebody else.
    """
    aad_ids = {m.aad_object_id for m in members if m.aad_object_id}
    emails = {m.email.strip().lower() for m in members if m.email}
    if not aad_ids and not emails:
        return {}, 0
    rows = (
        await session.exec(
            select(Staff).where(
                Staff.tenant_id == tenant_id,
                col(Staff.active).is_(True),
                or_(
                    col(Staff.aad_object_id).in_(aad_ids),
                    func.lower(Staff.email).in_(emails),
                ),
            )
        )
    ).all()
    by_aad = {s.aad_object_id: s for s in rows if s.aad_object_id}
    by_email = {s.email.strip().lower(): s for s in rows}
    found: dict[str, Staff] = {}
    bound = 0
    for member in members:
        person = by_aad.get(member.aad_object_id) if member.aad_object_id else None
        if person is None and member.email:
            person = by_email.get(member.email.strip().lower())
            if person is not None and person.aad_object_id and member.aad_object_id:
                person = None  # that row belongs to a different Entra id
            elif person is not None and member.aad_object_id and person.aad_object_id is None:
                _bind(session, tenant_id, person, member.aad_object_id)
                by_aad[member.aad_object_id] = person
                bound += 1
        if person is not None:
            found[member.teams_id] = person
    return found, bound


def _bind(session: AsyncSession, tenant_id: str, person: Staff, aad_object_id: str) -> None:
    person.aad_object_id = aad_object_id
    session.add(person)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=None,
        event="staff.bound",
        entity="staff",
        entity_id=person.id,
        before={"aad_object_id": None},
        after={"aad_object_id": aad_object_id, "via": "roster"},
    )


async def with_personal_chat(
    *, session: AsyncSession, tenant_id: str, staff_ids: Collection[int]
) -> set[int]:
    """Which of these people already have a 1:1 chat with the bot stored."""
    if not staff_ids:
        return set()
    rows = await session.exec(
        select(ConversationRef.staff_id)
        .where(
            ConversationRef.tenant_id == tenant_id,
            ConversationRef.conversation_type == "personal",
            col(ConversationRef.staff_id).in_(staff_ids),
        )
        .distinct()
    )
    return {staff_id for staff_id in rows.all() if staff_id is not None}


def channel_of(conversation_id: str) -> str:
    """The channel's own id: a thread's conversation id ends with ";messageid=…"."""
    return conversation_id.split(";", 1)[0]


async def team_channels(
    *, session: AsyncSession, tenant_id: str | None = None
) -> list[TeamChannel]:
    """One stored channel per team the bot is in (per Entra group, else per channel)."""
    query = select(ConversationRef).where(ConversationRef.conversation_type == "channel")
    if tenant_id is not None:
        query = query.where(ConversationRef.tenant_id == tenant_id)
    chosen: dict[tuple[str, str], ConversationRef] = {}
    for row in (await session.exec(query.order_by(col(ConversationRef.id)))).all():
        team = row.team_aad_group_id or channel_of(row.conversation_id)
        key = (row.tenant_id, team)
        earlier = chosen.get(key)
        # The channel itself rather than a thread in it; the newest of those.
        if earlier is None or ";" in earlier.conversation_id or ";" not in row.conversation_id:
            chosen[key] = row
    return [
        TeamChannel(row.tenant_id, channel_of(row.conversation_id), row.reference)
        for row in chosen.values()
    ]

"""Queries about people: recognising who is talking to the bot."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit_log
from storage.models import Staff, Tenant


async def tenant_exists(*, session: AsyncSession, tenant_id: str) -> bool:
    return await session.get(Tenant, tenant_id) is not None


async def by_aad_object_id(
    *, session: AsyncSession, tenant_id: str, aad_object_id: str
) -> Staff | None:
    result = await session.exec(
        select(Staff).where(
            Staff.tenant_id == tenant_id,
            Staff.aad_object_id == aad_object_id,
            col(Staff.active).is_(True),
        )
    )
    return result.first()


async def recognise(
    *, session: AsyncSession, tenant_id: str, aad_object_id: str, email: str | None
) -> Staff | None:
    """The person with this Entra id; else bind the id once to the roster row with their email."""
    person = await by_aad_object_id(
        session=session, tenant_id=tenant_id, aad_object_id=aad_object_id
    )
    if person is not None or not email:
        return person
    result = await session.exec(
        select(Staff).where(
            Staff.tenant_id == tenant_id,
            func.lower(Staff.email) == email.strip().lower(),
            col(Staff.aad_object_id).is_(None),
            col(Staff.active).is_(True),
        )
    )
    person = result.first()
    if person is None:
        return None
    person.aad_object_id = aad_object_id
    session.add(person)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=person.id,
        event="staff.bound",
        entity="staff",
        entity_id=person.id,
        before={"aad_object_id": None},
        after={"aad_object_id": aad_object_id},
    )
    return person


async def names(*, session: AsyncSession, tenant_id: str, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    result = await session.exec(
        select(Staff.id, Staff.display_name).where(
            Staff.tenant_id == tenant_id, col(Staff.id).in_(ids)
        )
    )
    return {staff_id: name for staff_id, name in result.all() if staff_id is not None}


async def mark_reachable(*, session: AsyncSession, tenant_id: str, person: Staff) -> None:
    """They messaged us, so the app is installed for them again."""
    if person.reachable:
        return
    person.reachable = True
    person.unreachable_since = None
    session.add(person)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=person.id,
        event="staff.reachable",
        entity="staff",
        entity_id=person.id,
        before={"reachable": False},
        after={"reachable": True},
    )

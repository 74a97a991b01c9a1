"""Queries about people: recognising who is talking to the bot, who manages them, leave and
reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, bindparam, case, literal, or_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import OPEN_AUDIT_STATES, ActionState
from bot.rules.permissions import Person
from bot.rules.roles import Role
from storage import audit_log
from storage.models import Action, Audit, ConversationRef, Staff, Team, Tenant


async def tenant_exists(*, session: AsyncSession, tenant_id: str) -> bool:
    return await session.get(Tenant, tenant_id) is not None


# Every turn's first statement: built once, its values bound per call (storage.db, prebuilt statements).
_BY_AAD_OBJECT_ID = select(Staff).where(
    Staff.tenant_id == bindparam("tenant_id"),
    Staff.aad_object_id == bindparam("aad_object_id"),
    col(Staff.active).is_(True),
)


async def by_aad_object_id(
    *, session: AsyncSession, tenant_id: str, aad_object_id: str
) -> Staff | None:
    result = await session.exec(
        _BY_AAD_OBJECT_ID, params={"tenant_id": tenant_id, "aad_object_id": aad_object_id}
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


async def holding_any_role(
    *, session: AsyncSession, tenant_id: str, roles: frozenset[Role]
) -> list[Staff]:
    """Active people with any of `roles`, by id."""
    rows = await session.exec(
        select(Staff)
        .where(
            Staff.tenant_id == tenant_id,
            col(Staff.active).is_(True),
            or_(*(holds(role) for role in roles)),
        )
        .order_by(col(Staff.id))
    )
    return list(rows.all())


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


async def by_id(*, session: AsyncSession, tenant_id: str, staff_id: int) -> Staff | None:
    person = await session.get(Staff, staff_id)
    return person if person is not None and person.tenant_id == tenant_id else None


async def active_by_id(*, session: AsyncSession, tenant_id: str, staff_id: int) -> Staff | None:
    person = await by_id(session=session, tenant_id=tenant_id, staff_id=staff_id)
    return person if person is not None and person.active else None


async def active_by_email(*, session: AsyncSession, tenant_id: str, email: str) -> Staff | None:
    """An active person of the tenant by email (any case)."""
    result = await session.exec(
        select(Staff).where(
            Staff.tenant_id == tenant_id,
            func.lower(Staff.email) == email.strip().lower(),
            col(Staff.active).is_(True),
        )
    )
    return result.first()


async def standing(*, session: AsyncSession, tenant_id: str, person: Staff) -> Person:
    """What the permission rules need: roles, team, service (their own or their team's), manager."""
    assert person.id is not None
    service_id = person.service_id
    if service_id is None and person.team_id is not None:
        # A press asks for the actor's, the owner's and the approver's standing: often one team,
        # read once a transaction.
        transaction = session.sync_session.get_transaction()
        memo = session.info.get("team_service")
        if memo is None or memo[0] is not transaction:
            memo = session.info["team_service"] = (transaction, {})
        known: dict[tuple[str, int], int | None] = memo[1]
        key = (tenant_id, person.team_id)
        if key not in known:
            known[key] = (
                await session.exec(
                    _TEAM_SERVICE, params={"tenant_id": tenant_id, "team_id": person.team_id}
                )
            ).first()
        service_id = known[key]
    return Person(
        id=person.id,
        roles=person.role_set,
        team_id=person.team_id,
        service_id=service_id,
        manager_id=person.manager_id,
    )


async def approver_for(*, session: AsyncSession, tenant_id: str, owner: Staff) -> Staff | None:
    """Who is asked to decide on the owner's action: their line manager, else a team manager of
    their team, else a service manager or head of their service; never the owner."""
    if owner.manager_id is not None:
        manager = await by_id(session=session, tenant_id=tenant_id, staff_id=owner.manager_id)
        if manager is not None and manager.active and manager.id != owner.id:
            return manager
    me = await standing(session=session, tenant_id=tenant_id, person=owner)
    # One query a group, each on its own index (team, then service): one query with both as an
    # OR read every member of staff of the tenant (2 ms a press at 5,000 staff). Each reads one
    # row: the first by id with the role (a team of many managers loaded them all before).
    mine = {"tenant_id": tenant_id, "owner_id": owner.id}
    if me.team_id is not None:
        in_team = await session.exec(_TEAM_MANAGER, params={**mine, "team_id": me.team_id})
        if (team_manager := in_team.first()) is not None:
            return team_manager
    if me.service_id is None:
        return None
    in_service = await session.exec(_SERVICE_LEAD, params={**mine, "service_id": me.service_id})
    return in_service.first()


def holds(role: Role) -> ColumnElement[bool]:
    """Whether a person's stored roles include `role`, in SQL and exactly: the stored form is
    words one space apart (bot.rules.roles.format_roles), so " team_manager " is found only in
    " qa team_manager ", never inside another word; `_` is matched as itself, not any letter."""
    return (literal(" ") + col(Staff.roles) + literal(" ")).contains(
        f" {role.value} ", autoescape=True
    )


# A press's statements, built once (storage.db, prebuilt statements).
_TEAM_SERVICE = select(Team.service_id).where(
    Team.tenant_id == bindparam("tenant_id"), Team.id == bindparam("team_id")
)
_OTHERS = select(Staff).where(
    Staff.tenant_id == bindparam("tenant_id"),
    col(Staff.active).is_(True),
    Staff.id != bindparam("owner_id"),
)
_TEAM_MANAGER = (
    _OTHERS.where(col(Staff.team_id) == bindparam("team_id"), holds(Role.TEAM_MANAGER))
    .order_by(col(Staff.id))
    .limit(1)
)
_SERVICE_LEAD = (
    _OTHERS.where(
        col(Staff.service_id) == bindparam("service_id"),
        or_(holds(Role.SERVICE_MANAGER), holds(Role.HEAD_OF_SERVICE)),
    )
    .order_by(case((holds(Role.SERVICE_MANAGER), 0), else_=1), col(Staff.id))
    .limit(1)
)


async def set_away(
    *, session: AsyncSession, tenant_id: str, person: Staff, until: date | None
) -> bool:
    """Pause (a date) or resume (None) the person's reminders; False when nothing changes."""
    if person.away_until == until:
        return False
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=person.id,
        event="staff.away" if until else "staff.back",
        entity="staff",
        entity_id=person.id,
        before={"away_until": _iso(person.away_until)},
        after={"away_until": _iso(until)},
    )
    person.away_until = until
    session.add(person)
    return True


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


@dataclass(frozen=True, slots=True)
class UnreachableRow:
    person: Staff
    team: str | None
    # False: they never opened a chat with the bot and no roster sync made one.
    has_chat: bool
    open_actions: int
    open_audits: int


async def unreachable(
    *, session: AsyncSession, tenant_id: str, offset: int, size: int
) -> tuple[list[UnreachableRow], int]:
    """Active people the bot cannot reach: those who removed or blocked it (the longest first),
    then those with no personal chat at all, by name; with what is waiting for them."""
    chat = (
        select(ConversationRef.id)
        .where(
            col(ConversationRef.tenant_id) == tenant_id,
            col(ConversationRef.staff_id) == col(Staff.id),
            col(ConversationRef.conversation_type) == "personal",
        )
        .exists()
    )
    where = (
        Staff.tenant_id == tenant_id,
        col(Staff.active).is_(True),
        or_(col(Staff.reachable).is_(False), ~chat),
    )
    total = (await session.exec(select(func.count()).select_from(Staff).where(*where))).one()
    rows = (
        await session.exec(
            select(Staff, Team.name, chat)
            .outerjoin(
                Team, and_(col(Team.id) == col(Staff.team_id), col(Team.tenant_id) == tenant_id)
            )
            .where(*where)
            .order_by(
                col(Staff.reachable),
                col(Staff.unreachable_since).asc().nulls_last(),
                col(Staff.display_name),
            )
            .offset(offset)
            .limit(size)
        )
    ).all()
    ids = [person.id for person, _, _ in rows]
    actions = dict(
        (
            await session.exec(
                select(Action.owner_id, func.count())
                .where(
                    Action.tenant_id == tenant_id,
                    col(Action.owner_id).in_(ids),
                    Action.state == ActionState.OPEN,
                )
                .group_by(col(Action.owner_id))
            )
        ).all()
    )
    audits = dict(
        (
            await session.exec(
                select(Audit.auditor_id, func.count())
                .where(
                    Audit.tenant_id == tenant_id,
                    col(Audit.auditor_id).in_(ids),
                    col(Audit.state).in_(OPEN_AUDIT_STATES),
                )
                .group_by(col(Audit.auditor_id))
            )
        ).all()
    )
    return [
        UnreachableRow(
            person,
            team,
            bool(has_chat),
            actions.get(person.id or 0, 0),
            audits.get(person.id or 0, 0),
        )
        for person, team, has_chat in rows
    ], total

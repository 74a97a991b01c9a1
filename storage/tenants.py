"""Tenants: a row appears the first time an allowed tenant talks to the bot; its settings (the
response deadlines, the programme targets, what a closed case does to its actions) are read and
set here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.deadlines import (
    DEFAULT_DEADLINES,
    MEETING_DEADLINE,
    VISIT_DEADLINE,
    Deadline,
    Deadlines,
    deadline_of,
)
from bot.rules.lifecycle import ClosedCaseActions
from bot.rules.programmes import NO_TARGETS, Targets
from storage import audit_log
from storage.db import SessionMaker
from storage.models import Tenant


async def ensure(*, sessions: SessionMaker, tenant_id: str, timezone: str) -> None:
    """The tenant's row, made on first contact in the zone the bot runs its jobs in."""
    async with sessions() as session:
        if await session.get(Tenant, tenant_id) is not None:
            return
        session.add(Tenant(id=tenant_id, name="(not yet imported)", timezone=timezone))
        try:
            # Written first: the audit-log row refers to the tenant's row.
            await session.flush()
        except IntegrityError:  # another request created it first
            await session.rollback()
            return
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=None,
            event="tenant.seen",
            entity="tenant",
            entity_id=tenant_id,
        )
        try:
            await session.commit()
        except IntegrityError:  # another request created it first
            await session.rollback()


async def record_refused(
    *, sessions: SessionMaker, home_tenant_id: str, refused_tenant_id: str | None, timezone: str
) -> None:
    """A security audit row, in the bot's home tenant, for an activity refused because of its
    tenant (outside the allow-list, or none given); nothing is stored for the tenant itself."""
    await ensure(sessions=sessions, tenant_id=home_tenant_id, timezone=timezone)
    async with sessions() as session:
        audit_log.record(
            session,
            tenant_id=home_tenant_id,
            actor_id=None,
            event="security.tenant_refused",
            entity="tenant",
            entity_id=refused_tenant_id[:64] if refused_tenant_id else None,
        )
        await session.commit()


async def other_zones(*, sessions: SessionMaker, timezone: str) -> list[tuple[str, str]]:
    """Tenants whose time zone is not `timezone`, with theirs."""
    async with sessions() as session:
        rows = await session.exec(
            select(Tenant.id, Tenant.timezone).where(Tenant.timezone != timezone)
        )
        return [(tenant_id, zone) for tenant_id, zone in rows.all()]


async def deadlines(*, session: AsyncSession, tenant_id: str) -> Deadlines:
    """The tenant's meeting and visit deadlines; the framework's for a tenant not yet stored."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return DEFAULT_DEADLINES
    return Deadlines(
        meeting=_deadline(tenant.meeting_due_days, tenant.meeting_due_unit, MEETING_DEADLINE),
        visit=_deadline(tenant.visit_due_days, tenant.visit_due_unit, VISIT_DEADLINE),
    )


def _deadline(days: int, unit: str, default: Deadline) -> Deadline:
    # A row edited by hand to something the setting refuses falls back to the framework's.
    found = deadline_of(days, unit)
    return found if isinstance(found, Deadline) else default


async def set_deadlines(
    session: AsyncSession, *, tenant_id: str, chosen: Deadlines, actor_id: int | None
) -> bool:
    """Store the tenant's deadlines, audit-logged; False if there is no such tenant."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return False
    before = _settings(tenant)
    tenant.meeting_due_days = chosen.meeting.days
    tenant.meeting_due_unit = chosen.meeting.unit.value
    tenant.visit_due_days = chosen.visit.days
    tenant.visit_due_unit = chosen.visit.unit.value
    session.add(tenant)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="tenant.deadlines_set",
        entity="tenant",
        entity_id=tenant_id,
        before=before,
        after=_settings(tenant),
    )
    return True


def _settings(tenant: Tenant) -> dict[str, Any]:
    return {
        "meeting_due_days": tenant.meeting_due_days,
        "meeting_due_unit": tenant.meeting_due_unit,
        "visit_due_days": tenant.visit_due_days,
        "visit_due_unit": tenant.visit_due_unit,
    }


async def targets(*, session: AsyncSession, tenant_id: str) -> Targets:
    """The tenant's monthly programme targets; none for a tenant not yet stored."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return NO_TARGETS
    return Targets(
        collaborative=tenant.target_collaborative,
        thematic=tenant.target_thematic,
        senior_manager=tenant.target_senior_manager,
        team_manager=tenant.target_team_manager,
    )


async def set_targets(
    session: AsyncSession, *, tenant_id: str, chosen: Targets, actor_id: int | None
) -> bool:
    """Store the tenant's programme targets, audit-logged; False if there is no such tenant."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return False
    before = _targets(tenant)
    tenant.target_collaborative = chosen.collaborative
    tenant.target_thematic = chosen.thematic
    tenant.target_senior_manager = chosen.senior_manager
    tenant.target_team_manager = chosen.team_manager
    session.add(tenant)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="tenant.targets_set",
        entity="tenant",
        entity_id=tenant_id,
        before=before,
        after=_targets(tenant),
    )
    return True


def _targets(tenant: Tenant) -> dict[str, Any]:
    return {
        "target_collaborative": tenant.target_collaborative,
        "target_thematic": tenant.target_thematic,
        "target_senior_manager": tenant.target_senior_manager,
        "target_team_manager": tenant.target_team_manager,
    }


async def closed_case_actions(*, session: AsyncSession, tenant_id: str) -> str | None:
    """What a closed case does to its open actions; None if there is no such tenant."""
    tenant = await session.get(Tenant, tenant_id)
    return None if tenant is None else tenant.closed_case_actions


async def set_closed_case_actions(
    session: AsyncSession, *, tenant_id: str, chosen: ClosedCaseActions, actor_id: int | None
) -> bool:
    """Store the setting, audit-logged; False if there is no such tenant."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return False
    before = {"closed_case_actions": tenant.closed_case_actions}
    tenant.closed_case_actions = chosen.value
    session.add(tenant)
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event="tenant.closed_case_actions_set",
        entity="tenant",
        entity_id=tenant_id,
        before=before,
        after={"closed_case_actions": tenant.closed_case_actions},
    )
    return True

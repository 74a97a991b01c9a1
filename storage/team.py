"""Queries for a manager's `team` view: overdue actions, what waits for their decision and who is
away, within the people they manage (its audit compliance is the digest's, storage.digest)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, or_, true
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.permissions import Person, TeamScope, Verb, may
from bot.rules.workdays import working_days_between
from cards.team import Overdue, WaitingDone, WaitingExtension
from cards.views import Page
from storage.actions import ExtensionState
from storage.models import Action, Audit, Case, ExtensionRequest, Service, Staff, Team


def _people(scope: TeamScope, tenant_id: str) -> ColumnElement[bool]:
    """Staff rows in the scope: its team or service, and the manager's direct reports."""
    reports = col(Staff.manager_id) == scope.manager_id
    if scope.kind == "all":
        return true()
    if scope.kind == "service":
        teams = select(Team.id).where(Team.tenant_id == tenant_id, Team.service_id == scope.id)
        return or_(col(Staff.service_id) == scope.id, col(Staff.team_id).in_(teams), reports)
    if scope.id is None:
        return reports
    return or_(col(Staff.team_id) == scope.id, reports)


async def title(*, session: AsyncSession, tenant_id: str, scope: TeamScope) -> str:
    if scope.kind == "service" and scope.id is not None:
        service = await session.get(Service, scope.id)
        return (
            f"{service.name} service"
            if service and service.tenant_id == tenant_id
            else "Your service"
        )
    if scope.kind == "team" and scope.id is not None:
        team = await session.get(Team, scope.id)
        return f"Team {team.name}" if team and team.tenant_id == tenant_id else "Your team"
    return "All teams" if scope.kind == "all" else "Your team"


async def overdue(
    *,
    session: AsyncSession,
    tenant_id: str,
    scope: TeamScope,
    today: date,
    offset: int,
    size: int,
) -> tuple[list[Overdue], Page]:
    """Open actions past their due date, the most overdue first."""
    where = (
        Action.tenant_id == tenant_id,
        Action.state == "open",
        col(Action.due_on) < today,
        _people(scope, tenant_id),
    )
    owner = and_(col(Staff.id) == col(Action.owner_id), col(Staff.tenant_id) == tenant_id)
    total = (
        await session.exec(
            select(func.count()).select_from(Action).join(Staff, owner).where(*where)
        )
    ).one()
    rows = (
        await session.exec(
            select(Action, Staff.display_name, Case.case_ref)
            .join(Staff, owner)
            .outerjoin(
                Audit,
                and_(col(Audit.id) == col(Action.audit_id), col(Audit.tenant_id) == tenant_id),
            )
            .outerjoin(
                Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id)
            )
            .where(*where)
            .order_by(col(Action.due_on), col(Action.id))
            .offset(offset)
            .limit(size)
        )
    ).all()
    items = [
        Overdue(
            action_id=action.id or 0,
            owner_name=name,
            what=action.what,
            case_ref=case_ref,
            standard=action.standard,
            due_on=action.due_on,
            overdue_days=working_days_between(action.due_on, today),
        )
        for action, name, case_ref in rows
    ]
    return items, Page(offset=offset, size=size, total=total)


async def waiting(
    *, session: AsyncSession, tenant_id: str, scope: TeamScope, me: Person, limit: int
) -> tuple[list[WaitingExtension], list[WaitingDone], bool]:
    """Requests for more time and done actions this person may decide on, oldest first; and
    whether more are waiting than `limit` of each."""
    owner = and_(col(Staff.id) == col(Action.owner_id), col(Staff.tenant_id) == tenant_id)
    team = and_(col(Team.id) == col(Staff.team_id), col(Team.tenant_id) == tenant_id)
    # Enough candidates to fill the card after the rules have had their say.
    candidates = limit * 4
    requests = (
        await session.exec(
            select(ExtensionRequest, Action, Staff, Team.service_id)
            .join(
                Action,
                and_(
                    col(Action.id) == col(ExtensionRequest.action_id),
                    col(Action.tenant_id) == tenant_id,
                ),
            )
            .join(Staff, owner)
            .outerjoin(Team, team)
            .where(
                ExtensionRequest.tenant_id == tenant_id,
                ExtensionRequest.state == ExtensionState.PENDING,
                Action.state == "open",
                col(Staff.id) != me.id,
                _people(scope, tenant_id),
            )
            .order_by(col(ExtensionRequest.created_at), col(ExtensionRequest.id))
            .limit(candidates)
        )
    ).all()
    done = (
        await session.exec(
            select(Action, Staff, Team.service_id)
            .join(Staff, owner)
            .outerjoin(Team, team)
            .where(
                Action.tenant_id == tenant_id,
                Action.state == "done",
                col(Staff.id) != me.id,
                _people(scope, tenant_id),
            )
            .order_by(col(Action.done_at), col(Action.id))
            .limit(candidates)
        )
    ).all()
    extensions = [
        WaitingExtension(
            request_id=request.id or 0,
            action_id=action.id or 0,
            owner_name=person.display_name,
            what=action.what,
            old_due_on=request.old_due_on,
            new_due_on=request.new_due_on,
            reason=request.reason,
        )
        for request, action, person, service_id in requests
        if may(Verb.DECIDE_EXTENSION, me, _person(person, service_id))
    ]
    confirmations = [
        WaitingDone(
            action_id=action.id or 0,
            owner_name=person.display_name,
            what=action.what,
            done_note=action.done_note,
        )
        for action, person, service_id in done
        if may(Verb.CONFIRM_DONE, me, _person(person, service_id))
    ]
    more = len(extensions) > limit or len(confirmations) > limit
    return extensions[:limit], confirmations[:limit], more


def _person(staff: Staff, team_service_id: int | None) -> Person:
    return Person(
        id=staff.id or 0,
        roles=staff.role_set,
        team_id=staff.team_id,
        service_id=staff.service_id or team_service_id,
        manager_id=staff.manager_id,
    )


async def away(
    *, session: AsyncSession, tenant_id: str, scope: TeamScope, today: date, limit: int
) -> tuple[list[tuple[str, date]], int]:
    """Who is away (today or later), back soonest first; with how many in all."""
    where = (
        Staff.tenant_id == tenant_id,
        col(Staff.active).is_(True),
        col(Staff.away_until) >= today,
        _people(scope, tenant_id),
    )
    total = (await session.exec(select(func.count()).select_from(Staff).where(*where))).one()
    rows = (
        await session.exec(
            select(Staff)
            .where(*where)
            .order_by(col(Staff.away_until), col(Staff.display_name))
            .limit(limit)
        )
    ).all()
    return [(p.display_name, p.away_until) for p in rows if p.away_until is not None], total

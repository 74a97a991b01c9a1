"""Queries about actions agreed in audits and action meetings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import ActionState
from bot.rules.workdays import add_working_days, working_days_between
from cards.views import ActionItem, Page
from storage.models import Action, Audit, Case


def due_status(due_on: date, today: date) -> str:
    if due_on < today:
        return "overdue"
    if due_on == today:
        return "today"
    if due_on <= add_working_days(today, 3):
        return "soon"
    return "later"


async def my_open_actions(
    *, session: AsyncSession, tenant_id: str, owner_id: int, today: date, offset: int, size: int
) -> tuple[list[ActionItem], Page, int]:
    """One page of the owner's open actions, overdue first; with the total and overdue counts."""
    mine = (
        Action.tenant_id == tenant_id,
        Action.owner_id == owner_id,
        Action.state == ActionState.OPEN,
    )
    # One round trip: the page with its totals as window columns over all of the owner's actions.
    rows = (
        await session.exec(
            select(
                Action,
                Case.case_ref,
                func.count().over(),
                func.count().filter(col(Action.due_on) < today).over(),
            )
            .outerjoin(
                Audit,
                and_(col(Audit.id) == col(Action.audit_id), col(Audit.tenant_id) == tenant_id),
            )
            .outerjoin(
                Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id)
            )
            .where(*mine)
            .order_by(col(Action.due_on), col(Action.id))
            .offset(offset)
            .limit(size)
        )
    ).all()
    if rows:
        total, overdue = rows[0][2], rows[0][3]
    else:  # past the end (or nothing at all): the totals need their own query
        counts = await session.exec(
            select(func.count(), func.count().filter(col(Action.due_on) < today)).where(*mine)
        )
        total, overdue = counts.one()
    items = [
        ActionItem(
            id=action.id or 0,
            what=action.what,
            measure=action.measure,
            due_on=action.due_on,
            state=action.state,
            case_ref=case_ref,
            standard=action.standard,
            overdue_days=working_days_between(action.due_on, today),
            due_status=due_status(action.due_on, today),
        )
        for action, case_ref, _, _ in rows
    ]
    return items, Page(offset=offset, size=size, total=total), overdue

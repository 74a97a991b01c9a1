"""Queries and moves for the case and staff lifecycle: a case's unfinished work, a person's open
work, and the compare-and-set moves of one action or audit, each audit-logged. Which moves to make
is bot.rules.lifecycle's; bot.services.lifecycle makes them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlmodel import and_, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import OPEN_AUDIT_STATES, UNFINISHED_AUDIT_STATES, ActionState, AuditState
from cards.lifecycle import HeldItem, OwnerChoice
from storage import audit_log
from storage.db import compare_and_set
from storage.models import Action, Audit, Case, SentCard, Staff, Tenant


async def closed_case_actions(*, session: AsyncSession, tenant_id: str) -> str:
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant.closed_case_actions


async def unfinished_audits_of(
    *, session: AsyncSession, tenant_id: str, case_id: int
) -> list[Audit]:
    """The case's audits not yet done (open, or declined and waiting for QA), oldest first."""
    rows = await session.exec(
        select(Audit)
        .where(
            Audit.tenant_id == tenant_id,
            Audit.case_id == case_id,
            col(Audit.state).in_(UNFINISHED_AUDIT_STATES),
        )
        .order_by(col(Audit.id))
    )
    return list(rows.all())


async def open_actions_of_case(
    *, session: AsyncSession, tenant_id: str, case_id: int
) -> list[Action]:
    """Open actions from any audit of the case (and from its action meeting or child visit)."""
    rows = await session.exec(
        select(Action)
        .join(Audit, and_(col(Audit.id) == col(Action.audit_id), Audit.tenant_id == tenant_id))
        .where(
            Action.tenant_id == tenant_id,
            Audit.case_id == case_id,
            Action.state == ActionState.OPEN,
        )
        .order_by(col(Action.id))
    )
    return list(rows.all())


async def open_actions_owned_by(
    *, session: AsyncSession, tenant_id: str, staff_id: int
) -> list[Action]:
    rows = await session.exec(
        select(Action)
        .where(
            Action.tenant_id == tenant_id,
            Action.owner_id == staff_id,
            Action.state == ActionState.OPEN,
        )
        .order_by(col(Action.due_on), col(Action.id))
    )
    return list(rows.all())


async def open_audits_audited_by(
    *, session: AsyncSession, tenant_id: str, staff_id: int, case_id: int | None = None
) -> list[Audit]:
    """Assigned or in-progress audits the person is auditing (of one case, if given)."""
    query = select(Audit).where(
        Audit.tenant_id == tenant_id,
        Audit.auditor_id == staff_id,
        col(Audit.state).in_(OPEN_AUDIT_STATES),
    )
    if case_id is not None:
        query = query.where(Audit.case_id == case_id)
    return list((await session.exec(query.order_by(col(Audit.id)))).all())


async def active_staff(
    *, session: AsyncSession, tenant_id: str, ids: Collection[int]
) -> dict[int, Staff]:
    if not ids:
        return {}
    rows = await session.exec(
        select(Staff).where(Staff.tenant_id == tenant_id, col(Staff.id).in_(ids), col(Staff.active))
    )
    return {s.id: s for s in rows.all() if s.id is not None}


async def team_members(*, session: AsyncSession, tenant_id: str, team_id: int) -> list[Staff]:
    """The team's active people, by name: who an action may be passed to."""
    rows = await session.exec(
        select(Staff)
        .where(Staff.tenant_id == tenant_id, Staff.team_id == team_id, col(Staff.active))
        .order_by(col(Staff.display_name), col(Staff.id))
    )
    return list(rows.all())


# --- the moves: each a compare-and-set, each audit-logged -------------------------------------


async def cancel_action(
    session: AsyncSession, action: Action, *, now: datetime, reason: str, actor_id: int | None
) -> bool:
    """Open → cancelled, with why; False (nothing written) if it was no longer open."""
    if not await compare_and_set(
        session,
        action,
        {"state": ActionState.OPEN},
        state=ActionState.CANCELLED,
        cancelled_at=now,
    ):
        return False
    _log(
        session,
        action.tenant_id,
        actor_id,
        "action.cancelled",
        "action",
        action.id,
        {"state": ActionState.OPEN},
        {"state": ActionState.CANCELLED, "reason": reason},
    )
    return True


async def give_action(
    session: AsyncSession, action: Action, *, owner_id: int, reason: str, actor_id: int | None
) -> bool:
    """An open action to a new owner; False (nothing written) if it changed hands or closed."""
    before = action.owner_id
    if not await compare_and_set(
        session,
        action,
        {"state": ActionState.OPEN, "owner_id": before},
        owner_id=owner_id,
        snoozed_until=None,
    ):
        return False
    _log(
        session,
        action.tenant_id,
        actor_id,
        "action.owner_changed",
        "action",
        action.id,
        {"owner_id": before},
        {"owner_id": owner_id, "reason": reason},
    )
    return True


async def set_practitioner(
    session: AsyncSession, audit: Audit, *, practitioner_id: int | None, reason: str
) -> bool:
    before = audit.practitioner_id
    if not await compare_and_set(
        session,
        audit,
        {"state": audit.state, "practitioner_id": before},
        practitioner_id=practitioner_id,
    ):
        return False
    _log(
        session,
        audit.tenant_id,
        None,
        "audit.practitioner_changed",
        "audit",
        audit.id,
        {"practitioner_id": before},
        {"practitioner_id": practitioner_id, "reason": reason},
    )
    return True


async def back_to_allocation(session: AsyncSession, audit: Audit, *, reason: str) -> bool:
    """Open → declined with the reason: QA's waiting list, to reassign as any declined audit."""
    before = {"state": audit.state, "auditor_id": audit.auditor_id}
    if not await compare_and_set(
        session,
        audit,
        {"state": audit.state, "auditor_id": audit.auditor_id},
        state=AuditState.DECLINED,
        declined_reason=reason,
    ):
        return False
    _log(
        session,
        audit.tenant_id,
        None,
        "audit.declined",
        "audit",
        audit.id,
        before,
        {"state": AuditState.DECLINED, "declined_reason": reason},
    )
    return True


def _log(
    session: AsyncSession,
    tenant_id: str,
    actor_id: int | None,
    event: str,
    entity: str,
    entity_id: int | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event=event,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )


# --- the manager's "pass these on" card, as it stands ------------------------------------------


async def held_actions(
    *, session: AsyncSession, tenant_id: str, action_ids: Collection[int]
) -> list[HeldItem]:
    """The actions as they stand now: state, owner and case, in the order of their due dates."""
    if not action_ids:
        return []
    rows = await session.exec(
        select(Action, Staff, Case.case_ref, Audit.team_id)
        .join(Staff, and_(col(Staff.id) == col(Action.owner_id), Staff.tenant_id == tenant_id))
        .outerjoin(Audit, and_(col(Audit.id) == col(Action.audit_id), Audit.tenant_id == tenant_id))
        .outerjoin(Case, and_(col(Case.id) == col(Audit.case_id), Case.tenant_id == tenant_id))
        .where(Action.tenant_id == tenant_id, col(Action.id).in_(action_ids))
        .order_by(col(Action.due_on), col(Action.id))
    )
    return [
        HeldItem(
            id=a.id or 0,
            what=a.what,
            due_on=a.due_on,
            state=a.state,
            owner_id=a.owner_id,
            owner_name=owner.display_name,
            case_ref=ref,
            choices=tuple(
                OwnerChoice(p.id or 0, p.display_name)
                for p in await team_members(
                    session=session, tenant_id=tenant_id, team_id=team_id or owner.team_id or 0
                )
            ),
        )
        for a, owner, ref, team_id in rows.all()
    ]


async def subjects_of_posted(
    *, session: AsyncSession, tenant_id: str, conversation_ref_id: int, activity_id: str
) -> list[str]:
    """Every subject one posted card shows (a card listing several actions has a row for each)."""
    rows = await session.exec(
        select(SentCard.subject).where(
            SentCard.tenant_id == tenant_id,
            SentCard.conversation_ref_id == conversation_ref_id,
            SentCard.activity_id == activity_id,
        )
    )
    return sorted(set(rows.all()))


async def action_team(*, session: AsyncSession, tenant_id: str, action: Action) -> int | None:
    """The team an action belongs to: its audit's, else its owner's (DESIGN §2)."""
    if action.audit_id is not None:
        audit = await session.get(Audit, action.audit_id)
        if audit is not None and audit.tenant_id == tenant_id:
            return audit.team_id
    owner = await session.get(Staff, action.owner_id)
    return owner.team_id if owner is not None and owner.tenant_id == tenant_id else None

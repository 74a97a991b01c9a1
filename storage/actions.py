"""Queries about actions agreed in audits and action meetings, and the changes people make to them
(done, confirmed, reopened, snoozed, more time asked for and decided)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import and_, bindparam
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import ActionState
from bot.rules.reminders import due_status
from bot.rules.workdays import working_days_between
from cards.action_done import ActionStatus
from cards.extension import ExtensionView
from cards.views import ActionItem, Page
from storage import audit_log, staff
from storage.db import compare_and_set, for_update, hold_writes, locked
from storage.models import Action, Audit, AuditLog, Case, ExtensionRequest, Staff, Tenant

DEFAULT_ZONE = "Europe/London"


class ExtensionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    # The action was marked done before anyone decided.
    WITHDRAWN = "withdrawn"


def _with_case(query: Any) -> Any:
    """`query` with its action's case, if it has one (through its audit), in the tenant bound as
    :tenant_id."""
    return query.outerjoin(
        Audit,
        and_(col(Audit.id) == col(Action.audit_id), col(Audit.tenant_id) == bindparam("tenant_id")),
    ).outerjoin(
        Case,
        and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == bindparam("tenant_id")),
    )


# The owner's open actions, and the statements of `my actions`, built once with their values bound
# per call: this is every `my actions` and every press on it (storage.db, prebuilt statements).
_MINE = (
    col(Action.tenant_id) == bindparam("tenant_id"),
    col(Action.owner_id) == bindparam("owner_id"),
    col(Action.state) == ActionState.OPEN,
)
# One round trip: the page, read in the order of the (tenant, owner, state, due_on) index so it
# stops after `size` rows, with its totals as subqueries counting that index's entries (a window
# count made it read and sort every open action first: 4 ms for someone with 1,500); the columns
# the card shows, not the rows as objects.
_MY_PAGE = (
    _with_case(
        sa.select(
            col(Action.id),
            col(Action.what),
            col(Action.measure),
            col(Action.due_on),
            col(Action.state),
            col(Action.standard),
            col(Action.source),
            col(Case.case_ref),
            sa.select(func.count()).where(*_MINE).scalar_subquery(),
            sa.select(func.count())
            .where(*_MINE, col(Action.due_on) < bindparam("today"))
            .scalar_subquery(),
        )
    )
    .where(*_MINE)
    .order_by(col(Action.due_on), col(Action.id))
    .offset(bindparam("offset"))
    .limit(bindparam("size"))
)
_MY_COUNTS = select(
    func.count(), func.count().filter(col(Action.due_on) < bindparam("today"))
).where(*_MINE)


async def my_open_actions(
    *, session: AsyncSession, tenant_id: str, owner_id: int, today: date, offset: int, size: int
) -> tuple[list[ActionItem], Page, int]:
    """One page of the owner's open actions, overdue first; with the total and overdue counts."""
    mine = {"tenant_id": tenant_id, "owner_id": owner_id, "today": today}
    rows = (await session.exec(_MY_PAGE, params={**mine, "offset": offset, "size": size})).all()
    if rows:
        total, overdue = rows[0][-2], rows[0][-1]
    else:  # past the end (or nothing at all): the totals need their own query
        total, overdue = (await session.exec(_MY_COUNTS, params=mine)).one()
    items = [
        ActionItem(
            id=action_id,
            what=what,
            measure=measure,
            due_on=due_on,
            state=state,
            case_ref=case_ref,
            standard=standard,
            overdue_days=working_days_between(due_on, today),
            due_status=due_status(due_on, today),
            source=source,
        )
        for action_id, what, measure, due_on, state, standard, source, case_ref, _, _ in rows
    ]
    return items, Page(offset=offset, size=size, total=total), overdue


# Changing actions. Each change writes its audit-log row in the caller's transaction; the caller has
# loaded the row with `action_for_update`, and each change is a compare-and-set on the state it
# read, so two presses at once cannot both change it.


_ACTION = select(Action).where(
    Action.tenant_id == bindparam("tenant_id"), Action.id == bindparam("action_id")
)
_ACTION_LOCKED = for_update(_ACTION)


async def action_for_update(
    *, session: AsyncSession, tenant_id: str, action_id: int
) -> Action | None:
    """The action, locked for this transaction (see storage.db.locked)."""
    await hold_writes(session)
    result = await session.exec(
        _ACTION_LOCKED, params={"tenant_id": tenant_id, "action_id": action_id}
    )
    return result.first()


async def extension_for_update(
    *, session: AsyncSession, tenant_id: str, request_id: int
) -> ExtensionRequest | None:
    result = await session.exec(
        await locked(
            session,
            select(ExtensionRequest).where(
                ExtensionRequest.tenant_id == tenant_id, ExtensionRequest.id == request_id
            ),
        )
    )
    return result.first()


async def extension_action_id(
    *, session: AsyncSession, tenant_id: str, request_id: int
) -> int | None:
    result = await session.exec(
        select(ExtensionRequest.action_id).where(
            ExtensionRequest.tenant_id == tenant_id, ExtensionRequest.id == request_id
        )
    )
    return result.first()


async def pending_extension(
    *, session: AsyncSession, tenant_id: str, action_id: int
) -> ExtensionRequest | None:
    result = await session.exec(
        select(ExtensionRequest)
        .where(
            ExtensionRequest.tenant_id == tenant_id,
            ExtensionRequest.action_id == action_id,
            ExtensionRequest.state == ExtensionState.PENDING,
        )
        .order_by(col(ExtensionRequest.id).desc())
    )
    return result.first()


async def mark_done(
    session: AsyncSession, action: Action, *, actor_id: int, now: datetime, note: str | None
) -> bool:
    """Open → done; False (nothing written) if it was not open when it came to it."""
    before = _snapshot(action)
    if not await compare_and_set(
        session,
        action,
        {"state": ActionState.OPEN},
        state=ActionState.DONE,
        done_at=now,
        done_note=note,
    ):
        return False
    _changed(session, action, actor_id, "action.done", before)
    return True


async def confirm(session: AsyncSession, action: Action, *, actor_id: int, now: datetime) -> bool:
    """Done → confirmed; False (nothing written) if it was not done when it came to it."""
    before = _snapshot(action)
    if not await compare_and_set(
        session,
        action,
        {"state": ActionState.DONE},
        state=ActionState.CONFIRMED,
        confirmed_by=actor_id,
        confirmed_at=now,
    ):
        return False
    _changed(session, action, actor_id, "action.confirmed", before)
    return True


async def reopen(
    session: AsyncSession, action: Action, *, actor_id: int, reason: str | None
) -> bool:
    """Done → open again; the done note stays in the audit log's before. False (nothing
    written) if it was not done when it came to it."""
    before = _snapshot(action)
    if not await compare_and_set(
        session,
        action,
        {"state": ActionState.DONE},
        state=ActionState.OPEN,
        done_at=None,
        done_note=None,
        snoozed_until=None,
    ):
        return False
    _changed(session, action, actor_id, "action.reopened", before, reason=reason)
    return True


async def snooze(session: AsyncSession, action: Action, *, actor_id: int, until: date) -> bool:
    """No reminder until `until`; False (nothing written) if the action is no longer open or was
    snoozed meanwhile."""
    before = _snapshot(action)
    if not await compare_and_set(
        session,
        action,
        {"state": ActionState.OPEN, "snoozed_until": action.snoozed_until},
        snoozed_until=until,
    ):
        return False
    _changed(session, action, actor_id, "action.snoozed", before)
    return True


async def request_extension(
    session: AsyncSession, action: Action, *, actor_id: int, new_due_on: date, reason: str
) -> ExtensionRequest:
    assert action.id is not None
    request = ExtensionRequest(
        tenant_id=action.tenant_id,
        action_id=action.id,
        requested_by=actor_id,
        old_due_on=action.due_on,
        new_due_on=new_due_on,
        reason=reason,
    )
    session.add(request)
    await session.flush()
    audit_log.record(
        session,
        tenant_id=action.tenant_id,
        actor_id=actor_id,
        event="extension.requested",
        entity="extension_request",
        entity_id=request.id,
        after={
            "action_id": action.id,
            "old_due_on": action.due_on.isoformat(),
            "new_due_on": new_due_on.isoformat(),
            "reason": reason,
        },
    )
    return request


async def decide_extension(
    session: AsyncSession,
    request: ExtensionRequest,
    action: Action,
    *,
    actor_id: int,
    now: datetime,
    approve: bool,
) -> bool:
    """Approve (the action's due date moves) or decline (it stays); False (nothing written) if
    the request was no longer pending when it came to it."""
    state = ExtensionState.APPROVED if approve else ExtensionState.DECLINED
    if not await _decide(session, request, actor_id=actor_id, now=now, state=state):
        return False
    if approve:
        before = _snapshot(action)
        action.due_on = request.new_due_on
        _changed(session, action, actor_id, "action.due_changed", before)
    return True


_PENDING_EXTENSIONS = (
    select(ExtensionRequest)
    .where(
        ExtensionRequest.tenant_id == bindparam("tenant_id"),
        ExtensionRequest.action_id == bindparam("action_id"),
        ExtensionRequest.state == ExtensionState.PENDING,
    )
    .with_for_update()
)


async def withdraw_extensions(
    session: AsyncSession, action: Action, *, actor_id: int, now: datetime
) -> list[int]:
    """Pending requests for more time lapse once the action is done; their ids."""
    assert action.id is not None
    pending = (
        await session.exec(
            _PENDING_EXTENSIONS, params={"tenant_id": action.tenant_id, "action_id": action.id}
        )
    ).all()
    withdrawn = []
    for request in pending:
        if await _decide(
            session, request, actor_id=actor_id, now=now, state=ExtensionState.WITHDRAWN
        ):
            withdrawn.append(request)
    return [r.id for r in withdrawn if r.id is not None]


async def _decide(
    session: AsyncSession,
    request: ExtensionRequest,
    *,
    actor_id: int,
    now: datetime,
    state: ExtensionState,
) -> bool:
    """Pending → `state`; False (nothing written) if it was no longer pending."""
    before = request.state
    if not await compare_and_set(
        session,
        request,
        {"state": ExtensionState.PENDING},
        state=state,
        decided_by=actor_id,
        decided_at=now,
    ):
        return False
    audit_log.record(
        session,
        tenant_id=request.tenant_id,
        actor_id=actor_id,
        event=f"extension.{state.value}",
        entity="extension_request",
        entity_id=request.id,
        before={"state": before},
        after={"state": state.value, "new_due_on": request.new_due_on.isoformat()},
    )
    return True


def refusal(
    session: AsyncSession,
    *,
    tenant_id: str,
    actor_id: int,
    verb: str,
    entity: str,
    entity_id: int | str | None,
    reason: str,
    denied: bool,
) -> None:
    """A button or command that changed nothing: "denied.<verb>" for the wrong person, else
    "refused.<verb>" (already done, stale card, a date that does not fit)."""
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=actor_id,
        event=f"{'denied' if denied else 'refused'}.{verb}",
        entity=entity,
        entity_id=entity_id,
        after={"reason": reason},
    )


def _snapshot(action: Action) -> dict[str, Any]:
    return {
        "state": action.state,
        "due_on": action.due_on.isoformat(),
        "snoozed_until": action.snoozed_until.isoformat() if action.snoozed_until else None,
        "done_at": action.done_at.isoformat() if action.done_at else None,
        "done_note": action.done_note,
        "confirmed_by": action.confirmed_by,
    }


def _changed(
    session: AsyncSession,
    action: Action,
    actor_id: int,
    event: str,
    before: dict[str, Any],
    **extra: Any,
) -> None:
    session.add(action)
    after = _snapshot(action)
    audit_log.record(
        session,
        tenant_id=action.tenant_id,
        actor_id=actor_id,
        event=event,
        entity="action",
        entity_id=action.id,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v} | extra,
    )


# Reading one action or request the way its cards show it.


_TENANT_ZONE = select(Tenant.timezone).where(Tenant.id == bindparam("tenant_id"))


async def display_zone(*, session: AsyncSession, tenant_id: str) -> ZoneInfo:
    """The zone times are shown in: the tenant's."""
    timezone = (await session.exec(_TENANT_ZONE, params={"tenant_id": tenant_id})).first()
    return ZoneInfo(timezone or DEFAULT_ZONE)


_ACTION_STATUS = (
    _with_case(select(Action, Case.case_ref, Staff.display_name))
    .join(
        Staff,
        and_(col(Staff.id) == col(Action.owner_id), col(Staff.tenant_id) == bindparam("tenant_id")),
    )
    .where(Action.tenant_id == bindparam("tenant_id"), Action.id == bindparam("action_id"))
)


async def action_status(
    *,
    session: AsyncSession,
    tenant_id: str,
    action_id: int,
    zone: ZoneInfo,
    done_by: Staff | None = None,
) -> ActionStatus | None:
    """`done_by`: who marked it done, when the caller has just done so in this transaction (the
    audit log need not be read for it)."""
    row = (
        await session.exec(_ACTION_STATUS, params={"tenant_id": tenant_id, "action_id": action_id})
    ).first()
    if row is None:
        return None
    action, case_ref, owner_name = row
    done_by_id = done_by.id if done_by is not None else None
    if action.done_at is not None and done_by_id is None:
        done_by_id = await _last_actor(session, tenant_id, "action", action_id, "action.done")
    people = {done_by.id: done_by.display_name} if done_by is not None and done_by.id else {}
    people |= await staff.names(
        session=session,
        tenant_id=tenant_id,
        ids={i for i in (done_by_id, action.confirmed_by) if i is not None} - people.keys(),
    )
    return ActionStatus(
        id=action_id,
        what=action.what,
        measure=action.measure,
        case_ref=case_ref,
        standard=action.standard,
        owner_name=owner_name,
        state=action.state,
        due_on=action.due_on,
        snoozed_until=action.snoozed_until,
        done_note=action.done_note,
        done_by=people.get(done_by_id) if done_by_id else owner_name,
        done_at=_local(action.done_at, zone),
        confirmed_by=people.get(action.confirmed_by) if action.confirmed_by else None,
        confirmed_at=_local(action.confirmed_at, zone),
    )


async def extension_view(
    *, session: AsyncSession, tenant_id: str, request_id: int, zone: ZoneInfo
) -> ExtensionView | None:
    row = (
        await session.exec(
            select(ExtensionRequest, Action, Case.case_ref, Staff.display_name)
            .join(
                Action,
                and_(
                    col(Action.id) == col(ExtensionRequest.action_id),
                    col(Action.tenant_id) == tenant_id,
                ),
            )
            .join(
                Staff,
                and_(col(Staff.id) == col(Action.owner_id), col(Staff.tenant_id) == tenant_id),
            )
            .outerjoin(
                Audit,
                and_(col(Audit.id) == col(Action.audit_id), col(Audit.tenant_id) == tenant_id),
            )
            .outerjoin(
                Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id)
            )
            .where(ExtensionRequest.tenant_id == tenant_id, ExtensionRequest.id == request_id)
        )
    ).first()
    if row is None:
        return None
    request, action, case_ref, owner_name = row
    decided_by = None
    if request.decided_by is not None and request.state != ExtensionState.WITHDRAWN:
        names = await staff.names(session=session, tenant_id=tenant_id, ids={request.decided_by})
        decided_by = names.get(request.decided_by)
    return ExtensionView(
        id=request_id,
        action_id=action.id or 0,
        what=action.what,
        case_ref=case_ref,
        standard=action.standard,
        owner_name=owner_name,
        old_due_on=request.old_due_on,
        new_due_on=request.new_due_on,
        due_on=action.due_on,
        reason=request.reason,
        state=request.state,
        decided_by=decided_by,
        decided_at=_local(request.decided_at, zone),
    )


async def extension_shown_on(
    *, session: AsyncSession, tenant_id: str, action_id: int, sent_at: datetime
) -> int | None:
    """The request a card posted at `sent_at` about this action was asking about: the latest
    one made before it."""
    result = await session.exec(
        select(ExtensionRequest.id)
        .where(
            ExtensionRequest.tenant_id == tenant_id,
            ExtensionRequest.action_id == action_id,
            col(ExtensionRequest.created_at) <= sent_at,
        )
        .order_by(col(ExtensionRequest.created_at).desc(), col(ExtensionRequest.id).desc())
    )
    return result.first()


async def _last_actor(
    session: AsyncSession, tenant_id: str, entity: str, entity_id: int, event: str
) -> int | None:
    result = await session.exec(
        select(AuditLog.actor_id)
        .where(
            AuditLog.tenant_id == tenant_id,
            AuditLog.entity == entity,
            AuditLog.entity_id == str(entity_id),
            AuditLog.event == event,
        )
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    )
    return result.first()


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None

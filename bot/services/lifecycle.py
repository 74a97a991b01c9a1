"""The case and staff lifecycle: what a cases or staff import sets off. A case that closes or moves
out has its open audits cancelled and its actions kept or closed (bot.rules.lifecycle decides); a
case with a new worker moves the old worker's open items to them; a person who leaves has their
actions held by their manager to pass on and their audits sent back to QA. Every move is a
compare-and-set in storage.lifecycle, audit-logged; each posted card it leaves stale is updated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules import lifecycle as rules
from bot.rules.grades import AUDIT_KIND_LABELS
from bot.services import allocation, flows, notify, refresh
from bot.turn import Rebuilders
from cards.common import card_json, label
from cards.lifecycle import (
    NEW_WORKER_SUMMARY,
    ActionLine,
    AuditLine,
    CaseEnded,
    LeaverActions,
    NewWorker,
    case_ended_card,
    case_ended_summary,
    leaver_actions_card,
    leaver_actions_summary,
    new_worker_card,
)
from cards.names import CardKind, action_subject, audit_subject, leaver_subject, subject_id
from storage import allocation as audits_store
from storage import lifecycle as store
from storage import staff as staff_store
from storage.imports import CaseChange
from storage.models import Action, Audit, Case, Staff


@dataclass(slots=True)
class Moves:
    """What the lifecycle did, for the operator's summary; every count is of rows changed."""

    audits_cancelled: int = 0
    actions_closed: int = 0
    actions_kept: int = 0
    actions_moved: int = 0
    audits_returned: int = 0
    practitioners_changed: int = 0
    # Leavers whose actions had no manager to go to: QA holds the card instead.
    without_manager: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Context:
    tenant_id: str
    today: date
    now: datetime
    rebuilders: Rebuilders


async def cases_changed(
    session: AsyncSession, ctx: Context, changes: list[CaseChange], moves: Moves
) -> None:
    """Apply a cases import's changes: a case that ended, else one with a new worker."""
    for change in changes:
        case = await session.get(Case, change.case_id)
        assert case is not None and case.tenant_id == ctx.tenant_id
        if rules.ends_case(change.status_before, change.status):
            await _case_ended(session, ctx, case, moves)
        elif change.worker is not None and change.worker != change.worker_before:
            await _new_worker(session, ctx, case, change.worker_before, change.worker, moves)


async def _case_ended(session: AsyncSession, ctx: Context, case: Case, moves: Moves) -> None:
    assert case.id is not None
    reason = rules.why_cancelled(case.status)
    names = await audits_store.names(session=session, tenant_id=ctx.tenant_id)
    cancelled: list[AuditLine] = []
    for audit in await store.unfinished_audits_of(
        session=session, tenant_id=ctx.tenant_id, case_id=case.id
    ):
        if await allocation.cancel(
            session,
            tenant_id=ctx.tenant_id,
            audit=audit,
            actor_id=None,
            reason=reason,
            today=ctx.today,
            now=ctx.now,
            rebuilders=ctx.rebuilders,
        ):
            cancelled.append(_audit_line(audit, names))
    setting = await store.closed_case_actions(session=session, tenant_id=ctx.tenant_id)
    closed: list[ActionLine] = []
    kept: list[ActionLine] = []
    for action in await store.open_actions_of_case(
        session=session, tenant_id=ctx.tenant_id, case_id=case.id
    ):
        if rules.closes_action(setting, action.source) and await store.cancel_action(
            session, action, now=ctx.now, reason=reason, actor_id=None
        ):
            closed.append(_action_line(action, names))
            await _refresh(session, ctx, [action_subject(action.id or 0)], "case_ended")
        else:
            kept.append(_action_line(action, names))
    moves.audits_cancelled += len(cancelled)
    moves.actions_closed += len(closed)
    moves.actions_kept += len(kept)
    if not (cancelled or closed or kept):
        return
    view = CaseEnded(case.case_ref, reason, tuple(cancelled), tuple(closed), tuple(kept), setting)
    for person in await audits_store.qa_team(session=session, tenant_id=ctx.tenant_id):
        await notify.tell(
            session,
            tenant_id=ctx.tenant_id,
            person=person,
            kind=CardKind.CASE_ENDED,
            key=f"{CardKind.CASE_ENDED}:{case.id}:{person.id}:{flows.stamp(ctx.now)}",
            summary=case_ended_summary(view),
            card=case_ended_card(view, today=ctx.today),
        )


async def _new_worker(
    session: AsyncSession,
    ctx: Context,
    case: Case,
    old_id: int | None,
    new_id: int,
    moves: Moves,
) -> None:
    """The new worker becomes the practitioner of the case's unfinished audits and owner of the
    old worker's open actions on it; an audit they were auditing goes back to QA."""
    assert case.id is not None
    tenant_id = ctx.tenant_id
    names = await audits_store.names(session=session, tenant_id=tenant_id)
    why = "the case has a new worker"
    involved: list[AuditLine] = []
    for audit in await store.unfinished_audits_of(
        session=session, tenant_id=tenant_id, case_id=case.id
    ):
        if audit.practitioner_id != new_id and await store.set_practitioner(
            session, audit, practitioner_id=new_id, reason=why
        ):
            involved.append(_audit_line(audit, names))
            await _refresh(session, ctx, [audit_subject(audit.id or 0)], "new_worker")
    returned = await _return_audits(
        session,
        ctx,
        await store.open_audits_audited_by(
            session=session, tenant_id=tenant_id, staff_id=new_id, case_id=case.id
        ),
        rules.AUDITOR_NOW_WORKER,
    )
    moved: list[ActionLine] = []
    if old_id is not None:
        for action in await store.open_actions_of_case(
            session=session, tenant_id=tenant_id, case_id=case.id
        ):
            if action.owner_id == old_id and await store.give_action(
                session, action, owner_id=new_id, reason=why, actor_id=None
            ):
                moved.append(_action_line(action, names))
                await _refresh(session, ctx, [action_subject(action.id or 0)], "new_worker")
    moves.practitioners_changed += len(involved)
    moves.actions_moved += len(moved)
    moves.audits_returned += len(returned)
    if old_id is None:
        return
    view = NewWorker(
        case.case_ref,
        names.get(old_id, "?"),
        names.get(new_id, "?"),
        tuple(moved),
        tuple(involved),
        tuple(returned),
    )
    card = new_worker_card(view, today=ctx.today)
    for person in await _workers_and_managers(session, tenant_id, [old_id, new_id]):
        await notify.tell(
            session,
            tenant_id=tenant_id,
            person=person,
            kind=CardKind.CASE_NEW_WORKER,
            key=f"{CardKind.CASE_NEW_WORKER}:{case.id}:{person.id}:{flows.stamp(ctx.now)}",
            summary=NEW_WORKER_SUMMARY,
            card=card,
        )


async def _workers_and_managers(
    session: AsyncSession, tenant_id: str, ids: list[int]
) -> list[Staff]:
    """The people, and each one's manager (as an extension request finds them), once each."""
    people: dict[int, Staff] = {}
    for staff_id in ids:
        person = await staff_store.active_by_id(
            session=session, tenant_id=tenant_id, staff_id=staff_id
        )
        if person is None or person.id is None:
            continue
        people.setdefault(person.id, person)
        manager = await staff_store.approver_for(session=session, tenant_id=tenant_id, owner=person)
        if manager is not None and manager.id is not None:
            people.setdefault(manager.id, manager)
    return list(people.values())


async def staff_left(
    session: AsyncSession, ctx: Context, leaver_ids: list[int], moves: Moves
) -> None:
    """Each leaver's open actions go to their manager (who gets a card to pass them on; QA gets
    it when there is no manager, and the actions wait with the leaver's name); their open audits
    go back to QA to reallocate. Nothing is closed."""
    tenant_id = ctx.tenant_id
    for leaver_id in leaver_ids:
        leaver = await staff_store.by_id(session=session, tenant_id=tenant_id, staff_id=leaver_id)
        assert leaver is not None and leaver.id is not None
        moves.audits_returned += len(
            await _return_audits(
                session,
                ctx,
                await store.open_audits_audited_by(
                    session=session, tenant_id=tenant_id, staff_id=leaver.id
                ),
                rules.AUDITOR_LEFT,
            )
        )
        actions = await store.open_actions_owned_by(
            session=session, tenant_id=tenant_id, staff_id=leaver.id
        )
        if not actions:
            continue
        manager = await staff_store.approver_for(session=session, tenant_id=tenant_id, owner=leaver)
        if manager is not None and manager.id is not None:
            for action in actions:
                if await store.give_action(
                    session, action, owner_id=manager.id, reason="the owner left", actor_id=None
                ):
                    moves.actions_moved += 1
                    await _refresh(session, ctx, [action_subject(action.id or 0)], "owner_left")
            recipients = [manager]
        else:
            moves.without_manager.append(leaver.display_name)
            recipients = await audits_store.qa_team(session=session, tenant_id=tenant_id)
        subjects = [leaver_subject(leaver.id), *(action_subject(a.id or 0) for a in actions)]
        for person in recipients:
            assert person.id is not None
            view = await leaver_actions(
                session,
                tenant_id=tenant_id,
                leaver=leaver,
                recipient=person,
                action_ids=[a.id or 0 for a in actions],
            )
            await notify.tell(
                session,
                tenant_id=tenant_id,
                person=person,
                kind=CardKind.LEAVER_ACTIONS,
                key=f"{CardKind.LEAVER_ACTIONS}:{leaver.id}:{person.id}:{flows.stamp(ctx.now)}",
                summary=leaver_actions_summary(leaver.display_name),
                card=leaver_actions_card(view, today=ctx.today),
                subjects=subjects,
            )


async def leaver_actions(
    session: AsyncSession,
    *,
    tenant_id: str,
    leaver: Staff,
    recipient: Staff,
    action_ids: list[int],
) -> LeaverActions:
    """The "pass these on" card's view as things stand: each action's owner and state, and who
    in the leaver's team could own them."""
    assert leaver.id is not None and recipient.id is not None
    items = await store.held_actions(session=session, tenant_id=tenant_id, action_ids=action_ids)
    return LeaverActions(leaver.id, leaver.display_name, recipient.id, tuple(items))


async def _return_audits(
    session: AsyncSession, ctx: Context, audits: list[Audit], reason: str
) -> list[AuditLine]:
    names = await audits_store.names(session=session, tenant_id=ctx.tenant_id)
    returned = []
    for audit in audits:
        line = _audit_line(audit, names)
        if await store.back_to_allocation(session, audit, reason=reason):
            returned.append(line)
            await allocation.tell_qa_waiting(
                session, tenant_id=ctx.tenant_id, audit=audit, today=ctx.today, now=ctx.now
            )
            await _refresh(session, ctx, [audit_subject(audit.id or 0)], "back_to_qa")
    return returned


async def _refresh(session: AsyncSession, ctx: Context, subjects: list[str], change: str) -> None:
    await refresh.refresh_cards(
        session,
        ctx.rebuilders,
        tenant_id=ctx.tenant_id,
        subjects=subjects,
        today=ctx.today,
        change_key=f"{change}:{flows.stamp(ctx.now)}",
    )


def _audit_line(audit: Audit, names: dict[int, str]) -> AuditLine:
    return AuditLine(
        audit.id or 0,
        label(AUDIT_KIND_LABELS, audit.kind),
        audit.due_on,
        names.get(audit.auditor_id, "?"),
    )


def _action_line(action: Action, names: dict[int, str]) -> ActionLine:
    return ActionLine(action.id or 0, action.what, action.due_on, names.get(action.owner_id, "?"))


async def rebuilt_leaver_card(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_ref_id: int,
    activity_id: str,
    today: date,
) -> tuple[dict[str, Any], str] | None:
    """A posted "pass these on" card as it stands: its actions are the subjects it was sent
    with, found on the server (never read from the card)."""
    subjects = await store.subjects_of_posted(
        session=session,
        tenant_id=tenant_id,
        conversation_ref_id=conversation_ref_id,
        activity_id=activity_id,
    )
    leaver_ids = [i for s in subjects if (i := subject_id(s, "leaver")) is not None]
    action_ids = [i for s in subjects if (i := subject_id(s, "action")) is not None]
    recipient_id = await audits_store.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=conversation_ref_id
    )
    if len(leaver_ids) != 1 or recipient_id is None:
        return None
    leaver = await staff_store.by_id(session=session, tenant_id=tenant_id, staff_id=leaver_ids[0])
    recipient = await staff_store.by_id(session=session, tenant_id=tenant_id, staff_id=recipient_id)
    if leaver is None or recipient is None:
        return None
    view = await leaver_actions(
        session, tenant_id=tenant_id, leaver=leaver, recipient=recipient, action_ids=action_ids
    )
    card = card_json(leaver_actions_card(view, today=today))
    return card, leaver_actions_summary(leaver.display_name)

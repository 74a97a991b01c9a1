"""The practitioner sees their completed audit: its result goes to their personal chat, before
the feedback form, and stays true as their actions move on (done, more time).

The grades cannot change once an audit is completed (moderation records agreement beside them),
so only the practitioner's actions can make the card stale: it is posted showing those.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import notify
from bot.services.practice import practice_with_exemplars
from bot.settings import Settings
from cards.audit_result import audit_result_card, audit_result_summary
from cards.common import card_json
from cards.names import CardKind, action_subject, subject_id
from cards.practice import Practice
from storage import actions, grading, reminders, staff
from storage.models import Audit, SentCard


async def send_audit_result(
    session: AsyncSession, *, tenant_id: str, audit: Audit, today: date, practice: Practice
) -> bool:
    """Called in the completing transaction: queue the result to the audit's practitioner.

    False when there is nobody to tell or no chat with them yet (`my audits` and `my actions`
    still show it).
    """
    if audit.id is None or audit.practitioner_id is None:
        return False
    practitioner = await staff.by_id(
        session=session, tenant_id=tenant_id, staff_id=audit.practitioner_id
    )
    if practitioner is None or practitioner.id is None or not practitioner.active:
        return False
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    view = await grading.grading_view(
        session=session, tenant_id=tenant_id, audit_id=audit.id, zone=zone
    )
    assert view is not None  # the caller holds it
    theirs = [a.id for a in view.actions if a.owner_id == practitioner.id]
    return await notify.tell(
        session,
        tenant_id=tenant_id,
        person=practitioner,
        kind=CardKind.AUDIT_RESULT,
        key=f"{CardKind.AUDIT_RESULT}:{audit.id}",
        summary=audit_result_summary(),
        card=audit_result_card(
            view, practitioner_id=practitioner.id, today=today, practice=practice
        ),
        subjects=[action_subject(action_id) for action_id in theirs],
    )


async def rebuild_audit_result(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    action_id = subject_id(sent.subject, "action")
    practitioner_id = await reminders.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=sent.conversation_ref_id
    )
    if action_id is None or practitioner_id is None:
        return None
    audit_id = await grading.audit_of_action(
        session=session, tenant_id=tenant_id, action_id=action_id
    )
    if audit_id is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    view = await grading.grading_view(
        session=session, tenant_id=tenant_id, audit_id=audit_id, zone=zone
    )
    if view is None:
        return None
    practice = await practice_with_exemplars(session, tenant_id=tenant_id, settings=settings)
    card = audit_result_card(view, practitioner_id=practitioner_id, today=today, practice=practice)
    return card_json(card), audit_result_summary()

"""Asking a practitioner for feedback on their audit: the form, queued when the audit is completed."""

from __future__ import annotations

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import notify
from cards.feedback import (
    FeedbackAbout,
    feedback_form_card,
    feedback_form_summary,
)
from cards.names import CardKind, audit_subject, feedback_subject
from storage import actions, staff
from storage import feedback as store
from storage.models import Audit


async def ask_for_feedback(
    session: AsyncSession, *, tenant_id: str, audit: Audit, today: date
) -> bool:
    """Called in the completing transaction: queue the feedback form to the audit's practitioner.

    False when there is nobody to ask or no chat with them yet (`feedback` still lists it).
    """
    if audit.id is None or audit.practitioner_id is None:
        return False
    practitioner = await staff.by_id(
        session=session, tenant_id=tenant_id, staff_id=audit.practitioner_id
    )
    if practitioner is None or not practitioner.active:
        return False
    found = await store.about_audit(session=session, tenant_id=tenant_id, audit_id=audit.id)
    assert found is not None  # the caller holds it
    about = await about_view(session, tenant_id, found)
    return await notify.tell(
        session,
        tenant_id=tenant_id,
        person=practitioner,
        kind=CardKind.FEEDBACK_FORM,
        key=f"{CardKind.FEEDBACK_FORM}:{audit.id}",
        summary=feedback_form_summary(),
        card=feedback_form_card(about, today=today),
        subjects=[audit_subject(audit.id), feedback_subject(audit.id)],
    )


async def about_view(
    session: AsyncSession, tenant_id: str, found: store.AuditForFeedback
) -> FeedbackAbout:
    completed = found.audit.completed_at
    zone = await actions.display_zone(session=session, tenant_id=tenant_id) if completed else None
    return FeedbackAbout(
        audit_id=found.audit.id or 0,
        case_ref=found.case_ref,
        auditor_name=found.auditor_name,
        completed_on=completed.astimezone(zone).date() if completed and zone else None,
    )

"""Removing what the retention policy no longer keeps (bot.rules.retention says until when); each
function changes one kind of record in the caller's transaction and says how many went. The audit
log is never touched: it is append-only."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, delete, exists, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.retention import CLOSED_ACTION_STATES, CLOSED_AUDIT_STATES, REMOVED_TEXT
from storage.models import (
    Action,
    ActionMeeting,
    Audit,
    AuditTheme,
    ChannelUse,
    ConversationRef,
    Delivery,
    DeliveryAttempt,
    Exemplar,
    ExtensionRequest,
    Feedback,
    FeedbackVersion,
    Moderation,
    ModerationGrade,
    PractitionerGrade,
    SentCard,
    Staff,
    TemplateAnswer,
    UTCDateTime,
)

# Ids per statement: well inside SQLite's and asyncpg's limits on bound parameters.
CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


async def _rows(session: AsyncSession, statement: Any) -> int:
    result = await session.exec(statement)
    return int(result.rowcount)


async def delivered(*, session: AsyncSession, tenant_id: str, before: datetime) -> int:
    """Outbox rows delivered before `before`, with their attempts and so their dedupe keys."""
    old = select(Delivery.id).where(
        Delivery.tenant_id == tenant_id,
        Delivery.state == "sent",
        col(Delivery.sent_at) < before,
    )
    await session.exec(delete(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id).in_(old)))
    return await _rows(session, delete(Delivery).where(col(Delivery.id).in_(old)))


async def leaver_references(*, session: AsyncSession, tenant_id: str, before: datetime) -> int:
    """Conversation references of people who have left, last used before `before`, with what was
    queued or posted through them."""
    ids = list(
        (
            await session.exec(
                select(ConversationRef.id)
                .join(Staff, col(Staff.id) == col(ConversationRef.staff_id))
                .where(
                    ConversationRef.tenant_id == tenant_id,
                    col(Staff.active).is_(False),
                    col(ConversationRef.updated_at) < before,
                )
            )
        ).all()
    )
    gone = 0
    for chunk in _chunks([i for i in ids if i is not None]):
        deliveries = select(Delivery.id).where(col(Delivery.conversation_ref_id).in_(chunk))
        await session.exec(
            delete(DeliveryAttempt).where(col(DeliveryAttempt.delivery_id).in_(deliveries))
        )
        await session.exec(delete(Delivery).where(col(Delivery.conversation_ref_id).in_(chunk)))
        await session.exec(delete(SentCard).where(col(SentCard.conversation_ref_id).in_(chunk)))
        await session.exec(delete(ChannelUse).where(col(ChannelUse.conversation_ref_id).in_(chunk)))
        gone += await _rows(
            session, delete(ConversationRef).where(col(ConversationRef.id).in_(chunk))
        )
    return gone


async def free_text(*, session: AsyncSession, tenant_id: str, before: datetime) -> dict[str, int]:
    """Free text written before `before` removed, by where it was: the figures never read it.
    A row's updated_at stays as it was: no exported column changes, and a closed audit still
    ages towards its own purge."""
    audit_time = func.coalesce(col(Audit.completed_at), col(Audit.created_at), type_=UTCDateTime)
    audit_texts = (
        Audit.summary,
        Audit.strengths_seen,
        Audit.limiting_reason,
        Audit.declined_reason,
    )
    action_time = func.coalesce(col(Action.done_at), col(Action.created_at), type_=UTCDateTime)
    moderation_time = func.coalesce(
        col(Moderation.decided_at), col(Moderation.created_at), type_=UTCDateTime
    )
    return {
        "feedback_comments": await _rows(
            session,
            update(FeedbackVersion)
            .where(
                col(FeedbackVersion.tenant_id) == tenant_id,
                col(FeedbackVersion.submitted_at) < before,
                sa.or_(
                    col(FeedbackVersion.worked_well).is_not(None),
                    col(FeedbackVersion.could_be_better).is_not(None),
                ),
            )
            .values(worked_well=None, could_be_better=None),
        ),
        "audit_notes": await _rows(
            session,
            update(Audit)
            .where(
                col(Audit.tenant_id) == tenant_id,
                audit_time < before,
                sa.or_(*(col(t).is_not(None) for t in audit_texts)),
            )
            .values(
                summary=None,
                strengths_seen=None,
                limiting_reason=None,
                declined_reason=None,
                updated_at=col(Audit.updated_at),
            ),
        ),
        "action_notes": await _rows(
            session,
            update(Action)
            .where(
                col(Action.tenant_id) == tenant_id,
                action_time < before,
                col(Action.done_note).is_not(None),
            )
            .values(done_note=None, updated_at=col(Action.updated_at)),
        ),
        "moderation_comments": await _rows(
            session,
            update(Moderation)
            .where(
                col(Moderation.tenant_id) == tenant_id,
                moderation_time < before,
                col(Moderation.comment).is_not(None),
            )
            .values(comment=None, updated_at=col(Moderation.updated_at)),
        ),
        "extension_reasons": await _rows(
            session,
            update(ExtensionRequest)
            .where(
                col(ExtensionRequest.tenant_id) == tenant_id,
                col(ExtensionRequest.created_at) < before,
                col(ExtensionRequest.reason) != REMOVED_TEXT,
            )
            .values(reason=REMOVED_TEXT),
        ),
    }


async def closed_audits(
    *, session: AsyncSession, tenant_id: str, before: datetime
) -> dict[str, int]:
    """Audits closed before `before` that nothing has touched since, with their actions,
    feedback, moderation and action meeting. An audit with an action still being worked on, or
    anything about it changed on or after `before`, stays whole."""
    changed = func.coalesce(
        col(Audit.updated_at), col(Audit.completed_at), col(Audit.created_at), type_=UTCDateTime
    )
    action_changed = func.coalesce(
        col(Action.updated_at), col(Action.created_at), type_=UTCDateTime
    )
    live_action = exists().where(
        col(Action.audit_id) == col(Audit.id),
        sa.or_(col(Action.state).not_in(CLOSED_ACTION_STATES), action_changed >= before),
    )
    late_feedback = exists().where(
        col(Feedback.audit_id) == col(Audit.id),
        col(FeedbackVersion.feedback_id) == col(Feedback.id),
        col(FeedbackVersion.submitted_at) >= before,
    )
    late_moderation = exists().where(
        col(Moderation.audit_id) == col(Audit.id),
        func.coalesce(col(Moderation.updated_at), col(Moderation.created_at), type_=UTCDateTime)
        >= before,
    )
    late_meeting = exists().where(
        col(ActionMeeting.audit_id) == col(Audit.id), col(ActionMeeting.recorded_at) >= before
    )
    ids = [
        i
        for i in (
            await session.exec(
                select(Audit.id).where(
                    col(Audit.tenant_id) == tenant_id,
                    col(Audit.state).in_(CLOSED_AUDIT_STATES),
                    changed < before,
                    col(Audit.due_on) < before.date(),
                    ~live_action,
                    ~late_feedback,
                    ~late_moderation,
                    ~late_meeting,
                )
            )
        ).all()
        if i is not None
    ]
    gone = {"audits": 0, "actions": 0, "feedback": 0, "moderations": 0}
    for chunk in _chunks(ids):
        actions = select(Action.id).where(col(Action.audit_id).in_(chunk))
        feedback = select(Feedback.id).where(col(Feedback.audit_id).in_(chunk))
        await session.exec(
            delete(ExtensionRequest).where(col(ExtensionRequest.action_id).in_(actions))
        )
        gone["actions"] += await _rows(
            session, delete(Action).where(col(Action.audit_id).in_(chunk))
        )
        await session.exec(
            delete(FeedbackVersion).where(col(FeedbackVersion.feedback_id).in_(feedback))
        )
        gone["feedback"] += await _rows(
            session, delete(Feedback).where(col(Feedback.audit_id).in_(chunk))
        )
        moderations = select(Moderation.id).where(col(Moderation.audit_id).in_(chunk))
        await session.exec(
            delete(ModerationGrade).where(col(ModerationGrade.moderation_id).in_(moderations))
        )
        gone["moderations"] += await _rows(
            session, delete(Moderation).where(col(Moderation.audit_id).in_(chunk))
        )
        await session.exec(delete(ActionMeeting).where(col(ActionMeeting.audit_id).in_(chunk)))
        for belongs in (PractitionerGrade, AuditTheme, TemplateAnswer):
            await session.exec(delete(belongs).where(col(belongs.audit_id).in_(chunk)))
        # An exemplar carries no case details and outlives the audit it came from.
        await session.exec(
            update(Exemplar).where(col(Exemplar.audit_id).in_(chunk)).values(audit_id=None)
        )
        gone["audits"] += await _rows(session, delete(Audit).where(col(Audit.id).in_(chunk)))
    return gone

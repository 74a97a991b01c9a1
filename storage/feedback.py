"""Queries behind the practitioner's feedback: one response per audit, every version kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cards.feedback import RATINGS, Answers
from storage import audit_log
from storage.db import locked
from storage.models import Audit, Case, Feedback, FeedbackVersion, Staff


@dataclass(frozen=True, slots=True)
class AuditForFeedback:
    audit: Audit
    case_ref: str
    auditor_name: str


async def about_audit(
    *, session: AsyncSession, tenant_id: str, audit_id: int, lock: bool = False
) -> AuditForFeedback | None:
    """The audit, its case and auditor; `lock`: locked, so two first submits queue up."""
    query = (
        select(Audit, Case.case_ref, Staff.display_name)
        .join(Case, and_(col(Case.id) == col(Audit.case_id), col(Case.tenant_id) == tenant_id))
        .join(
            Staff, and_(col(Staff.id) == col(Audit.auditor_id), col(Staff.tenant_id) == tenant_id)
        )
        .where(Audit.tenant_id == tenant_id, Audit.id == audit_id)
    )
    if lock:
        query = await locked(session, query, of=Audit)
    row = (await session.exec(query)).first()
    if row is None:
        return None
    audit, case_ref, auditor_name = row
    return AuditForFeedback(audit, case_ref, auditor_name)


async def feedback_of(*, session: AsyncSession, tenant_id: str, audit_id: int) -> Feedback | None:
    return (
        await session.exec(
            select(Feedback).where(Feedback.tenant_id == tenant_id, Feedback.audit_id == audit_id)
        )
    ).first()


async def latest_version(
    *, session: AsyncSession, tenant_id: str, feedback_id: int
) -> FeedbackVersion | None:
    return (
        await session.exec(
            select(FeedbackVersion)
            .where(
                FeedbackVersion.tenant_id == tenant_id, FeedbackVersion.feedback_id == feedback_id
            )
            .order_by(col(FeedbackVersion.version).desc())
            .limit(1)
        )
    ).first()


async def save_answers(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit_id: int,
    practitioner_id: int,
    feedback: Feedback | None,
    version: int,
    answers: Answers,
    now: datetime,
) -> Feedback:
    """The first response (a new Feedback) or a change to it: version `version`, with its log row.

    The free texts stay out of the audit log: they are kept in the version itself.
    """
    if feedback is None:
        feedback = Feedback(
            tenant_id=tenant_id, audit_id=audit_id, practitioner_id=practitioner_id, created_at=now
        )
        session.add(feedback)
        await session.flush()
    assert feedback.id is not None
    session.add(
        FeedbackVersion(
            tenant_id=tenant_id,
            feedback_id=feedback.id,
            version=version,
            involved=answers.involved,
            helped_see_good=answers.helped_see_good,
            understand_grade=answers.understand_grade,
            actions_clear=answers.actions_clear,
            worked_well=answers.worked_well,
            could_be_better=answers.could_be_better,
            submitted_at=now,
        )
    )
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=practitioner_id,
        event="feedback.submitted" if version == 1 else "feedback.changed",
        entity="feedback",
        entity_id=feedback.id,
        after={"audit_id": audit_id, "version": version}
        | {name: getattr(answers, name) for name in RATINGS},
    )
    return feedback


def answers_of(version: FeedbackVersion) -> Answers:
    return Answers(
        involved=version.involved,
        helped_see_good=version.helped_see_good,
        understand_grade=version.understand_grade,
        actions_clear=version.actions_clear,
        worked_well=version.worked_well,
        could_be_better=version.could_be_better,
    )

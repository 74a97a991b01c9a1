"""An audit's answers to its template's questions: reading, saving (audit-logged) and the rows the
comparison report counts (bot.rules.templates.mixes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.grades import DONE_AUDIT_STATES
from storage import audit_log
from storage.models import Audit, TemplateAnswer


async def answers_of(*, session: AsyncSession, tenant_id: str, audit_id: int) -> dict[str, str]:
    """Question key → answer, as saved."""
    rows = (
        await session.exec(
            select(TemplateAnswer).where(
                TemplateAnswer.tenant_id == tenant_id, TemplateAnswer.audit_id == audit_id
            )
        )
    ).all()
    return {r.question: r.answer for r in rows}


async def save_answers(
    session: AsyncSession,
    audit: Audit,
    *,
    template: str,
    version: int,
    answers: Mapping[str, str],
    actor_id: int,
    now: datetime,
) -> list[str]:
    """Store `answers` (question key → answer; an empty answer clears it) under the template and
    version; the keys that changed. The log names the questions, never the text answers."""
    assert audit.id is not None
    rows = {
        r.question: r
        for r in (
            await session.exec(
                select(TemplateAnswer).where(
                    TemplateAnswer.tenant_id == audit.tenant_id,
                    TemplateAnswer.audit_id == audit.id,
                )
            )
        ).all()
    }
    changed: list[str] = []
    for question, answer in answers.items():
        row = rows.get(question)
        if row is None and not answer:
            continue
        if row is not None and row.answer == answer and row.version == version:
            continue
        changed.append(question)
        if row is None:
            session.add(
                TemplateAnswer(
                    tenant_id=audit.tenant_id,
                    audit_id=audit.id,
                    template=template,
                    version=version,
                    question=question,
                    answer=answer,
                    answered_by=actor_id,
                    answered_at=now,
                )
            )
        elif not answer:
            await session.delete(row)
        else:
            row.answer, row.version, row.template = answer, version, template
            row.answered_by, row.answered_at = actor_id, now
            session.add(row)
    if changed:
        audit_log.record(
            session,
            tenant_id=audit.tenant_id,
            actor_id=actor_id,
            event="audit.template_answers",
            entity="audit",
            entity_id=audit.id,
            after={"template": template, "version": version, "questions": sorted(changed)},
        )
    return changed


async def completed_answers(
    *, session: AsyncSession, tenant_id: str, template: str, zone: ZoneInfo
) -> list[tuple[str, date, str]]:
    """(question, the day its audit was completed, answer) for every completed audit's answer
    to the template, any version: what the comparison counts."""
    rows = (
        await session.exec(
            select(TemplateAnswer.question, Audit.completed_at, TemplateAnswer.answer)
            .join(Audit, col(Audit.id) == TemplateAnswer.audit_id)
            .where(
                TemplateAnswer.tenant_id == tenant_id,
                Audit.tenant_id == tenant_id,
                TemplateAnswer.template == template,
                col(Audit.state).in_(DONE_AUDIT_STATES),
                col(Audit.completed_at).is_not(None),
            )
        )
    ).all()
    return [
        (question, completed_at.astimezone(zone).date(), answer)
        for question, completed_at, answer in rows
        if completed_at is not None
    ]

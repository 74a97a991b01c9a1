"""Blind moderation: each month a reproducible sample of completed audits goes to a QA moderator,
who first grades each standard and overall without seeing the auditor's grades, then sees both
and records the agreed grade.

Only the moderator the audit was sent to may do either: the sample spreads the work evenly and
never gives an auditor their own audit, and the record says who moderated. Anyone else pressing
(the auditor, another QA officer) is refused and the refusal logged. The agreed grades cannot be
recorded before the moderator's own are sent, so the auditor's grades are never seen first.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from microsoft_teams.cards import AdaptiveCard
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload, Text
from bot.rules.grades import JUDGEMENTS, AuditState, Grade
from bot.services import flows, notify, refresh
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.common import card_json
from cards.moderation import (
    AuditToModerate,
    Decision,
    agree_grades_card,
    moderated_card,
    moderation_outcome_card,
    moderation_outcome_summary,
)
from cards.names import CardKind, CardVerb, audit_subject, subject_id
from storage import actions, audits, staff
from storage import moderation as store
from storage.models import Audit, Moderation, SentCard

_CHOOSE = "Please choose a grade for each standard and overall."
NOT_FOUND = "This audit isn't in a moderation sample, so there is nothing to moderate."
NOT_YOURS = "Only the moderator this audit was sent to can moderate it."
COMMENT_NEEDED = "Please say in the comment why an agreed grade differs from the auditor's."
GRADE_FIRST = (
    "Please send your own grades first: you'll see the auditor's once you have. "
    "Nothing was changed."
)
ALREADY_GRADED = "You've sent your grades already; here they are beside the auditor's."


class ModerateAudit(Payload):
    """The moderator's own grades, given before they see the auditor's."""

    audit_id: Id
    grade_heart: Grade
    grade_assessment: Grade
    grade_plans: Grade
    grade_records: Grade
    grade_oversight: Grade
    grade_strengths: Grade
    grade_overall: Grade
    problems: ClassVar[dict[str, str]] = {f"grade_{key}": _CHOOSE for key in JUDGEMENTS}

    def grades(self) -> dict[str, str]:
        return {key: Grade(getattr(self, f"grade_{key}")).value for key in JUDGEMENTS}


class AgreeGrades(Payload):
    """The grade agreed for each judgement once both were seen, and why where it departs from
    the auditor's."""

    audit_id: Id
    agreed_heart: Grade
    agreed_assessment: Grade
    agreed_plans: Grade
    agreed_records: Grade
    agreed_oversight: Grade
    agreed_strengths: Grade
    agreed_overall: Grade
    comment: Text = ""
    problems: ClassVar[dict[str, str]] = {
        **{f"agreed_{key}": _CHOOSE for key in JUDGEMENTS},
        "comment": "A comment can be up to 2,000 characters.",
    }

    def agreed(self) -> dict[str, str]:
        return {key: Grade(getattr(self, f"agreed_{key}")).value for key in JUDGEMENTS}


async def _open_moderation(
    request: Request, verb: CardVerb, audit_id: int
) -> tuple[Audit, Moderation, AuditToModerate] | Reply:
    """The audit and its moderation, locked, if this press may change them; else the answer."""
    session, tenant_id = request.session, request.tenant_id
    # The audit before its moderation, in the same order as anything else that changes an audit.
    audit = await audits.audit_for_update(session=session, tenant_id=tenant_id, audit_id=audit_id)
    moderation = await store.moderation_of(
        session=session, tenant_id=tenant_id, audit_id=audit_id, lock=True
    )
    if audit is None or moderation is None:
        return flows.refused(request, verb, audit_id, "not_found", NOT_FOUND)
    if moderation.moderator_id != request.person.id:
        return flows.refused(request, verb, audit_id, "not_moderator", NOT_YOURS, denied=True)
    shown = await _shown(session, tenant_id, audit_id)
    if moderation.decided_at is not None:
        flows.log_refusal(request, verb, audit_id, "already_moderated")
        notice = "Already moderated. Nothing was changed."
        return Reply(card=await _moderated(request, shown, moderation, notice), summary=notice)
    if audit.state != AuditState.COMPLETED:
        message = f"This audit is {audit.state.replace('_', ' ')} now, so it can't be moderated."
        return flows.refused(request, verb, audit_id, f"audit_{audit.state}", message)
    return audit, moderation, shown


async def on_moderate_audit(request: Request, payload: ModerateAudit) -> Reply:
    verb, audit_id = CardVerb.MODERATE_AUDIT, payload.audit_id
    opened = await _open_moderation(request, verb, audit_id)
    if isinstance(opened, Reply):
        return opened
    _, moderation, shown = opened
    assert moderation.id is not None
    sent = await store.blind_grades(
        session=request.session, tenant_id=request.tenant_id, moderation_id=moderation.id
    )
    if sent:
        # Sent once, they stand: a second set made after seeing the auditor's would not be blind.
        flows.log_refusal(request, verb, audit_id, "already_graded")
        mine = {key: row.moderator_grade for key, row in sent.items()}
        card = agree_grades_card(shown, mine, today=request.today, message=ALREADY_GRADED)
        return Reply(card=card, summary=ALREADY_GRADED)
    mine = payload.grades()
    store.record_blind_grades(
        request.session,
        moderation,
        auditor={key: shown.grade_of(key) for key in JUDGEMENTS},
        moderator=mine,
        actor_id=flows.me(request),
        now=request.now,
    )
    return Reply(
        card=agree_grades_card(shown, mine, today=request.today), summary="Agree the grades"
    )


async def on_agree_grades(request: Request, payload: AgreeGrades) -> Reply:
    verb, audit_id = CardVerb.AGREE_GRADES, payload.audit_id
    opened = await _open_moderation(request, verb, audit_id)
    if isinstance(opened, Reply):
        return opened
    audit, moderation, shown = opened
    session, tenant_id = request.session, request.tenant_id
    assert moderation.id is not None
    grades = await store.blind_grades(
        session=session, tenant_id=tenant_id, moderation_id=moderation.id
    )
    if not grades:
        return flows.refused(request, verb, audit_id, "not_graded", GRADE_FIRST)
    agreed = payload.agreed()
    departs = any(agreed[key] != row.auditor_grade for key, row in grades.items())
    if departs and not payload.comment:
        flows.log_refusal(request, verb, audit_id, "comment_needed")
        mine = {key: row.moderator_grade for key, row in grades.items()}
        values = payload.model_dump(include={*(f"agreed_{k}" for k in JUDGEMENTS), "comment"})
        form = agree_grades_card(
            shown, mine, today=request.today, values=values, message=COMMENT_NEEDED
        )
        return Reply(card=form, summary=COMMENT_NEEDED)
    store.decide(
        session,
        moderation,
        audit,
        grades=grades,
        agreed=agreed,
        comment=payload.comment or None,
        actor_id=flows.me(request),
        now=request.now,
    )
    decision = await _decision(request, moderation)
    auditor = await staff.by_id(session=session, tenant_id=tenant_id, staff_id=audit.auditor_id)
    told = (
        auditor is not None
        and auditor.id != request.person.id
        and await notify.tell(
            session,
            tenant_id=tenant_id,
            person=auditor,
            kind=CardKind.MODERATION_OUTCOME,
            key=f"{CardKind.MODERATION_OUTCOME}:{moderation.id}",
            summary=moderation_outcome_summary(),
            card=moderation_outcome_card(shown, decision, today=request.today),
        )
    )
    await refresh.refresh_cards(
        session,
        request.rebuilders,
        tenant_id=tenant_id,
        subjects=[audit_subject(audit_id)],
        today=request.today,
        change_key=f"moderated:{audit_id}",
        except_activity_id=request.reply_to_id,
    )
    then = f" I've told {shown.auditor_name}." if told else ""
    notice = f"Thank you.{then}"
    card = moderated_card(shown, decision, today=request.today, notice=notice)
    return Reply(card=card, summary="Moderation recorded")


async def rebuild_moderation_request(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """A posted request becomes the summary once decided; until then it is left alone, so a
    half-written comment is not wiped."""
    audit_id = subject_id(sent.subject, "audit")
    if audit_id is None:
        return None
    moderation = await store.moderation_of(session=session, tenant_id=tenant_id, audit_id=audit_id)
    if moderation is None or moderation.decided_at is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    decision = await store.decision_of(
        session=session, tenant_id=tenant_id, moderation=moderation, zone=zone
    )
    shown = await _shown(session, tenant_id, audit_id)
    assert decision is not None
    return card_json(moderated_card(shown, decision, today=today)), "Moderation recorded"


async def _shown(session: AsyncSession, tenant_id: str, audit_id: int) -> AuditToModerate:
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    found = await store.audits_to_moderate(
        session=session, tenant_id=tenant_id, audit_ids=[audit_id], zone=zone
    )
    return found[audit_id]


async def _decision(request: Request, moderation: Moderation) -> Decision:
    zone = await actions.display_zone(session=request.session, tenant_id=request.tenant_id)
    decision = await store.decision_of(
        session=request.session, tenant_id=request.tenant_id, moderation=moderation, zone=zone
    )
    assert decision is not None
    return decision


async def _moderated(
    request: Request, shown: AuditToModerate, moderation: Moderation, notice: str
) -> AdaptiveCard:
    decision = await _decision(request, moderation)
    return moderated_card(shown, decision, today=request.today, notice=notice)

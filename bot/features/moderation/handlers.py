"""Moderation: each month a reproducible sample of completed audits goes to a QA moderator, who
agrees or disagrees per standard and overall.

Only the moderator the audit was sent to may decide: the sample spreads the work evenly and
never gives an auditor their own audit, and the record says who moderated. Anyone else pressing
(the auditor, another QA officer) is refused and the refusal logged.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from microsoft_teams.cards import AdaptiveCard
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.payloads import Id, Payload, Text
from bot.rules.grades import AuditState
from bot.services import flows, notify, refresh
from bot.settings import Settings
from bot.turn import Reply, Request
from cards.common import card_json
from cards.moderation import (
    JUDGEMENTS,
    AuditToModerate,
    Decision,
    moderated_card,
    moderation_card,
    moderation_outcome_card,
    moderation_outcome_summary,
)
from cards.names import CardKind, CardVerb, audit_subject, subject_id
from storage import actions, audits, staff
from storage import moderation as store
from storage.models import Moderation, SentCard

Agree = Literal["agree", "disagree"]
_CHOOSE = "Please choose Agree or Disagree for each grade."
NOT_FOUND = "This audit isn't in a moderation sample, so there is nothing to moderate."
NOT_YOURS = "Only the moderator this audit was sent to can moderate it."
COMMENT_NEEDED = "Please say in the comment why you disagree."


class ModerateAudit(Payload):
    audit_id: Id
    agree_heart: Agree
    agree_assessment: Agree
    agree_plans: Agree
    agree_records: Agree
    agree_oversight: Agree
    agree_strengths: Agree
    agree_overall: Agree
    comment: Text = ""
    problems: ClassVar[dict[str, str]] = {
        **{f"agree_{key}": _CHOOSE for key in JUDGEMENTS},
        "comment": "A comment can be up to 2,000 characters.",
    }

    def agreement(self) -> dict[str, bool]:
        return {key: getattr(self, f"agree_{key}") == "agree" for key in JUDGEMENTS}


async def on_moderate_audit(request: Request, payload: ModerateAudit) -> Reply:
    verb, audit_id = CardVerb.MODERATE_AUDIT, payload.audit_id
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
    agreement = payload.agreement()
    if not all(agreement.values()) and not payload.comment:
        flows.log_refusal(request, verb, audit_id, "comment_needed")
        values = payload.model_dump(include={*(f"agree_{k}" for k in JUDGEMENTS), "comment"})
        form = moderation_card(shown, today=request.today, values=values, message=COMMENT_NEEDED)
        return Reply(card=form, summary=COMMENT_NEEDED)
    assert request.person.id is not None
    store.decide(
        session,
        moderation,
        audit,
        agreement=agreement,
        comment=payload.comment or None,
        actor_id=request.person.id,
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

"""Approve or Decline on the QA team's exemplar card: QA only, once (the first decision stands);
the other QA members' cards are redrawn and the auditor is told."""

from __future__ import annotations

from bot.payloads import Id, Payload
from bot.rules.exemplars import SUGGESTED
from bot.rules.roles import Role
from bot.services import exemplars as service
from bot.services import flows, notify
from bot.turn import Reply, Request
from cards.exemplars import (
    decided_line,
    decided_summary,
    exemplar_decided_card,
    exemplar_review_card,
)
from cards.names import CardKind, CardVerb, exemplar_subject
from storage import exemplars, staff

NOT_FOUND = "I can't find that exemplar. It may have been removed."
NOT_QA = "Only the QA team can approve or decline an exemplar."


class DecideExemplar(Payload):
    exemplar_id: Id
    approve: bool


async def on_decide_exemplar(request: Request, payload: DecideExemplar) -> Reply:
    verb = CardVerb.DECIDE_EXEMPLAR
    session, tenant_id = request.session, request.tenant_id

    def refused(reason: str, message: str, *, denied: bool = False) -> Reply:
        flows.log_refusal(
            request, verb, payload.exemplar_id, reason, denied=denied, entity="exemplar"
        )
        return flows.error_reply(message)

    if Role.QA not in request.person.role_set:
        return refused("not_qa", NOT_QA, denied=True)
    exemplar = await exemplars.for_update(
        session=session, tenant_id=tenant_id, exemplar_id=payload.exemplar_id
    )
    if exemplar is None:
        return refused("not_found", NOT_FOUND)
    decided = exemplar.state == SUGGESTED and await exemplars.decide(
        session,
        exemplar,
        approve=payload.approve,
        actor_id=flows.me(request),
        now=request.now,
    )
    view = await service.view_of(
        session, tenant_id=tenant_id, exemplar_id=payload.exemplar_id, settings=request.settings
    )
    assert view is not None
    if not decided:
        flows.log_refusal(
            request, verb, payload.exemplar_id, f"already_{view.state}", entity="exemplar"
        )
        message = f"Already decided: {decided_line(view, today=request.today)}."
        return Reply(
            card=exemplar_review_card(view, today=request.today, message=message),
            summary=message,
        )
    await flows.refresh_posted(request, [exemplar_subject(view.id)], f"exemplar_{view.state}")
    author = await staff.by_id(session=session, tenant_id=tenant_id, staff_id=exemplar.suggested_by)
    if author is not None and author.id != request.person.id:
        await notify.tell(
            session,
            tenant_id=tenant_id,
            person=author,
            kind=CardKind.EXEMPLAR_DECIDED,
            key=f"{CardKind.EXEMPLAR_DECIDED}:{view.id}",
            summary=decided_summary(view),
            card=exemplar_decided_card(view, today=request.today),
        )
    line = decided_line(view, today=request.today)
    return Reply(card=exemplar_review_card(view, today=request.today), summary=line)

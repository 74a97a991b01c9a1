"""Steps the card flows share: who is acting, and answering a request that changes nothing
(logged as "denied.<verb>" for the wrong person, else "refused.<verb>")."""

from __future__ import annotations

from bot.turn import Reply, Request
from cards.notices import error_card
from storage import actions


def me(request: Request) -> int:
    assert request.person.id is not None
    return request.person.id


def error_reply(message: str) -> Reply:
    return Reply(card=error_card(message), summary=message, error=message)


def log_refusal(
    request: Request, verb: str, audit_id: int | None, reason: str, *, denied: bool = False
) -> None:
    actions.refusal(
        request.session,
        tenant_id=request.tenant_id,
        actor_id=me(request),
        verb=verb,
        entity="audit",
        entity_id=audit_id,
        reason=reason,
        denied=denied,
    )


def refused(
    request: Request,
    verb: str,
    audit_id: int | None,
    reason: str,
    message: str,
    *,
    denied: bool = False,
) -> Reply:
    log_refusal(request, verb, audit_id, reason, denied=denied)
    return error_reply(message)

"""Steps the features share: who is acting, refreshing the cards a change left stale, paging a
list only some roles may see, and answering a request that changes nothing (logged as
"denied.<verb>" for the wrong person, else "refused.<verb>")."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.services import refresh
from bot.turn import Command, Reply, Request
from cards.notices import error_card
from storage import actions

# A compare-and-set that lost: someone else changed the same thing in the same instant.
CHANGED_MEANWHILE = "That changed a moment ago, so I've done nothing. Please look again."


def me(request: Request) -> int:
    assert request.person.id is not None
    return request.person.id


def stamp(now: datetime) -> str:
    """A moment as a dedupe-key part: two changes at different moments are different messages."""
    return f"{now:%Y%m%dT%H%M%S%f}"


def names_and(names: list[str]) -> str:
    """ "Adele", "Adele and Isaiah", "Adele, Isaiah and Megan"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def refresh_posted(request: Request, subjects: list[str], change: str) -> None:
    """Update every posted card showing `subjects` after `change`, except the one whose button
    was pressed: the answer to the press updates that one."""
    await refresh.refresh_cards(
        request.session,
        request.rebuilders,
        tenant_id=request.tenant_id,
        subjects=subjects,
        today=request.today,
        change_key=f"{change}:{stamp(request.now)}",
        except_activity_id=request.reply_to_id,
    )


def error_reply(message: str) -> Reply:
    return Reply(card=error_card(message), summary=message, error=message)


def log_refusal(
    request: Request,
    verb: str,
    entity_id: int | None,
    reason: str,
    *,
    denied: bool = False,
    entity: str = "audit",
) -> None:
    """The audit-log row for a press or command that changed nothing: `denied.<verb>` for the
    wrong person, `refused.<verb>` otherwise."""
    actions.refusal(
        request.session,
        tenant_id=request.tenant_id,
        actor_id=me(request),
        verb=verb,
        entity=entity,
        entity_id=entity_id,
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


async def page_if_allowed(request: Request, command: Command) -> Reply:
    """Another page of a list only some roles may see: the role is checked again, on the server."""
    if not command.allowed(request.person.role_set):
        return error_reply(f"“{command.name}” is not available for your role.")
    return await command.handler(request)


class Settled(Protocol):
    """A service's typed result that may leave posted cards stale (tracking.Outcome)."""

    @property
    def stale(self) -> tuple[str, ...]: ...

    @property
    def change(self) -> str: ...


async def settle(request: Request, outcome: Settled) -> None:
    """The one place a change's stale cards are refreshed, after the service made it: every
    posted card showing what changed, except the one whose button was pressed."""
    if outcome.stale:
        await refresh_posted(request, list(outcome.stale), outcome.change)

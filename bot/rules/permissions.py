"""Who may do what to an action: its owner acts on it, the owner's managers decide, QA may do either.

Pure: the caller loads the people from the database; nothing here trusts a card's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from bot.rules.roles import Role


class Verb(StrEnum):
    MARK_DONE = "mark_done"
    SNOOZE = "snooze"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    CONFIRM_DONE = "confirm_done"
    REOPEN = "reopen"


OWNER_VERBS = frozenset({Verb.MARK_DONE, Verb.SNOOZE, Verb.REQUEST_EXTENSION})
MANAGER_VERBS = frozenset({Verb.DECIDE_EXTENSION, Verb.CONFIRM_DONE, Verb.REOPEN})
SERVICE_LEADS = frozenset({Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})


@dataclass(frozen=True, slots=True)
class Person:
    """What the rules need to know about someone, as stored."""

    id: int
    roles: frozenset[str]
    team_id: int | None = None
    # Their own service, or their team's.
    service_id: int | None = None
    manager_id: int | None = None


def manages(manager: Person, owner: Person) -> bool:
    """The owner's line manager, a team manager of their team, or an SM/HoS of their service.

    Nobody manages themselves: a check is made by someone else.
    """
    if manager.id == owner.id:
        return False
    if owner.manager_id == manager.id:
        return True
    if (
        Role.TEAM_MANAGER in manager.roles
        and owner.team_id is not None
        and manager.team_id == owner.team_id
    ):
        return True
    return (
        bool(SERVICE_LEADS & manager.roles)
        and owner.service_id is not None
        and manager.service_id == owner.service_id
    )


def may(verb: Verb, actor: Person, owner: Person) -> bool:
    """Whether `actor` may do `verb` to an action owned by `owner`."""
    is_qa = Role.QA in actor.roles
    if verb in OWNER_VERBS:
        return actor.id == owner.id or is_qa
    # Deciding is a check by someone else, so QA too never decides on their own action.
    return actor.id != owner.id and (is_qa or manages(actor, owner))


@dataclass(frozen=True, slots=True)
class TeamScope:
    """Whose work a manager's `team` view covers; the manager's direct reports always count."""

    kind: Literal["all", "service", "team"]
    # The service or team id (None for "all", or for a team manager without a team).
    id: int | None
    manager_id: int


def team_scope(actor: Person) -> TeamScope | None:
    """The widest view the person's roles give; None for someone who manages nobody."""
    if Role.QA in actor.roles:
        return TeamScope("all", None, actor.id)
    if SERVICE_LEADS & actor.roles and actor.service_id is not None:
        return TeamScope("service", actor.service_id, actor.id)
    if Role.TEAM_MANAGER in actor.roles or SERVICE_LEADS & actor.roles:
        return TeamScope("team", actor.team_id, actor.id)
    return None


def may_record_meeting(
    me: Person, *, arranger_id: int, audit_team_id: int | None, audit_service_id: int | None
) -> bool:
    """Who records an action meeting: the service's head of service and service managers, the
    audit team's team manager, QA, or whoever arranges it."""
    if Role.QA in me.roles or me.id == arranger_id:
        return True
    if Role.TEAM_MANAGER in me.roles and me.team_id == audit_team_id:
        return True
    return (
        bool(SERVICE_LEADS & me.roles)
        and audit_service_id is not None
        and (me.service_id == audit_service_id)
    )


def may_record_visit(
    me: Person,
    *,
    worker_id: int,
    practitioner_id: int | None,
    audit_team_id: int | None,
    worker_manager_id: int | None,
) -> bool:
    """Who records a child visit: the social worker (the visit's owner, or the case's
    practitioner), the audit team's team manager, the worker's line manager, or QA."""
    if Role.QA in me.roles or me.id in (worker_id, practitioner_id):
        return True
    if Role.TEAM_MANAGER in me.roles and me.team_id == audit_team_id:
        return True
    return worker_manager_id is not None and worker_manager_id == me.id


def may_pass_on(actor: Person, owner: Person) -> bool:
    """Who gives an action to someone else (its owner left): the one holding it now, their
    managers, or QA."""
    return actor.id == owner.id or Role.QA in actor.roles or manages(actor, owner)

"""Roles people hold in QA Loop (DESIGN §1)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    AUDITOR = "auditor"
    TEAM_MANAGER = "team_manager"
    SERVICE_MANAGER = "service_manager"
    HEAD_OF_SERVICE = "head_of_service"
    QA = "qa"
    ADMIN = "admin"


MANAGERS = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.HEAD_OF_SERVICE})

ROLE_LABELS = {
    Role.PRACTITIONER: "Practitioner",
    Role.AUDITOR: "Auditor",
    Role.TEAM_MANAGER: "Team manager",
    Role.SERVICE_MANAGER: "Service manager",
    Role.HEAD_OF_SERVICE: "Head of service",
    Role.QA: "Quality assurance",
    Role.ADMIN: "Administrator",
}


def parse_roles(text: str) -> frozenset[Role]:
    """Roles from a space-, comma- or semicolon-separated list; raises ValueError on an unknown one."""
    parts = [p.strip().lower() for p in text.replace(";", " ").replace(",", " ").split()]
    unknown = [p for p in parts if p not in Role._value2member_map_]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r} (known: {', '.join(r.value for r in Role)})")
    if not parts:
        raise ValueError("at least one role is needed")
    return frozenset(Role(p) for p in parts)


def format_roles(roles: frozenset[Role]) -> str:
    """The stored form: space-separated, in a stable order."""
    return " ".join(sorted(r.value for r in roles))

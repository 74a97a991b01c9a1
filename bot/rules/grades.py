"""Practice standards, the Ofsted-style grade scale and audit kinds and states (DESIGN §2)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Standard(StrEnum):
    HEART = "heart"
    ASSESSMENT = "assessment"
    PLANS = "plans"
    RECORDS = "records"
    OVERSIGHT = "oversight"
    STRENGTHS = "strengths"


STANDARD_LABELS = {
    Standard.HEART: "Children and families at the heart of everything we do",
    Standard.ASSESSMENT: "Every child has an assessment",
    Standard.PLANS: "Plans are good quality and SMART",
    Standard.RECORDS: "Records are clear and accessible",
    Standard.OVERSIGHT: "Regular management oversight",
    Standard.STRENGTHS: "Strengths-based approach",
}


# What a moderator judges, in the order shown: each standard, then the overall grade.
OVERALL = "overall"
JUDGEMENTS = (*(s.value for s in Standard), OVERALL)


class Grade(StrEnum):
    """In order, best first."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"


# Best first: a lower rank is the better grade; two grades one apart are adjacent on the scale.
GRADE_RANK: dict[str, int] = {grade.value: n for n, grade in enumerate(Grade)}

GRADE_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires improvement",
    Grade.INADEQUATE: "Inadequate",
}


class AuditKind(StrEnum):
    COLLABORATIVE = "collaborative"
    THEMATIC = "thematic"
    MULTI_AGENCY = "multi_agency"
    SENIOR_MANAGER = "senior_manager"
    TEAM_MANAGER = "team_manager"


AUDIT_KIND_LABELS = {
    AuditKind.COLLABORATIVE: "Collaborative audit",
    AuditKind.THEMATIC: "Thematic audit",
    AuditKind.MULTI_AGENCY: "Multi-agency audit",
    AuditKind.SENIOR_MANAGER: "Senior manager audit",
    AuditKind.TEAM_MANAGER: "Team manager audit",
}


class AuditState(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    MODERATED = "moderated"
    DECLINED = "declined"
    CANCELLED = "cancelled"


# The Action.source of the social worker's visit to the child after an inadequate audit with
# risk identified (marking it done records the day the child was seen), and of that audit's
# multi-disciplinary action meeting.
CHILD_VISIT = "child_visit"
ACTION_MEETING = "action_meeting"
# Both are about a child's safety: never snoozed or given more time (bot.rules.reminders), and
# never cancelled because the case closed (bot.rules.lifecycle).
URGENT_SOURCES = frozenset({CHILD_VISIT, ACTION_MEETING})


AUDIT_STATE_LABELS = {
    AuditState.ASSIGNED: "Assigned",
    AuditState.IN_PROGRESS: "In progress",
    AuditState.COMPLETED: "Completed",
    AuditState.MODERATED: "Moderated",
    AuditState.DECLINED: "Declined",
    AuditState.CANCELLED: "Cancelled",
}

OPEN_AUDIT_STATES = frozenset({AuditState.ASSIGNED, AuditState.IN_PROGRESS})
# Done: completed, whether or not moderated since.
DONE_AUDIT_STATES = frozenset({AuditState.COMPLETED, AuditState.MODERATED})
# Not yet done: open, or passed back to QA by its auditor and waiting for another.
UNFINISHED_AUDIT_STATES = OPEN_AUDIT_STATES | {AuditState.DECLINED}


class ActionState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


def limiting_judgement_applies(grades: Mapping[str, str | None], overall: str | None) -> bool:
    """An inadequate standard with a better overall grade: allowed only with a written reason."""
    return (
        overall is not None and overall != Grade.INADEQUATE and Grade.INADEQUATE in grades.values()
    )


def limiting_judgement_problem(
    grades: Mapping[str, str | None], overall: str | None, reason: str | None
) -> list[Standard]:
    """The inadequate standards the overall grade departs from without a reason; empty when fine."""
    if not limiting_judgement_applies(grades, overall) or (reason or "").strip():
        return []
    return [s for s in Standard if grades.get(s) == Grade.INADEQUATE]


def needs_action(grade: str | None) -> bool:
    """A standard graded requires improvement or inadequate is offered a draft action."""
    return grade in (Grade.REQUIRES_IMPROVEMENT, Grade.INADEQUATE)

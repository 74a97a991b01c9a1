"""Plain data the cards are built from; filled by storage queries, read by card functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class ActionItem:
    id: int
    what: str
    measure: str
    due_on: date
    state: str
    case_ref: str | None
    standard: str | None
    # Working days past the due date; 0 when not overdue.
    overdue_days: int
    # Calendar view of due: "overdue", "today", "soon" (in the daily card's horizon) or "later".
    due_status: str
    # Where it came from (Action.source), as on bot.rules.reminders.ActionDue.
    source: str = "audit"


@dataclass(frozen=True, slots=True)
class AuditItem:
    id: int
    case_ref: str
    kind: str
    theme: str | None
    state: str
    due_on: date
    # "auditor" when I audit it, "practitioner" when it is my case.
    my_part: str
    # The other person: the practitioner (for my part auditor) or the auditor.
    other_person: str | None
    overall_grade: str | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class CommandHelp:
    name: str
    help: str
    example: str
    # The heading it is listed under: "For everyone", "For your role", "In a team channel".
    group: str = ""


# How many items a list card (my actions, my audits, team) shows a page.
PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of a longer list a card shows."""

    offset: int
    size: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.offset + self.size < self.total

    @property
    def next_offset(self) -> int:
        return self.offset + self.size

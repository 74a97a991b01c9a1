"""What happens to a case's open work when the case closes, moves out or changes worker, and to a
person's open work when they leave: decided here once, moved by bot.services.lifecycle."""

from __future__ import annotations

from enum import StrEnum

from bot.rules.grades import URGENT_SOURCES


class CaseStatus(StrEnum):
    """A case's status in the case system, as a cases import gives it."""

    OPEN = "open"
    CLOSED = "closed"
    # Transferred out (to another authority): no longer the council's case to audit.
    TRANSFERRED = "transferred"


ENDED_CASE = frozenset({CaseStatus.CLOSED, CaseStatus.TRANSFERRED})

# Why an audit of the case was cancelled: kept on the audit, shown beside compliance.
CANCEL_REASONS = {
    CaseStatus.CLOSED: "case closed",
    CaseStatus.TRANSFERRED: "case transferred",
}
# Why an audit goes back to QA when its auditor leaves, or takes over the case it audits.
AUDITOR_LEFT = "the auditor has left"
AUDITOR_NOW_WORKER = "the auditor is now the case's worker"


class ClosedCaseActions(StrEnum):
    """A tenant setting: what happens to the open actions of a case that closes."""

    # The action is about practice (a plan, a record, supervision) and still worth doing.
    KEEP = "keep"
    # The work ended with the case: the action is cancelled, with the reason.
    CLOSE = "close"


DEFAULT_CLOSED_CASE_ACTIONS = ClosedCaseActions.KEEP

# The response to an inadequate audit or to risk (URGENT_SOURCES): a closed case does not make a
# child safe, so the action meeting and the child visit stay open whatever the setting; QA decides.


def ends_case(before: str | None, after: str) -> bool:
    """Whether this import closes the case (or moves it out): it was open, or new, and is not now."""
    return after in ENDED_CASE and before not in ENDED_CASE


def closes_action(setting: str, source: str) -> bool:
    """Whether an open action of a case that ended is cancelled (else it stays with its owner)."""
    return setting == ClosedCaseActions.CLOSE and source not in URGENT_SOURCES


def why_cancelled(status: str) -> str:
    return CANCEL_REASONS.get(CaseStatus(status), CANCEL_REASONS[CaseStatus.CLOSED])


def parse_closed_case_actions(text: str) -> ClosedCaseActions:
    """The setting from what an operator typed; raises ValueError for anything else."""
    return ClosedCaseActions(text.strip().lower())


# A full staff import that would mark more than this share of active staff as left (and more
# than a handful) is most likely the wrong file, or a partial one: it is refused until the
# operator confirms the number (`import staff --full --leavers N`).
LEAVERS_SHARE_CHECKED = 0.10
LEAVERS_ALWAYS_ALLOWED = 3


def leavers_need_confirming(*, active: int, leaving: int, confirmed: int | None) -> bool:
    """Whether a full staff import marking `leaving` of `active` staff as left must stop: too
    many to be taken on trust, and not the number the operator confirmed."""
    if leaving <= LEAVERS_ALWAYS_ALLOWED or leaving <= active * LEAVERS_SHARE_CHECKED:
        return False
    return confirmed != leaving

"""How long QA Loop keeps what (UK GDPR: no longer than needed): the policy's cut-off times for
a run at `now`, and which audits and actions count as closed. The periods are settings (README,
"Retention"); `qaloop purge` and the monthly `retention` job apply them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.rules.digest import TREND_MONTHS, month_start
from bot.rules.grades import ActionState, AuditState

# An audit is closed once graded (and perhaps moderated) or cancelled; a declined one still waits.
CLOSED_AUDIT_STATES = frozenset({AuditState.COMPLETED, AuditState.MODERATED, AuditState.CANCELLED})
# An audit goes only with its actions, and only once none of them is still being worked on.
CLOSED_ACTION_STATES = frozenset({ActionState.CONFIRMED, ActionState.CANCELLED})
# What a required free-text field reads once its text is removed.
REMOVED_TEXT = "(removed under the retention policy)"


@dataclass(frozen=True, slots=True)
class Policy:
    delivered_days: int
    leaver_reference_days: int
    free_text_years: int
    closed_audit_years: int


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Records older than these go (each as the README's table says)."""

    delivered: datetime
    leaver_reference: datetime
    free_text: datetime
    closed_audit: datetime


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` earlier; 29 February falls back to the 28th."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def cutoffs(policy: Policy, now: datetime) -> Cutoffs:
    return Cutoffs(
        delivered=now - timedelta(days=policy.delivered_days),
        leaver_reference=now - timedelta(days=policy.leaver_reference_days),
        free_text=years_before(now, policy.free_text_years),
        closed_audit=years_before(now, policy.closed_audit_years),
    )


def first_period_kept(cut: Cutoffs) -> date:
    """The first day of the first month (or quarter starting then or later) whose figures a purge
    at these cut-offs leaves as they were. An audit goes only when it and everything about it
    last changed before `closed_audit`, so every month after the cut-off's is whole; a period's
    figures also read the trend of the TREND_MONTHS months ending with it."""
    after = month_start(cut.closed_audit.date(), -1)
    return month_start(after, -(TREND_MONTHS - 1))

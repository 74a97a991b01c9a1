"""Re-audit of inadequate practice (bot.rules.reaudit): scheduled when an audit is completed as
inadequate, allocated to another auditor, and cancelled when its case closes before it is done.

A case already closed when the audit is completed gets no re-audit ("case closed", audit-logged);
one that closes meanwhile has its re-audit cancelled when the case import says so, with the case's
other open audits (bot.services.lifecycle). Either way `inadequate` shows why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.reaudit import CASE_CLOSED, NO_OTHER_AUDITOR, needs_reaudit, reaudit_due
from bot.services import allocation
from storage import actions
from storage import allocation as allocations
from storage import reaudit as store
from storage.models import Audit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """The re-audit made (or found) for an audit, or why none was made."""

    reaudit: Audit | None
    reason: str | None = None


async def schedule(
    session: AsyncSession,
    *,
    tenant_id: str,
    audit: Audit,
    actor_id: int | None,
    today: date,
    now: datetime,
) -> Scheduled | None:
    """Called in the completing transaction: the re-audit of the same case, due the tenant's
    months on (a working day), with another auditor, and its assigned card queued. None when the
    audit needs no re-audit; called again, it changes nothing."""
    assert audit.id is not None
    policy = await store.policy(session=session, tenant_id=tenant_id)
    if not needs_reaudit(audit.overall_grade, policy):
        return None
    earlier = await store.reaudit_of(session=session, tenant_id=tenant_id, audit_id=audit.id)
    if earlier is not None:
        return Scheduled(earlier)
    case = await store.case_of(session=session, tenant_id=tenant_id, audit=audit)
    if case is None or case.status == "closed":
        store.record_not_scheduled(session, audit, actor_id=actor_id, reason=CASE_CLOSED)
        return Scheduled(None, CASE_CLOSED)
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    completed_on = (audit.completed_at or now).astimezone(zone).date()
    due_on = reaudit_due(completed_on, policy)
    auditor_id = await allocation.reaudit_auditor(
        session, audit, worker_id=case.worker_id, due_on=due_on
    )
    if auditor_id is None:
        store.record_not_scheduled(session, audit, actor_id=actor_id, reason=NO_OTHER_AUDITOR)
        log.warning("no auditor other than the original for the re-audit of audit %s", audit.id)
        return Scheduled(None, NO_OTHER_AUDITOR)
    again = await allocations.create_audit(
        session,
        tenant_id=tenant_id,
        case=case,
        kind=audit.kind,
        theme=audit.theme,
        auditor_id=auditor_id,
        due_on=due_on,
        actor_id=actor_id,
        reaudit_of=audit.id,
    )
    assert again.id is not None
    await allocation.send_assigned(
        session, tenant_id=tenant_id, audit_id=again.id, today=today, now=now
    )
    return Scheduled(again)

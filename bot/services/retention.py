"""Applying the retention policy (`qaloop purge` and the monthly `retention` job): everything the
policy no longer keeps goes in one transaction, with one audit-log row giving the counts. A dry
run does the same work and rolls it back, so it reports exactly what a real run would remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.rules.retention import Cutoffs, Policy, cutoffs, first_period_kept
from storage import audit_log, retention
from storage.db import SessionMaker


@dataclass(frozen=True, slots=True)
class Purged:
    counts: dict[str, int]
    cutoffs: Cutoffs
    # Monthly and quarterly figures from this month on are as they were before the purge.
    figures_kept_from: date
    dry_run: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def purge(
    *,
    sessions: SessionMaker,
    tenant_id: str,
    policy: Policy,
    now: datetime,
    dry_run: bool = False,
    actor_id: int | None = None,
) -> Purged:
    cut = cutoffs(policy, now)
    counts: dict[str, int] = {}
    async with sessions() as session:
        await session.begin()
        try:
            # Audits first: what goes with them is not counted again as free text.
            counts.update(
                await retention.closed_audits(
                    session=session, tenant_id=tenant_id, before=cut.closed_audit
                )
            )
            counts["delivered_messages"] = await retention.delivered(
                session=session, tenant_id=tenant_id, before=cut.delivered
            )
            counts["leaver_references"] = await retention.leaver_references(
                session=session, tenant_id=tenant_id, before=cut.leaver_reference
            )
            counts.update(
                await retention.free_text(
                    session=session, tenant_id=tenant_id, before=cut.free_text
                )
            )
            kept_from = first_period_kept(cut)
            if dry_run:
                await session.rollback()
            else:
                audit_log.record(
                    session,
                    tenant_id=tenant_id,
                    actor_id=actor_id,
                    event="retention.purge",
                    entity="tenant",
                    entity_id=tenant_id,
                    after={
                        "counts": counts,
                        "cutoffs": {
                            "delivered": cut.delivered.isoformat(),
                            "leaver_reference": cut.leaver_reference.isoformat(),
                            "free_text": cut.free_text.isoformat(),
                            "closed_audit": cut.closed_audit.isoformat(),
                        },
                        "figures_kept_from": kept_from.isoformat(),
                    },
                )
                await session.commit()
        except BaseException:
            await session.rollback()
            raise
    return Purged(counts, cut, kept_from, dry_run)

"""The monthly `briefing` job: post the newest briefing the QA team scheduled ("ready") to every
channel chosen for briefings, once per month."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.rules.briefing import READY, is_briefing_day
from bot.services.briefings import CHANNEL_SUMMARY, channel_label, channel_posts, publish
from cards.names import CardKind
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned
from storage import briefings, channels
from storage.channels import Purpose
from storage.db import transaction

log = logging.getLogger(__name__)


def month(now: datetime, deps: JobDeps) -> str:
    """The job's period, as in "2026-12"."""
    return now.astimezone(deps.zone).strftime("%Y-%m")


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    """Publish and queue in one transaction, so a briefing is never marked published without its
    posts; the runner's own enqueue of the returned plan then finds the same keys and adds
    nothing. A dry run changes nothing and returns the plan."""
    tenant_id = deps.tenant_id
    async with transaction(deps.sessions) as session:
        briefing = await briefings.newest_unpublished(
            session=session, tenant_id=tenant_id, states=(READY,)
        )
        if briefing is None:
            log.info("briefing for %s: nothing scheduled in tenant %s", month(now, deps), tenant_id)
            return []
        targets = await channels.channels_for(
            session=session, tenant_id=tenant_id, purpose=Purpose.BRIEFINGS
        )
        if not targets:
            log.warning("briefing for %s: no channel chosen for briefings", month(now, deps))
            return []
        if dry_run:
            posts = channel_posts(briefing, targets)
        else:
            posts = await publish(
                session, briefing=briefing, targets=targets, actor_id=None, now=now, via="job"
            )
    return [
        Planned(
            # A channel post has no one recipient: nobody is marked unreachable by its failure.
            recipient_staff_id=None,
            recipient_name=channel_label(post.conversation),
            conversation_ref_id=post.conversation.id or 0,
            conversation_id=post.conversation.conversation_id,
            kind=CardKind.BRIEFING,
            summary=CHANNEL_SUMMARY,
            card=dict(post.card),
            dedupe_key=post.dedupe_key,
        )
        for post in posts
    ]


JOB = Job(
    "briefing",
    run,
    at=lambda s: s.briefing_time,
    days="tue",
    catch_up_until=CATCH_UP_UNTIL,
    runs_on=is_briefing_day,
    period_of=lambda day: f"{day:%Y-%m}",
)

"""The `moderation_sample` job: on the month's first working day, draw last month's reproducible
sample of completed audits and send each moderator one card per audit.

The sample and its moderations are stored before the cards are planned, in the job's own
transaction; a run taken over after a crash finds the sample and plans the same cards again (the
dedupe keys skip those already queued), as does a run over a month with moderations but no stored
sample. A dry run draws with a fresh seed and stores nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from bot.rules.moderation import (
    DEFAULT_RATE_PERCENT,
    assign_moderators,
    draw_sample,
    fingerprint,
    new_seed,
    sampled_month,
)
from bot.rules.workdays import is_first_working_day_of_month
from cards.common import card_json
from cards.moderation import moderation_card, moderation_request_summary
from cards.names import CardKind
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned
from storage import moderation, reminders, staff
from storage.db import transaction

log = logging.getLogger(__name__)


def dedupe_key(audit_id: int) -> str:
    return f"{CardKind.MODERATION_REQUEST}:{audit_id}"


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    zone = deps.zone
    today = now.astimezone(zone).date()
    month = sampled_month(today)
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    since = datetime.combine(first, time(0), tzinfo=zone)
    before = datetime.combine(following, time(0), tzinfo=zone)
    tenant_id = deps.tenant_id
    async with transaction(deps.sessions) as session:
        sample = await moderation.sample_of(session=session, tenant_id=tenant_id, month=month)
        sampled = sample is not None or await moderation.any_of_month(
            session=session, tenant_id=tenant_id, month=month
        )
        if sampled:
            # Drawn already (or moderations made without a stored draw, as the demo's): those
            # stand as the month's sample, and a second draw would ask for some audits twice.
            rows = await moderation.undecided(session=session, tenant_id=tenant_id, month=month)
            requests = {row.audit_id: row.moderator_id for row in rows}
        else:
            found = await moderation.candidates(
                session=session, tenant_id=tenant_id, month=month, since=since, before=before
            )
            seed = new_seed()
            chosen = draw_sample(found, seed=seed, rate_percent=DEFAULT_RATE_PERCENT)
            qa = await moderation.moderators(session=session, tenant_id=tenant_id)
            requests = assign_moderators(chosen, moderators=qa, seed=seed)
            if len(requests) < len(chosen):
                log.warning(
                    "%d sampled audits for %s have no moderator other than their auditor",
                    len(chosen) - len(requests),
                    month,
                )
            if not dry_run:
                await moderation.save_sample(
                    session,
                    tenant_id=tenant_id,
                    month=month,
                    seed=seed,
                    fingerprint=fingerprint(found),
                    rate_percent=DEFAULT_RATE_PERCENT,
                    assigned=requests,
                    now=now,
                )
        audits = await moderation.audits_to_moderate(
            session=session, tenant_id=tenant_id, audit_ids=requests, zone=zone
        )
        chats = await reminders.personal_chats(session=session, tenant_id=tenant_id)
        names = await staff.names(session=session, tenant_id=tenant_id, ids=set(requests.values()))
    planned = []
    for audit_id, moderator_id in sorted(requests.items()):
        chat = chats.get(moderator_id)
        if chat is None:
            log.warning(
                "moderator %s has no chat with the bot; audit %s not sent", moderator_id, audit_id
            )
            continue
        planned.append(
            Planned(
                recipient_staff_id=moderator_id,
                recipient_name=names.get(moderator_id, ""),
                conversation_ref_id=chat.conversation_ref_id,
                conversation_id=chat.conversation_id,
                kind=CardKind.MODERATION_REQUEST,
                summary=moderation_request_summary(),
                card=card_json(moderation_card(audits[audit_id], today=today)),
                dedupe_key=dedupe_key(audit_id),
                subjects=[f"audit:{audit_id}"],
            )
        )
    return planned


AT = time(8, 30)
JOB = Job(
    "moderation_sample",
    run,
    at=lambda s: AT,
    days="mon-fri",
    catch_up_until=CATCH_UP_UNTIL,
    runs_on=is_first_working_day_of_month,
    # Run once per sampled month: the one before the run.
    period_of=sampled_month,
)

"""The `step_guide` job: on the first working day of each week, each auditor with open audits gets
the week's steps and their audits in their personal chat, once per ISO week."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from bot.rules.workdays import is_first_working_day_of_week
from bot.services.guide import (
    FAR_AHEAD,
    guide_audit,
    iso_week,
    load_step_guide,
    week_end,
)
from cards.common import card_json
from cards.guide import GuideAudit, step_guide_card, step_guide_summary
from cards.names import CardKind
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned
from storage import reminders

log = logging.getLogger(__name__)


def dedupe_key(staff_id: int, week: str) -> str:
    return f"{CardKind.STEP_GUIDE}:{staff_id}:{week}"


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    """Plan the guides for `now`'s week; nothing here writes, so a dry run is the same plan.

    The scheduler fires it on the week's first working day (Monday, or Tuesday after a bank
    holiday); `qaloop run-job step_guide --as-of` any later day of the week recovers a missed
    run. The dedupe key keeps it to one guide a person a week either way.
    """
    today = now.astimezone(deps.zone).date()
    # A broken content file fails the run loudly (logged, retried by catch-up) rather than
    # sending a half guide.
    guide = load_step_guide(deps.settings.step_guide_file)
    week = iso_week(today)
    async with deps.sessions() as session:
        people = await reminders.people(session=session, tenant_id=deps.tenant_id)
        chats = await reminders.personal_chats(session=session, tenant_id=deps.tenant_id)
        due = await reminders.open_audits(
            session=session, tenant_id=deps.tenant_id, due_by=FAR_AHEAD
        )
    by_auditor: dict[int, list[GuideAudit]] = defaultdict(list)
    for audit in due:
        by_auditor[audit.auditor_id].append(guide_audit(audit))
    planned = []
    for staff_id, audits in by_auditor.items():
        person = people.get(staff_id)
        chat = chats.get(staff_id)
        if person is None or not person.reachable:
            continue  # left, or the app is blocked: QA sees them in `unreachable`
        if person.away_until is not None and person.away_until >= today:
            continue
        if chat is None:
            log.info("auditor %s has no chat with the bot; no step guide", staff_id)
            continue
        card = step_guide_card(guide, audits=audits, today=today, week_ends=week_end(today))
        planned.append(
            Planned(
                recipient_staff_id=staff_id,
                recipient_name=person.name,
                conversation_ref_id=chat.conversation_ref_id,
                conversation_id=chat.conversation_id,
                kind=CardKind.STEP_GUIDE,
                summary=step_guide_summary(len(audits)),
                card=card_json(card),
                dedupe_key=dedupe_key(staff_id, week),
            )
        )
    return planned


JOB = Job(
    "step_guide",
    run,
    at=lambda s: s.step_guide_time,
    days="mon-fri",
    catch_up_until=CATCH_UP_UNTIL,
    runs_on=is_first_working_day_of_week,
    period_of=iso_week,
)

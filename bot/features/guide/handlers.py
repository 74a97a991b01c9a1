"""`guide`: this week's audit steps, with the asker's open audits."""

from __future__ import annotations

import logging

from bot.services.guide import FAR_AHEAD, GuideFileError, guide_audit, load_step_guide, week_end
from bot.turn import Reply, Request
from cards.guide import guide_unavailable_card, step_guide_card, step_guide_summary
from storage import reminders

log = logging.getLogger(__name__)


async def show_guide(request: Request) -> Reply:
    """`guide`: this week's steps and the asker's open audits (case references: private)."""
    try:
        guide = load_step_guide(request.settings.step_guide_file)
    except GuideFileError as exc:
        log.error("step guide unavailable: %s", exc)
        message = "The step guide can't be shown just now."
        return Reply(card=guide_unavailable_card(), summary=message, error=message)
    assert request.person.id is not None
    due = await reminders.open_audits(
        session=request.session,
        tenant_id=request.tenant_id,
        due_by=FAR_AHEAD,
        auditor_id=request.person.id,
    )
    audits = [guide_audit(a) for a in due]
    card = step_guide_card(
        guide, audits=audits, today=request.today, week_ends=week_end(request.today)
    )
    return Reply(card=card, summary=step_guide_summary(len(audits)), private=True)

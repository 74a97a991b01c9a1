"""`my learning`, and `learning <name or email>` for a team manager: one person's audits over
the trend's months. Who may see whose is bot.rules.trends.may_see_learning, checked against the
stored people, never against what was typed alone."""

from __future__ import annotations

from bot.rules.trends import learning_of, may_see_learning, window_bounds, window_label
from bot.services import flows
from bot.services.practice import practice_with_exemplars
from bot.turn import Reply, Request
from cards.common import truncate
from cards.notices import error_card, not_allowed_card
from cards.trends import learning_card, learning_summary
from storage import actions, staff
from storage import learning as store
from storage.models import Staff

NOT_YOURS = (
    "A person's learning is for them and their team manager only, so I can't show you theirs. "
    "Type my learning for your own."
)


async def show_learning(request: Request) -> Reply:
    """Your own with no name; with a name or email, someone you manage (as their team manager)."""
    session, tenant_id = request.session, request.tenant_id
    typed = request.raw_args.strip()
    them: Staff = request.person
    if typed:
        found = await store.people_called(session=session, tenant_id=tenant_id, typed=typed)
        me = await staff.standing(session=session, tenant_id=tenant_id, person=request.person)
        shown = truncate(typed, 60)
        if not found:
            message = f"I can't find anyone called “{shown}”. Try their email address."
            return Reply(card=error_card(message), summary="Not found")
        mine = [
            p
            for p in found
            if may_see_learning(
                me, await staff.standing(session=session, tenant_id=tenant_id, person=p)
            )
        ]
        if not mine:
            flows.log_refusal(
                request,
                "my_learning",
                found[0].id,
                "not_their_manager",
                denied=True,
                entity="staff",
            )
            return Reply(card=not_allowed_card(NOT_YOURS), summary="Not available")
        if len(mine) > 1:
            message = f"More than one person is called “{shown}”. Try their email address."
            return Reply(card=error_card(message), summary="Which one?")
        them = mine[0]
    assert them.id is not None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    start, end = window_bounds(request.today, zone)
    audits = await store.learned_audits(
        session=session,
        tenant_id=tenant_id,
        practitioner_id=them.id,
        start=start,
        end=end,
        zone=zone,
    )
    ids = [a.audit_id for a in audits]
    view = learning_of(
        name=them.display_name,
        own=them.id == request.person.id,
        since=window_label(request.today),
        audits=audits,
        ticks=await store.ticks(session=session, tenant_id=tenant_id, audit_ids=ids),
        actions=await store.actions_of(session=session, tenant_id=tenant_id, audit_ids=ids),
        today=request.today,
    )
    practice = await practice_with_exemplars(
        session, tenant_id=tenant_id, settings=request.settings
    )
    return Reply(
        card=learning_card(view, practice),
        summary=learning_summary(view),
        private=True,
    )

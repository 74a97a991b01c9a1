"""The `delivery_alert` job: once a day, tell QA and admins how many messages were given up on
(and how many of those for the bot's credentials) and how many people became unreachable, so a
dead letter is seen by someone who can act on it, not only logged. Nothing is sent on a day with
nothing to tell."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.rules.roles import Role
from cards.common import card_json
from cards.delivery_alert import delivery_alert_card, delivery_alert_summary
from cards.names import CardKind
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned
from storage import outbox, reminders, staff

AT = time(8, 0)
TOLD = frozenset({Role.QA, Role.ADMIN})


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    zone = deps.zone
    today = now.astimezone(zone).date()
    # From yesterday's run time to today's, whenever this run is made (a catch-up included): each
    # failure is counted on one day's card.
    until = datetime.combine(today, AT, tzinfo=zone)
    since = datetime.combine(today - timedelta(days=1), AT, tzinfo=zone)
    async with deps.sessions() as session:
        trouble = await outbox.trouble(
            session=session, tenant_id=deps.tenant_id, since=since, until=until
        )
        if not trouble.any:
            return []
        people = await staff.holding_any_role(session=session, tenant_id=deps.tenant_id, roles=TOLD)
        chats = await reminders.personal_chats(session=session, tenant_id=deps.tenant_id)
    planned = []
    for person in people:
        chat = chats.get(person.id or 0)
        if chat is None:
            continue
        card = delivery_alert_card(trouble, show_people=Role.QA in person.role_set)
        planned.append(
            Planned(
                recipient_staff_id=person.id,
                recipient_name=person.display_name,
                conversation_ref_id=chat.conversation_ref_id,
                conversation_id=chat.conversation_id,
                kind=CardKind.DELIVERY_ALERT,
                summary=delivery_alert_summary(),
                card=card_json(card),
                dedupe_key=f"{CardKind.DELIVERY_ALERT}:{person.id}:{today.isoformat()}",
            )
        )
    return planned


JOB = Job("delivery_alert", run, at=lambda s: AT, days="*", catch_up_until=CATCH_UP_UNTIL)

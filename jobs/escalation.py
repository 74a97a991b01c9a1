"""Escalations, made within the reminders job: long-overdue actions listed to managers, one card a
day each at most."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.reminders import (
    ActionDue,
    Escalation,
    Person,
    escalation_cutoff,
    escalations,
)
from bot.settings import Settings
from cards.common import card_json
from cards.escalation import escalation_card, escalation_summary
from cards.names import CardKind
from jobs.runs import Planned
from storage import reminders
from storage.models import SentCard
from storage.reminders import PersonalChat

log = logging.getLogger(__name__)


def dedupe_key(staff_id: int, day: date) -> str:
    return f"{CardKind.ESCALATION}:{staff_id}:{day.isoformat()}"


async def _overdue(session: AsyncSession, tenant_id: str, today: date) -> list[ActionDue]:
    # Anything due after this cannot be overdue enough to escalate, on either ladder; the rules
    # (bot.rules.reminders.escalations) decide which of these are, as for the morning's run.
    return await reminders.open_actions(
        session=session, tenant_id=tenant_id, due_by=escalation_cutoff(today)
    )


def escalation_deliveries(
    *,
    actions: Iterable[ActionDue],
    today: date,
    people: Mapping[int, Person],
    chats: Mapping[int, PersonalChat],
    only: int | None = None,
) -> list[Planned]:
    """Escalation cards from the day's open actions (the reminders job has them already); with
    `only`, just that manager's."""
    planned = []
    unreached = 0
    for escalation in escalations(actions=actions, people=people, today=today):
        manager = escalation.manager
        if only is not None and manager.id != only:
            continue
        chat = chats.get(manager.id)
        if chat is None:
            unreached += 1
            continue
        planned.append(
            Planned(
                recipient_staff_id=manager.id,
                recipient_name=manager.name,
                conversation_ref_id=chat.conversation_ref_id,
                conversation_id=chat.conversation_id,
                kind=CardKind.ESCALATION,
                summary=escalation_summary(escalation),
                card=card_json(escalation_card(escalation, today=today)),
                dedupe_key=dedupe_key(manager.id, today),
                subjects=escalation.subjects,
            )
        )
    if unreached:
        log.warning("%d managers with escalations today have no chat with the bot", unreached)
    return planned


async def rebuild_escalation(
    session: AsyncSession, tenant_id: str, staff_id: int, day: date
) -> tuple[dict[str, Any], str] | None:
    """The manager's escalation card for `day` as things stand now; None if they are not known."""
    people = await reminders.people(session=session, tenant_id=tenant_id)
    manager = people.get(staff_id)
    if manager is None:
        return None
    mine = [
        e
        for e in escalations(
            actions=await _overdue(session, tenant_id, day),
            people=people,
            today=day,
            chased_today_only=False,
        )
        if e.manager.id == staff_id
    ]
    escalation = mine[0] if mine else Escalation(manager=manager)
    return card_json(escalation_card(escalation, today=day)), escalation_summary(escalation)


async def rebuild_posted_escalation(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """bot.services.refresh's rebuilder for a posted escalation card: its recipient's card as of today."""
    staff_id = await reminders.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=sent.conversation_ref_id
    )
    if staff_id is None:
        return None
    return await rebuild_escalation(session, tenant_id, staff_id, today)

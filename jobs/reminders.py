"""The `reminders` job: each person's daily "my QA" card, then the day's escalations to managers."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.reminders import (
    ActionDue,
    AuditDue,
    Bundle,
    FeedbackOwed,
    Person,
    bundles,
    due_horizon,
    escalation_cutoff,
    feedback_listed_since,
    on_the_days_card,
    split_feedback,
)
from bot.settings import Settings
from cards.common import card_json
from cards.my_qa import my_qa_card, my_qa_summary
from cards.names import CardKind, subject_id
from jobs.escalation import escalation_deliveries
from jobs.runs import CATCH_UP_UNTIL, Job, JobDeps, Planned, enqueue_planned
from storage import actions, job_runs, outbox, reminders
from storage.models import SentCard
from storage.reminders import PersonalChat

log = logging.getLogger(__name__)

# The job's name in jobs.scheduler.JOBS, and in its run keys.
NAME = "reminders"


def dedupe_key(staff_id: int, day: date) -> str:
    return f"{CardKind.MY_QA}:{staff_id}:{day.isoformat()}"


async def run(*, deps: JobDeps, now: datetime, dry_run: bool = False) -> list[Planned]:
    """Plan today's cards; nothing here writes, so a dry run is the same plan."""
    today = now.astimezone(deps.zone).date()
    tenant_id = deps.tenant_id
    horizon = due_horizon(today)
    async with deps.sessions() as session:
        everyone = await reminders.people(session=session, tenant_id=tenant_id)
        chats = await reminders.personal_chats(session=session, tenant_id=tenant_id)
        # Every open action due by the horizon: today's bundles, and (the long overdue among
        # them) the escalations.
        actions = await reminders.open_actions(session=session, tenant_id=tenant_id, due_by=horizon)
        audits = await reminders.open_audits(session=session, tenant_id=tenant_id, due_by=horizon)
        feedback = await reminders.feedback_owed(
            session=session,
            tenant_id=tenant_id,
            completed_since=feedback_listed_since(today),
            zone=deps.zone,
        )
    # Thousands of cards take seconds of CPU: off the event loop, so turns are still answered.
    return await asyncio.to_thread(
        _plan,
        today=today,
        people=everyone,
        chats=chats,
        actions=actions,
        audits=audits,
        feedback=feedback,
    )


def _plan(
    *,
    today: date,
    people: dict[int, Person],
    chats: Mapping[int, PersonalChat],
    actions: list[ActionDue],
    audits: list[AuditDue],
    feedback: list[FeedbackOwed],
    escalate: bool = True,
) -> list[Planned]:
    """Each person's card for the day, and (with `escalate`) the managers' escalations."""
    due = bundles(
        people=people.values(), actions=actions, audits=audits, feedback=feedback, today=today
    )
    planned = []
    for bundle in due:
        chat = chats.get(bundle.person.id)
        if chat is None:
            continue
        planned.append(
            Planned(
                recipient_staff_id=bundle.person.id,
                recipient_name=bundle.person.name,
                conversation_ref_id=chat.conversation_ref_id,
                conversation_id=chat.conversation_id,
                kind=CardKind.MY_QA,
                summary=my_qa_summary(bundle.count),
                card=card_json(my_qa_card(bundle)),
                dedupe_key=dedupe_key(bundle.person.id, today),
                subjects=bundle.subjects,
            )
        )
    if len(planned) < len(due):
        # They have not opened the bot and roster sync has not reached them yet.
        log.warning(
            "%d people with QA items today have no chat with the bot", len(due) - len(planned)
        )
    if not escalate:
        return planned
    return planned + escalation_deliveries(actions=actions, today=today, people=people, chats=chats)


async def rebuild_my_qa(
    session: AsyncSession,
    tenant_id: str,
    staff_id: int,
    day: date,
    *,
    shown: frozenset[int],
    zone: ZoneInfo | None = None,
) -> tuple[dict[str, Any], str] | None:
    """The person's "my QA" card for `day` as things stand now; None if they are not known.

    It lists what is due now and keeps the actions the card already showed (`shown`) in their
    new state: snoozed, more time asked for, or done that day (bot.rules.reminders
    .on_the_days_card), and it counts only what still needs them, as the morning's card did.
    """
    zone = zone or await actions.display_zone(session=session, tenant_id=tenant_id)
    found = await _bundle_of(session, tenant_id, staff_id, day, zone, keep_done=True)
    if found is None:
        return None
    # A card whose subjects were not kept (posted before they were) lists everything, as it did.
    listed = (
        tuple(a for a in found.actions if on_the_days_card(a, day, shown))
        if shown
        else found.actions
    )
    asked, earlier = split_feedback(found.feedback, day)
    bundle = dataclasses.replace(found, actions=listed, feedback=asked, earlier_feedback=earlier)
    return card_json(my_qa_card(bundle)), my_qa_summary(bundle.count)


async def cards_for_a_late_joiner(
    session: AsyncSession,
    *,
    tenant_id: str,
    staff_id: int,
    chat: PersonalChat,
    now: datetime,
    zone: ZoneInfo,
) -> int:
    """Someone whose chat with the bot begins after this morning's run: today's card now, and
    a manager's escalation, once each (how many were queued).

    Before the morning's run (or on a day with none) nothing: the run will include them. The
    day's dedupe keys keep each to one card, whoever queues it first.
    """
    today = now.astimezone(zone).date()
    run = await job_runs.find(
        session=session, tenant_id=tenant_id, job=NAME, period=today.isoformat()
    )
    if run is None:
        return 0
    found = await _bundle_of(session, tenant_id, staff_id, today, zone, keep_done=False)
    if found is None:
        return 0
    planned = _plan(
        today=today,
        people={staff_id: found.person},
        chats={staff_id: chat},
        actions=list(found.actions),
        audits=list(found.audits),
        feedback=list(found.feedback),
        escalate=False,
    )
    # As a manager: the escalation the morning's run could not send them.
    overdue = await reminders.open_actions(
        session=session, tenant_id=tenant_id, due_by=escalation_cutoff(today)
    )
    everyone = await reminders.people(session=session, tenant_id=tenant_id)
    planned += escalation_deliveries(
        actions=overdue, today=today, people=everyone, chats={staff_id: chat}, only=staff_id
    )
    queued = 0
    for delivery in planned:
        queued += await enqueue_planned(session, tenant_id, delivery)
    if queued:
        log.info("a new chat after the morning's run: %d cards for staff %s", queued, staff_id)
    return queued


async def _bundle_of(
    session: AsyncSession,
    tenant_id: str,
    staff_id: int,
    day: date,
    zone: ZoneInfo,
    *,
    keep_done: bool,
) -> Bundle | None:
    """Everything open for one person up to the day's horizon, and every feedback form they owe,
    unfiltered by the day's rules; with `keep_done`, also their actions marked done that day."""
    found = await reminders.people(session=session, tenant_id=tenant_id, staff_id=staff_id)
    person = found.get(staff_id)
    if person is None:
        return None
    horizon = due_horizon(day)
    return Bundle(
        person=person,
        day=day,
        actions=tuple(
            await reminders.open_actions(
                session=session,
                tenant_id=tenant_id,
                due_by=horizon,
                owner_id=staff_id,
                done_between=reminders.local_day_bounds(day, zone) if keep_done else None,
            )
        ),
        audits=tuple(
            await reminders.open_audits(
                session=session, tenant_id=tenant_id, due_by=horizon, auditor_id=staff_id
            )
        ),
        feedback=tuple(
            await reminders.feedback_owed(
                session=session,
                tenant_id=tenant_id,
                completed_since=feedback_listed_since(day),
                zone=zone,
                practitioner_id=staff_id,
            )
        ),
    )


async def rebuild_posted_my_qa(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """bot.services.refresh's rebuilder for a posted "my QA" card: its recipient's card as of today."""
    staff_id = await reminders.recipient_of(
        session=session, tenant_id=tenant_id, conversation_ref_id=sent.conversation_ref_id
    )
    if staff_id is None:
        return None
    subjects = await outbox.subjects_of(
        session,
        tenant_id=tenant_id,
        conversation_ref_id=sent.conversation_ref_id,
        activity_id=sent.activity_id,
    )
    shown = frozenset(i for s in subjects if (i := subject_id(s, "action")) is not None)
    return await rebuild_my_qa(session, tenant_id, staff_id, today, shown=shown)


JOB = Job(NAME, run, at=lambda s: s.reminders_time, days="mon-fri", catch_up_until=CATCH_UP_UNTIL)

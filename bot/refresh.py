"""Cards already posted are updated in place when what they show changes (DESIGN §4).

Each kind of posted card (SentCard.kind) that can change has a rebuilder: given the posted card's
row, it builds the card afresh from the database, or None when it no longer can.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from cards.action_done import confirm_done_card
from cards.common import card_json
from cards.extension import extension_request_card
from jobs import escalation, reminders
from storage import actions, outbox
from storage.models import SentCard

Rebuilder = Callable[
    [AsyncSession, str, SentCard, date], Awaitable[tuple[dict[str, Any], str] | None]
]

EXTENSION_REQUEST = "extension_request"
CONFIRM_DONE = "confirm_done"


def subject_id(subject: str, kind: str) -> int | None:
    """12 from "action:12" when kind is "action"."""
    prefix, _, ident = subject.partition(":")
    return int(ident) if prefix == kind and ident.isdigit() else None


def action_subject(action_id: int) -> str:
    return f"action:{action_id}"


def audit_subject(audit_id: int) -> str:
    return f"audit:{audit_id}"


def extension_subject(request_id: int) -> str:
    return f"extension:{request_id}"


async def rebuild_extension_request(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    request_id = subject_id(sent.subject, "extension")
    action_id = subject_id(sent.subject, "action")
    if request_id is None and action_id is not None:
        request_id = await actions.extension_shown_on(
            session=session, tenant_id=tenant_id, action_id=action_id, sent_at=sent.sent_at
        )
    if request_id is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    view = await actions.extension_view(
        session=session, tenant_id=tenant_id, request_id=request_id, zone=zone
    )
    if view is None:
        return None
    return card_json(extension_request_card(view, today=today)), extension_request_summary(
        view.owner_name
    )


async def rebuild_confirm_done(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date
) -> tuple[dict[str, Any], str] | None:
    action_id = subject_id(sent.subject, "action")
    if action_id is None:
        return None
    zone = await actions.display_zone(session=session, tenant_id=tenant_id)
    status = await actions.action_status(
        session=session, tenant_id=tenant_id, action_id=action_id, zone=zone
    )
    if status is None:
        return None
    return card_json(confirm_done_card(status, today=today)), confirm_done_summary(
        status.owner_name
    )


def extension_request_summary(owner_name: str) -> str:
    return f"{owner_name} asks for more time on an action"


def confirm_done_summary(owner_name: str) -> str:
    return f"{owner_name} marked an action done"


# Keyed by SentCard.kind. Kinds without an entry (one-off notices) are never updated.
REBUILDERS: dict[str, Rebuilder] = {
    EXTENSION_REQUEST: rebuild_extension_request,
    CONFIRM_DONE: rebuild_confirm_done,
    reminders.KIND: reminders.rebuild_posted_my_qa,
    escalation.KIND: escalation.rebuild_posted_escalation,
}


def rebuilder_for(kind: str) -> Rebuilder | None:
    """How to rebuild a posted card of `kind`; None for one-off notices, never updated."""
    # Feature modules register their kinds when imported, and bot.actions imports every one of
    # them: so a process that has handled no turn (a CLI command, a job) still knows every kind.
    importlib.import_module("bot.actions")
    return REBUILDERS.get(kind)


def register(kind: str, rebuilder: Rebuilder) -> None:
    """Let a feature module's posted cards of `kind` be rebuilt (called at its import)."""
    REBUILDERS[kind] = rebuilder


async def rebuilt_card(
    session: AsyncSession,
    *,
    tenant_id: str,
    subject: str,
    conversation_id: str,
    activity_id: str,
    today: date,
) -> dict[str, Any] | None:
    """The posted card `activity_id` in that conversation, built afresh, if it shows `subject` and
    its kind has a rebuilder; used to answer a button press with that same card."""
    for sent, where in await outbox.cards_showing(session, tenant_id=tenant_id, subject=subject):
        rebuild = rebuilder_for(sent.kind)
        if (
            rebuild is not None
            and sent.activity_id == activity_id
            and where.conversation_id == conversation_id
        ):
            built = await rebuild(session, tenant_id, sent, today)
            return built[0] if built else None
    return None


async def refresh_cards(
    session: AsyncSession,
    *,
    tenant_id: str,
    subjects: list[str],
    today: date,
    change_key: str,
    except_activity_id: str | None = None,
) -> int:
    """Queue an in-place update of every posted card showing any of `subjects`; how many.

    One update per posted card however many of the subjects it shows. `change_key` names the
    change, so asking twice for the same change queues nothing more. The card whose button was
    pressed (`except_activity_id`) is left out: the answer to the press already updates it.
    """
    queued = 0
    done: set[tuple[int, str]] = set()
    for subject in subjects:
        for sent, where in await outbox.cards_showing(
            session, tenant_id=tenant_id, subject=subject
        ):
            posted = (sent.conversation_ref_id, sent.activity_id)
            rebuild = rebuilder_for(sent.kind)
            if rebuild is None or posted in done or sent.activity_id == except_activity_id:
                continue
            done.add(posted)
            built = await rebuild(session, tenant_id, sent, today)
            if built is None:
                continue
            card, summary = built
            queued += await outbox.enqueue(
                session,
                tenant_id=tenant_id,
                dedupe_key=f"update:{sent.id}:{change_key}",
                kind=sent.kind,
                conversation_ref_id=sent.conversation_ref_id,
                summary=summary,
                card=card,
                recipient_staff_id=where.staff_id,
                replaces_activity_id=sent.activity_id,
            )
    return queued

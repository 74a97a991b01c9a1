"""The manager's posted cards about an action, built afresh when the action changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.features.actions.commands import my_actions_reply, team_reply
from bot.services.refresh import posted_list
from bot.settings import Settings
from cards.action_done import confirm_done_card, confirm_done_summary
from cards.common import card_json
from cards.extension import extension_request_card, extension_request_summary
from cards.names import subject_id
from storage import actions, staff
from storage.models import SentCard


async def rebuild_extension_request(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
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
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
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


async def rebuild_my_actions(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """A `my actions` card posted today, drawn again: the same page as things stand now."""
    found = await posted_list(session, tenant_id, sent, today)
    if found is None:
        return None
    owner_id, offset = found
    reply = await my_actions_reply(session, tenant_id, owner_id, today=today, offset=offset)
    return reply.content(), reply.summary


async def rebuild_team(
    session: AsyncSession, tenant_id: str, sent: SentCard, today: date, settings: Settings
) -> tuple[dict[str, Any], str] | None:
    """A `team` card posted today, drawn again: the same page, the figures as they are now and
    suppressed as the bot's settings say."""
    found = await posted_list(session, tenant_id, sent, today)
    if found is None:
        return None
    manager_id, offset = found
    manager = await staff.active_by_id(session=session, tenant_id=tenant_id, staff_id=manager_id)
    if manager is None:
        return None
    reply = await team_reply(
        session, tenant_id, manager, today=today, offset=offset, settings=settings
    )
    if reply.kind is None:  # no longer a manager: the card is left as it was
        return None
    return reply.content(), reply.summary

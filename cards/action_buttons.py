"""The owner's buttons for one action: Mark done (note), Snooze 1 or 3 working days, Ask for more
time; a safeguarding step (a child visit or action meeting) only records it, as it can be neither
snoozed nor given more time. Any card listing actions can use them. Input ids carry the action id (note_12), so several
actions fit on one card; bot.actions reads both note_12 and note. `extra` goes into every button's data, e.g.
{"card": "my_actions", "offset": 10} so the answer is that same card.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import orjson
from microsoft_teams.cards import ActionSet, DateInput, ExecuteAction, ShowCardAction, TextInput

from bot.rules.grades import ACTION_MEETING, CHILD_VISIT
from bot.rules.reminders import is_urgent
from cards.common import AFTER_TODAY, counted, too_long
from cards.names import CardVerb, Input, item_input
from cards.plain import Json, element, new_card

TEXT_LIMIT = 2000


# An action id no card shows, whose digits appear nowhere else in the buttons' JSON.
_ANY_ID = 918273645546372819


def owner_buttons(
    action_id: int,
    *,
    today: date,
    extra: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Json:
    """`_owner_buttons`, made once per kind of action, day and `extra` and filled in with the
    action's id: ten actions' buttons are ~200 of a list card's ~245 elements (issue 15)."""
    template = _template(today, tuple((extra or {}).items()), source)
    return orjson.loads(template.replace(b"%d" % _ANY_ID, b"%d" % action_id))  # type: ignore[no-any-return]


@lru_cache(maxsize=256)
def _template(today: date, extra: tuple[tuple[str, Any], ...], source: str | None) -> bytes:
    return orjson.dumps(_owner_buttons(_ANY_ID, today=today, extra=dict(extra), source=source))


def _owner_buttons(
    action_id: int,
    *,
    today: date,
    extra: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Json:
    """Mark done (a form for the optional note), Snooze 1 day, Snooze 3 days, Ask for more time (a form).
    A child visit's Mark done also asks the day the child was seen (today unless changed) and is
    all it has; an action meeting has Record the meeting, which answers with the meeting form.
    `source` is the action's (Action.source).

    Kept lean: a list card carries ten of these, and every byte is paid on every `my actions`.
    Plain JSON (cards.plain), as the list card is; a card built from models validates it with
    ActionSet.model_validate.
    """

    def data(action: str, **more: Any) -> dict[str, Any]:
        return {"action": action, "action_id": action_id, **more, **(extra or {})}

    if source == ACTION_MEETING:
        return element(
            ActionSet,
            actions=[
                element(
                    ExecuteAction,
                    title="Record the meeting",
                    verb=CardVerb.MARK_DONE,
                    data=data(CardVerb.MARK_DONE),
                    associated_inputs="none",
                    style="positive",
                )
            ],
        )
    visit = source == CHILD_VISIT

    visited: list[Json] = []
    if visit:
        visited.append(
            element(
                DateInput,
                id=item_input(Input.VISITED_ON, action_id),
                label="Date of the visit",
                value=today.isoformat(),
                max=today.isoformat(),
                is_required=True,
                error_message="Please give the date of the visit.",
            )
        )
    done = new_card(
        [
            *visited,
            element(
                TextInput,
                id=item_input(Input.NOTE, action_id),
                placeholder="Note for your manager (optional)",
                is_multiline=True,
                max_length=TEXT_LIMIT,
                error_message=too_long(TEXT_LIMIT),
            ),
        ],
        [
            element(
                ExecuteAction,
                title="Mark done",
                verb=CardVerb.MARK_DONE,
                data=data(CardVerb.MARK_DONE),
                style="positive",
            )
        ],
        wide=False,
    )
    if is_urgent(source):
        return element(ActionSet, actions=[element(ShowCardAction, title="Mark done", card=done)])
    more_time = new_card(
        [
            element(
                DateInput,
                id=item_input(Input.NEW_DUE_ON, action_id),
                label="New due date",
                min=(today + timedelta(days=1)).isoformat(),
                error_message=AFTER_TODAY,
            ),
            element(
                TextInput,
                id=item_input(Input.REASON, action_id),
                label="Why you need more time",
                is_multiline=True,
                max_length=TEXT_LIMIT,
                error_message=too_long(TEXT_LIMIT),
            ),
        ],
        [
            element(
                ExecuteAction,
                title="Ask my manager",
                verb=CardVerb.REQUEST_EXTENSION,
                data=data(CardVerb.REQUEST_EXTENSION),
            )
        ],
        wide=False,
    )
    snoozes = [
        element(
            ExecuteAction,
            title=f"Snooze {counted(days, 'day')}",
            verb=CardVerb.SNOOZE,
            data=data(CardVerb.SNOOZE, days=days),
            associated_inputs="none",
        )
        for days in (1, 3)
    ]
    return element(
        ActionSet,
        actions=[
            element(ShowCardAction, title="Mark done", card=done),
            *snoozes,
            element(ShowCardAction, title="Ask for more time", card=more_time),
        ],
    )

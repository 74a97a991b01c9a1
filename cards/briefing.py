"""Best Practice Briefing cards: the authoring form, the author's preview, and the briefing as
staff read it (in a channel, or by typing `briefing`).

Everything the author typed is shown literally; the link is a button, never markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ExecuteAction,
    OpenUrlAction,
    TextBlock,
    TextInput,
)

from bot.rules.briefing import (
    KEY_MESSAGE_LIMIT,
    LINK_LIMIT,
    MAX_KEY_MESSAGES,
    PUBLISHED,
    READ_LIMIT,
    READY,
    TITLE_LIMIT,
)
from cards.common import heading, im_back, literal, new_card, note, run, too_long, uk_date
from cards.names import CardVerb

ABOUT = (
    "A five-minute read for all staff. Managers: use it to start a practice discussion in "
    "team meetings and supervision."
)


@dataclass(frozen=True, slots=True)
class BriefingView:
    id: int
    title: str
    read: str
    key_messages: tuple[str, ...]
    link: str | None
    state: str
    published_on: date | None = None


def briefing_form_card(
    *,
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    briefing_id: int | None = None,
) -> AdaptiveCard:
    """The authoring form; given values and problems, it comes back filled in, saying what to fix."""
    values = values or {}
    problems = problems or {}
    body: list[CardElement] = [
        heading("Edit the briefing" if briefing_id else "New Best Practice Briefing"),
        note(
            "One page for all staff: a title, a five-minute read, the key messages and a link "
            "to learn more. You'll see a preview before anything is posted."
        ),
    ]
    if problems:
        body.append(
            literal(run("Please check the form: " + " ".join(problems.values()), color="Attention"))
        )
    body += [
        TextInput(
            id="title",
            label="Title",
            value=values.get("title") or None,
            max_length=TITLE_LIMIT,
            is_required=True,
            error_message=f"Please give a title of up to {TITLE_LIMIT:,} characters.",
        ),
        TextInput(
            id="read",
            label="Five-minute read",
            placeholder="What good practice looks like, and why it matters",
            value=values.get("read") or None,
            is_multiline=True,
            max_length=READ_LIMIT,
            is_required=True,
            error_message=f"Please write the read, in up to {READ_LIMIT:,} characters.",
        ),
        TextInput(
            id="key_messages",
            label=f"Key messages, one per line (up to {MAX_KEY_MESSAGES})",
            value=values.get("key_messages") or None,
            is_multiline=True,
            max_length=MAX_KEY_MESSAGES * (KEY_MESSAGE_LIMIT + 4),
            is_required=True,
            error_message=f"Please give one to {MAX_KEY_MESSAGES} key messages, one per line.",
        ),
        TextInput(
            id="link",
            label="Link to learn more (optional, https://…)",
            value=values.get("link") or None,
            max_length=LINK_LIMIT,
            error_message=too_long(LINK_LIMIT),
        ),
    ]
    data: dict[str, object] = {"action": CardVerb.SAVE_BRIEFING}
    if briefing_id:
        data["briefing_id"] = briefing_id
    return new_card(
        body,
        [ExecuteAction(title="Preview", verb=CardVerb.SAVE_BRIEFING, data=data, style="positive")],
    )


def _briefing_body(view: BriefingView) -> list[CardElement]:
    body: list[CardElement] = [
        TextBlock(text="Best Practice Briefing", size="Small", is_subtle=True, wrap=True),
        literal(run(view.title, bold=True)),
    ]
    body += [literal(paragraph) for paragraph in view.read.split("\n\n") if paragraph.strip()]
    body.append(TextBlock(text="Key messages", weight="Bolder", spacing="Medium", wrap=True))
    body += [literal(f"• {message}") for message in view.key_messages]
    return body


def _link(view: BriefingView) -> list[Action]:
    return [OpenUrlAction(title="Learn more", url=view.link)] if view.link else []


def briefing_card(view: BriefingView) -> AdaptiveCard:
    """The briefing as staff see it: posted to a channel, or shown by `briefing`."""
    return new_card([*_briefing_body(view), note(ABOUT, subtle=True)], _link(view))


def latest_briefing_card(
    view: BriefingView | None, *, today: date, may_author: bool, drafts: int
) -> AdaptiveCard:
    actions: list[Action] = []
    if may_author:
        actions.append(
            ExecuteAction(
                title="New briefing",
                verb=CardVerb.NEW_BRIEFING,
                data={"action": CardVerb.NEW_BRIEFING},
            )
        )
        if drafts:
            actions.append(
                ExecuteAction(
                    title="Preview the newest draft",
                    verb=CardVerb.PREVIEW_BRIEFING,
                    data={"action": CardVerb.PREVIEW_BRIEFING},
                )
            )
    if view is None:
        body: list[CardElement] = [
            heading("Best Practice Briefing"),
            note("There is no briefing yet. The QA team publishes one each month."),
        ]
        return new_card(body, actions, wide=False)
    published = (
        f"Published {uk_date(view.published_on, today=today)}. " if view.published_on else ""
    )
    body = [*_briefing_body(view), note(published + ABOUT, subtle=True)]
    return new_card(body, _link(view) + actions)


def briefing_preview_card(
    view: BriefingView,
    *,
    today: date,
    scheduled_for: date,
    channels: Sequence[str],
    notice: str | None = None,
) -> AdaptiveCard:
    """What the author sees before posting: the briefing as staff will see it, and what next."""
    body: list[CardElement] = [heading("Preview of your briefing")]
    if notice:
        body.append(literal(run(notice, bold=True)))
    body += _briefing_body(view)
    where = ", ".join(channels) if channels else None
    if view.state == PUBLISHED:
        body.append(note("This briefing has been published.", subtle=True))
        return new_card(body, _link(view), wide=False)
    if view.state == READY:
        body.append(
            note(
                f"Scheduled: it will be posted on {uk_date(scheduled_for, today=today)} "
                "unless a newer briefing is scheduled.",
                subtle=True,
            )
        )
    if where:
        body.append(literal(f"It will be posted to: {where}."))
    else:
        body.append(
            note(
                "No channel is set up for briefings yet. In a team channel, type "
                "@QA Loop use this channel for briefings."
            )
        )
    data = {"briefing_id": view.id}
    actions: list[Action] = [
        ExecuteAction(
            title="Publish now",
            verb=CardVerb.PUBLISH_BRIEFING,
            data={"action": CardVerb.PUBLISH_BRIEFING, **data},
            style="positive",
        )
    ]
    if view.state != READY:
        actions.append(
            ExecuteAction(
                title=f"Publish on {uk_date(scheduled_for, today=today)}",
                verb=CardVerb.SCHEDULE_BRIEFING,
                data={"action": CardVerb.SCHEDULE_BRIEFING, **data},
            )
        )
    actions.append(
        ExecuteAction(
            title="Edit",
            verb=CardVerb.EDIT_BRIEFING,
            data={"action": CardVerb.EDIT_BRIEFING, **data},
        )
    )
    return new_card(body, actions + _link(view))


def briefing_published_card(
    view: BriefingView, *, channels: Sequence[str], when: str
) -> AdaptiveCard:
    """The author's preview once posted: it cannot be published twice."""
    return new_card(
        [
            heading("Published ✓"),
            literal(f"Posted {when} to: {', '.join(channels)}."),
            *_briefing_body(view),
        ],
        [im_back("Show the latest briefing", "briefing")],
        wide=False,
    )

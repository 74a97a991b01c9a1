"""The daily delivery alert for QA and admins: how many messages were given up on, how many of
those because Teams refused the bot's credentials, and how many people became unreachable.
Counts only: no case, no name, no message content."""

from __future__ import annotations

from dataclasses import dataclass

from microsoft_teams.cards import AdaptiveCard, CardElement

from cards.common import counted, heading, im_back, new_card, note


@dataclass(frozen=True, slots=True)
class DeliveryTrouble:
    """One day's delivery trouble in a tenant."""

    # Deliveries given up on (after their tries, refused for good, or not sent to someone
    # unreachable): they wait for `qaloop outbox retry`.
    dead_letters: int
    # Of those, refused with a fresh token too (HTTP 401 twice): the credentials need mending.
    token_refused: int
    # People who removed or blocked QA Loop (Teams said 403 or 404).
    unreachable: int

    @property
    def any(self) -> bool:
        return bool(self.dead_letters or self.token_refused or self.unreachable)


def delivery_alert_summary() -> str:
    """The notification preview: nothing about whom or what."""
    return "Some QA Loop messages could not be delivered"


def delivery_alert_card(trouble: DeliveryTrouble, *, show_people: bool) -> AdaptiveCard:
    """`show_people`: the reader may list the people QA Loop cannot reach (QA may)."""
    body: list[CardElement] = [heading("Messages QA Loop could not deliver")]
    if trouble.dead_letters:
        body.append(
            note(
                f"{counted(trouble.dead_letters, 'message')} given up on since yesterday's "
                "alert. An admin can list them with qaloop outbox status and send again the "
                "ones that never arrived with qaloop outbox retry."
            )
        )
    if trouble.token_refused:
        body.append(
            note(
                f"{counted(trouble.token_refused, 'message was', 'messages were')} refused "
                "because Teams did not accept QA Loop's credentials, even after a fresh token. "
                "An admin should check the app's client secret in Entra (it may have expired or "
                "been rotated), then retry them."
            )
        )
    if trouble.unreachable:
        body.append(
            note(
                f"{counted(trouble.unreachable, 'person', 'people')} removed or blocked QA Loop "
                "and will get no reminders until they message it again."
            )
        )
    show = show_people and trouble.unreachable
    actions = [im_back("Show people I can't reach", "unreachable")] if show else []
    return new_card(body, actions)

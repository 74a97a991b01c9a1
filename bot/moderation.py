"""Moderation: each month a reproducible sample of completed audits goes to a QA moderator, who
agrees or disagrees per standard and overall."""

from __future__ import annotations

from bot.payloads import CardAction

ACTIONS: dict[str, CardAction] = {}

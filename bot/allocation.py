"""Choosing and assigning audits: the month's random allocation, single audits made by QA, the
"audit assigned" card with its copies, "Can't do this one" and reassignment."""

from __future__ import annotations

from bot.payloads import CardAction

ACTIONS: dict[str, CardAction] = {}

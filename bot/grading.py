"""Grading an audit in place: the six standards and the overall grade with the limiting-judgement
rule, SMART actions, and completing the audit."""

from __future__ import annotations

from bot.payloads import CardAction

ACTIONS: dict[str, CardAction] = {}

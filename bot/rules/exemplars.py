"""Exemplars: their states and limits. An auditor suggests one from a theme ticked as a strength;
the QA team approves or declines it once."""

from __future__ import annotations

SUGGESTED = "suggested"
APPROVED = "approved"
DECLINED = "declined"
TITLE_LIMIT = 80
TEXT_LIMIT = 1000

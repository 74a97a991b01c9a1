"""Findings tagged to practice themes: what a tick means, and how a theme's counts are ranked
and compared with the period before (the `themes` report)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.rules.digest import Period, month, month_start, previous_quarter, quarter


class Finding(StrEnum):
    """What an auditor saw of a theme in one audit."""

    STRENGTH = "strength"
    TO_IMPROVE = "to_improve"


FINDING_LABELS = {
    Finding.STRENGTH: "Strengths",
    Finding.TO_IMPROVE: "Areas to improve",
}

# A theme's key in the themes file, stored with every tick: lower case, digits and hyphens.
THEME_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
THEME_KEY_LIMIT = 24
THEME_TITLE_LIMIT = 60
# The most themes the report ranks per finding.
TOP_THEMES = 5


def this_month(today: date) -> Period:
    return month(month_start(today))


def this_quarter(today: date) -> Period:
    return quarter(today.year, (today.month - 1) // 3 + 1)


def before(period: Period) -> Period:
    """The period of the same kind just before: last month, or last quarter."""
    if period.kind == "quarter":
        return previous_quarter(period.start)
    return month(month_start(period.start, 1))


@dataclass(frozen=True, slots=True)
class Ranked:
    """A theme's audits this period and in the period before."""

    theme: str
    audits: int
    earlier: int

    @property
    def change(self) -> int:
        return self.audits - self.earlier


def ranked(
    now: Mapping[str, int], earlier: Mapping[str, int], *, top: int = TOP_THEMES
) -> list[Ranked]:
    """Themes by how many audits ticked them this period, most first; ties by the larger rise,
    then by key, so the order is stable. A theme ticked only in the period before is not
    ranked."""
    rows = [Ranked(theme, n, earlier.get(theme, 0)) for theme, n in now.items() if n > 0]
    rows.sort(key=lambda r: (-r.audits, -r.change, r.theme))
    return rows[:top]

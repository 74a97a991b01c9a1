"""Findings tagged to practice themes: what a tick means, and the limits of a theme's key and
name in the themes file."""

from __future__ import annotations

import re
from enum import StrEnum


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

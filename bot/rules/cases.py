"""What a case reference looks like: the default pattern (a council sets its own with
QALOOP_CASE_REF_PATTERN, which the case import, allocation and every free-text check read), and the
words of free text that a pattern matches, so a child's case is never named where staff read it."""

from __future__ import annotations

import re

# Up to three letters, an optional hyphen, then 3 to 10 digits: C-100044, AB123456, 1234567.
DEFAULT_CASE_REF_PATTERN = r"^[A-Z]{0,3}-?\d{3,10}$"


def case_ref_words(text: str, pattern: str = DEFAULT_CASE_REF_PATTERN) -> list[str]:
    """The words of `text` that the case-reference pattern matches (as the case import and
    allocation read a reference: upper case, whole word), in order, once each."""
    compiled = re.compile(pattern)
    found: list[str] = []
    for word in re.findall(r"[\w-]+", text):
        word = word.strip("-").upper()
        if word and compiled.search(word) and word not in found:
            found.append(word)
    return found

"""How far two people's grades for the same standards agree: exactly, or within one grade, and
which way they differ. Used for the practitioner's own view against the auditor's grades (QA
only); written so that calibration (moderator against auditor) can share it.

A pair is (the first person's grade, the second's) for one standard of one audit; a pair with a
grade missing on either side, or a value that is not a grade, is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.rules.digest import share
from bot.rules.grades import GRADE_RANK, Standard


@dataclass(frozen=True, slots=True)
class GradeAgreement:
    """Agreement over `pairs` graded pairs."""

    pairs: int = 0
    exact: int = 0
    # Exactly, or one grade apart (good against outstanding, say).
    within_one: int = 0
    # The first person's grade better than the second's (a practitioner kinder to their own work
    # than the auditor), and worse.
    first_better: int = 0
    first_worse: int = 0

    @property
    def exact_share(self) -> float | None:
        return share(self.exact, self.pairs)

    @property
    def within_one_share(self) -> float | None:
        return share(self.within_one, self.pairs)


def agreement(pairs: Iterable[tuple[str | None, str | None]]) -> GradeAgreement:
    """Exact and within-one agreement over the pairs that are both graded."""
    counted = exact = within_one = better = worse = 0
    for first, second in pairs:
        if first not in GRADE_RANK or second not in GRADE_RANK:
            continue
        assert first is not None and second is not None
        apart = GRADE_RANK[first] - GRADE_RANK[second]
        counted += 1
        exact += apart == 0
        within_one += abs(apart) <= 1
        better += apart < 0
        worse += apart > 0
    return GradeAgreement(counted, exact, within_one, better, worse)


def agreement_by_standard(
    rows: Iterable[tuple[str, str | None, str | None]],
) -> dict[Standard, GradeAgreement]:
    """(standard, first grade, second grade) rows, per standard in the framework's order."""
    found: dict[str, list[tuple[str | None, str | None]]] = {}
    for standard, first, second in rows:
        found.setdefault(standard, []).append((first, second))
    return {s: agreement(found.get(s.value, ())) for s in Standard}

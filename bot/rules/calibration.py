"""Calibration: how far an auditor's grades and a moderator's blind grades of the same audit
agree, and when that is worth flagging to QA.

A pair is (auditor's grade, moderator's grade) for one judgement of one moderated audit. From the
pairs: exact agreement, agreement within one grade, and a chance-corrected figure — Cohen's (1968)
weighted kappa with linear (Cicchetti–Allison) weights, or Gwet's (2008) AC1 when the grades are
skewed towards one grade, where kappa's chance term is known to swamp it (the "kappa paradox").
The scale always has its four grades, whether or not all were used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.rules.grades import GRADE_RANK, Grade

SCALE: tuple[Grade, ...] = tuple(Grade)  # best first
# Grades count as skewed when one grade is more than this share of all those given (both sides).
SKEWED_SHARE = 0.5
# The moderations a calibration report reads: those decided in the last 12 months.
LOOKBACK_MONTHS = 12
DEFAULT_MIN_PAIRS = 10
DEFAULT_AGREEMENT_PERCENT = 80

Table = Sequence[Sequence[int]]
Direction = Literal["lenient", "harsh"]


def rank(grade: str) -> int:
    """0 for outstanding to 3 for inadequate."""
    return GRADE_RANK[Grade(grade).value]


def table_of(pairs: Iterable[tuple[str, str]]) -> list[list[int]]:
    """The 4 × 4 counts: rows the auditor's grade, columns the moderator's, best first."""
    table = [[0] * len(SCALE) for _ in SCALE]
    for auditor, moderator in pairs:
        table[rank(auditor)][rank(moderator)] += 1
    return table


def kappa(table: Table, *, weighted: bool = True) -> float | None:
    """Cohen's kappa of a q × q table; weighted (Cohen 1968) with linear agreement weights
    w = 1 − |i − j| / (q − 1), as SAS PROC FREQ's default Cicchetti–Allison weights.
    None when it is undefined: no pairs, or chance agreement is already complete."""
    q = len(table)
    n = sum(sum(row) for row in table)
    if n == 0:
        return None
    rows = [sum(row) / n for row in table]
    columns = [sum(row[j] for row in table) / n for j in range(q)]

    def weight(i: int, j: int) -> float:
        if not weighted:
            return 1.0 if i == j else 0.0
        return 1 - abs(i - j) / (q - 1)

    cells = [(i, j) for i in range(q) for j in range(q)]
    observed = sum(weight(i, j) * table[i][j] / n for i, j in cells)
    chance = sum(weight(i, j) * rows[i] * columns[j] for i, j in cells)
    if chance >= 1:
        return None
    return (observed - chance) / (1 - chance)


def gwet_ac1(table: Table) -> float | None:
    """Gwet's AC1 for two raters: chance agreement is Σ π(1 − π) / (q − 1), π each category's
    share of both raters' grades. None with no pairs."""
    q = len(table)
    n = sum(sum(row) for row in table)
    if n == 0:
        return None
    observed = sum(table[k][k] for k in range(q)) / n
    shares = [(sum(table[k]) + sum(row[k] for row in table)) / (2 * n) for k in range(q)]
    chance = sum(p * (1 - p) for p in shares) / (q - 1)
    return (observed - chance) / (1 - chance)


def is_skewed(table: Table) -> bool:
    """One grade is more than SKEWED_SHARE of all the grades given, by both raters together."""
    q = len(table)
    n = sum(sum(row) for row in table)
    if n == 0:
        return False
    given = [sum(table[k]) + sum(row[k] for row in table) for k in range(q)]
    return max(given) > SKEWED_SHARE * 2 * n


@dataclass(frozen=True, slots=True)
class Agreement:
    """The pairs of one auditor (or one standard) and how far they agree."""

    pairs: int
    exact: int
    within_one: int
    # The auditor's grade better than the moderator's (lenient), or worse (harsh).
    better: int
    worse: int
    kappa: float | None
    ac1: float | None
    skewed: bool

    @property
    def exact_percent(self) -> float | None:
        return 100 * self.exact / self.pairs if self.pairs else None

    @property
    def within_one_percent(self) -> float | None:
        return 100 * self.within_one / self.pairs if self.pairs else None

    @property
    def chance_corrected(self) -> tuple[Literal["AC1", "κw"], float | None]:
        """The figure to show: AC1 where the grades are skewed, else weighted kappa."""
        return ("AC1", self.ac1) if self.skewed else ("κw", self.kappa)

    @property
    def direction(self) -> Direction | None:
        """Lenient when the auditor grades better than the moderator more often than worse."""
        if self.better > self.worse:
            return "lenient"
        if self.worse > self.better:
            return "harsh"
        return None


def agreement(pairs: Sequence[tuple[str, str]]) -> Agreement:
    table = table_of(pairs)
    gaps = [rank(auditor) - rank(moderator) for auditor, moderator in pairs]
    return Agreement(
        pairs=len(pairs),
        exact=sum(1 for gap in gaps if gap == 0),
        within_one=sum(1 for gap in gaps if abs(gap) <= 1),
        # A lower rank is a better grade.
        better=sum(1 for gap in gaps if gap < 0),
        worse=sum(1 for gap in gaps if gap > 0),
        kappa=kappa(table),
        ac1=gwet_ac1(table),
        skewed=is_skewed(table),
    )


def flagged(figure: Agreement, *, min_pairs: int, below_percent: int) -> bool:
    """Worth QA's attention: enough pairs to go on, and exact agreement under the threshold."""
    share = figure.exact_percent
    return figure.pairs >= min_pairs and share is not None and share < below_percent

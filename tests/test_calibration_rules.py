"""Calibration's figures as pure rules, checked against published worked examples: weighted kappa
(Cohen 1968, linear Cicchetti–Allison weights, SAS PROC FREQ's default) and Gwet's AC1."""

from __future__ import annotations

import pytest

from bot.rules.calibration import (
    Agreement,
    agreement,
    flagged,
    gwet_ac1,
    is_skewed,
    kappa,
    table_of,
)
from bot.rules.cases import case_ref_words
from bot.settings import Settings

# SAS PROC FREQ, AGREE option, on this 3 × 3 table: simple kappa 0.4842 and weighted kappa 0.4701
# with the default Cicchetti–Allison (linear) weights, as printed by SAS and quoted in statsmodels'
# tests (statsmodels/stats/tests/test_inter_rater.py, UnweightedCohens and TestWeightedCohens,
# "comparison to printout of a SAS example").
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]

# SAS/STAT User's Guide, PROC FREQ "Getting Started: Agreement Study" (the skin condition data,
# two dermatologists rating 88 patients terrible / poor / marginal / clear): simple kappa 0.3449.
SKIN_CONDITION = [[10, 4, 1, 0], [5, 10, 12, 2], [2, 4, 12, 5], [0, 2, 6, 13]]

# Gwet, K. L. (2014) Handbook of Inter-Rater Reliability, 4th ed., worked in his irrCAC package's
# overview (cont3x3abstractors, two abstractors classifying 100 pregnancies Ectopic / AIU / NIU):
# Cohen's kappa 0.7964094, Gwet's AC1 0.8493305, percent agreement 0.89.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def test_weighted_kappa_matches_sas_with_linear_cicchetti_allison_weights() -> None:
    assert kappa(SAS_TABLE, weighted=False) == pytest.approx(0.4842, abs=5e-5)
    assert kappa(SAS_TABLE) == pytest.approx(0.4701, abs=5e-5)
    assert kappa(SKIN_CONDITION, weighted=False) == pytest.approx(0.3449, abs=5e-5)


def test_gwet_ac1_matches_gwet_s_worked_example() -> None:
    assert gwet_ac1(ABSTRACTORS) == pytest.approx(0.8493305, abs=5e-8)
    assert kappa(ABSTRACTORS, weighted=False) == pytest.approx(0.7964094, abs=5e-8)


def test_one_grade_given_every_time_has_no_kappa_but_full_ac1() -> None:
    """The kappa paradox at its limit: perfect agreement, all "good", leaves kappa undefined
    (chance agreement is complete) while AC1 says 1."""
    table = table_of([("good", "good")] * 12)

    assert kappa(table) is None
    assert gwet_ac1(table) == 1.0
    assert is_skewed(table)
    assert agreement([("good", "good")] * 12).chance_corrected == ("AC1", 1.0)


def test_exact_within_one_and_direction() -> None:
    pairs = [
        ("good", "good"),
        ("outstanding", "good"),  # the auditor a grade better: lenient
        ("outstanding", "requires_improvement"),  # two better
        ("requires_improvement", "requires_improvement"),
        ("inadequate", "requires_improvement"),  # a grade worse: harsh
    ]

    figure = agreement(pairs)

    assert (figure.pairs, figure.exact, figure.within_one) == (5, 2, 4)
    assert (figure.better, figure.worse, figure.direction) == (2, 1, "lenient")
    assert figure.exact_percent == 40.0 and figure.within_one_percent == 80.0
    assert agreement([("good", "outstanding")]).direction == "harsh"
    assert agreement([("good", "good")]).direction is None
    # Spread over the scale, nothing skewed: weighted kappa is the figure shown.
    spread = agreement([(g, g) for g in ("outstanding", "good", "requires_improvement")] * 2)
    assert spread.chance_corrected == ("κw", 1.0)


def test_flagged_only_from_ten_pairs_and_under_eighty_percent() -> None:
    settings = Settings(_env_file=None)
    limits = {
        "min_pairs": settings.calibration_min_pairs,
        "below_percent": settings.calibration_agreement_percent,
    }
    assert limits == {"min_pairs": 10, "below_percent": 80}

    def figure(pairs: int, exact: int) -> Agreement:
        return agreement([("good", "good")] * exact + [("good", "inadequate")] * (pairs - exact))

    assert not flagged(figure(9, 0), **limits)  # too few pairs to say
    assert flagged(figure(10, 7), **limits)  # 70 %
    assert not flagged(figure(10, 8), **limits)  # 80 % is not under 80 %
    assert flagged(figure(20, 15), **limits)  # 75 %
    assert not flagged(agreement([]), **limits)


def test_words_that_match_the_case_reference_pattern_are_found() -> None:
    pattern = Settings(_env_file=None).case_ref_pattern

    text = "Seen at home (c-10001) and C-10001 again; AB123456. Aged 7, 3 siblings, no refs-here."

    assert case_ref_words(text, pattern) == ["C-10001", "AB123456"]
    assert case_ref_words("A child of 7 seen twice with mum, plan reviewed", pattern) == []

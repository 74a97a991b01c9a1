"""The month's moderation sample as pure rules: reproducible from its seed, at least one audit
per auditor, 10 % rounded up, and moderators who never moderate their own audits."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date

from bot.rules.moderation import (
    Candidate,
    assign_moderators,
    draw_sample,
    fingerprint,
    sample_size,
    sampled_month,
)
from bot.rules.workdays import is_first_working_day_of_month

SEED = "5eed"


def month_of(count: int, auditors: int = 1) -> list[Candidate]:
    return [Candidate(audit_id=100 + n, auditor_id=1 + n % auditors) for n in range(count)]


def test_the_same_seed_and_candidates_give_the_same_sample_in_any_order() -> None:
    candidates = month_of(60, auditors=3)

    first = draw_sample(candidates, seed=SEED)
    again = draw_sample(list(reversed(candidates)), seed=SEED)
    other = [draw_sample(candidates, seed=f"seed-{n}") for n in range(5)]

    assert first == again
    assert any(sample != first for sample in other)


def test_ten_percent_is_rounded_up() -> None:
    assert [sample_size(n, auditors=1) for n in (0, 1, 9, 10, 11, 25, 30, 31)] == [
        0,
        1,
        1,
        1,
        2,
        3,
        3,
        4,
    ]
    assert len(draw_sample(month_of(25), seed=SEED)) == 3


def test_every_auditor_has_at_least_one_audit_moderated() -> None:
    candidates = month_of(12, auditors=5)  # 10 % would be 2

    sample = draw_sample(candidates, seed=SEED)

    assert len(sample) == 5
    assert {c.auditor_id for c in sample} == {1, 2, 3, 4, 5}
    assert sample == sorted(sample, key=lambda c: c.audit_id)


def test_the_fingerprint_is_sha256_of_the_sorted_ids() -> None:
    candidates = [Candidate(12, 1), Candidate(3, 2), Candidate(7, 1)]

    assert fingerprint(candidates) == hashlib.sha256(b"3,7,12").hexdigest()
    assert fingerprint(reversed(candidates)) == fingerprint(candidates)


def test_moderators_never_get_their_own_audit_and_share_the_work() -> None:
    sample = [Candidate(n, auditor_id=10 if n % 2 else 11) for n in range(1, 9)]

    assigned = assign_moderators(sample, moderators=[10, 11, 12], seed=SEED)

    assert set(assigned) == {c.audit_id for c in sample}
    assert all(assigned[c.audit_id] != c.auditor_id for c in sample)
    load = Counter(assigned.values())
    assert max(load.values()) - min(load.values()) <= 1
    assert assign_moderators(sample, moderators=[12, 11, 10], seed=SEED) == assigned


def test_an_audit_whose_auditor_is_the_only_moderator_is_left_out() -> None:
    sample = [Candidate(1, auditor_id=10), Candidate(2, auditor_id=20)]

    assert assign_moderators(sample, moderators=[10], seed=SEED) == {2: 10}


def test_the_sample_is_drawn_on_the_first_working_day_for_the_month_before() -> None:
    assert is_first_working_day_of_month(date(2026, 12, 1))  # a Tuesday
    assert is_first_working_day_of_month(date(2026, 11, 2))  # 1 Nov is a Sunday
    assert not is_first_working_day_of_month(date(2027, 1, 1))  # New Year's Day
    assert is_first_working_day_of_month(date(2027, 1, 4))
    assert not is_first_working_day_of_month(date(2026, 12, 2))
    assert sampled_month(date(2026, 12, 1)) == "2026-11"
    assert sampled_month(date(2027, 1, 4)) == "2026-12"

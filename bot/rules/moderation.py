"""The month's moderation sample: which completed audits are moderated, and by whom.

Pure and seeded: the same seed and candidates always give the same sample and moderators, so the
choice can be shown again to an inspector from the stored seed and fingerprint (DESIGN §2).
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

DEFAULT_RATE_PERCENT = 10


@dataclass(frozen=True, slots=True)
class Candidate:
    """A completed audit of the month, and who audited it."""

    audit_id: int
    auditor_id: int


def sampled_month(today: date) -> str:
    """The month a run on `today` samples: the one before, as "2026-10" for any day in November."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def new_seed() -> str:
    return secrets.token_hex(16)


def fingerprint(candidates: Iterable[Candidate]) -> str:
    """sha256 of the sorted audit ids: shows later that the sample was drawn from this list."""
    ids = ",".join(str(i) for i in sorted(c.audit_id for c in candidates))
    return hashlib.sha256(ids.encode()).hexdigest()


def sample_size(count: int, auditors: int, rate_percent: int = DEFAULT_RATE_PERCENT) -> int:
    """`rate_percent` of `count`, rounded up, and never fewer than one audit per auditor."""
    if count == 0:
        return 0
    # Integer arithmetic: 10 % of 30 is exactly 3, never 3.0000000000000004 rounded up to 4.
    share = -(-count * rate_percent // 100)
    return min(count, max(share, auditors))


def draw_sample(
    candidates: Sequence[Candidate], *, seed: str, rate_percent: int = DEFAULT_RATE_PERCENT
) -> list[Candidate]:
    """One audit of each auditor at random, then more at random up to the rate; by audit id."""
    ordered = sorted(set(candidates), key=lambda c: (c.audit_id, c.auditor_id))
    rng = random.Random(f"{seed}:{fingerprint(ordered)}")
    by_auditor: dict[int, list[Candidate]] = {}
    for candidate in ordered:
        by_auditor.setdefault(candidate.auditor_id, []).append(candidate)
    chosen = [rng.choice(by_auditor[auditor]) for auditor in sorted(by_auditor)]
    rest = [c for c in ordered if c not in chosen]
    rng.shuffle(rest)
    wanted = sample_size(len(ordered), len(by_auditor), rate_percent)
    chosen += rest[: max(0, wanted - len(chosen))]
    return sorted(chosen, key=lambda c: c.audit_id)


def assign_moderators(
    sample: Sequence[Candidate], *, moderators: Iterable[int], seed: str
) -> dict[int, int]:
    """Audit id → moderator: never the audit's own auditor, the load spread evenly.

    Each audit goes to the eligible moderator with fewest so far; ties go by a seeded order. An
    audit whose auditor is the only moderator there is gets nobody, and is left out.
    """
    order = sorted(set(moderators))
    random.Random(f"{seed}:moderators").shuffle(order)
    rank = {moderator: n for n, moderator in enumerate(order)}
    load = dict.fromkeys(order, 0)
    assigned: dict[int, int] = {}
    for candidate in sorted(sample, key=lambda c: c.audit_id):
        eligible = [m for m in order if m != candidate.auditor_id]
        if not eligible:
            continue
        moderator = min(eligible, key=lambda m: (load[m], rank[m]))
        load[moderator] += 1
        assigned[candidate.audit_id] = moderator
    return assigned

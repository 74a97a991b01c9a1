"""The month's random choice of cases for collaborative audits, and who audits each (DESIGN §2);
with the programme's targets, senior manager audits (cases at random) and team manager audits (so
many per TM, never of their own team's cases) from the cases left.

Pure and reproducible: the same candidates, auditors and seed give the same plan, whatever order
they come in. Picks are stratified by team and spread across each team's workers; auditors are
balanced by their open load, never audit a case they work, and audit their own team's cases only
when nobody else can.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.rules.grades import AuditKind
from bot.rules.workdays import is_working_day


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open case that may be chosen."""

    case_id: int
    case_ref: str
    team_id: int
    worker_id: int


@dataclass(frozen=True, slots=True)
class Auditor:
    id: int
    team_id: int | None
    # Audits they have open now (assigned or in progress).
    load: int = 0


@dataclass(frozen=True, slots=True)
class Manager:
    """A team manager, service manager or head of service who may be given a programme audit."""

    id: int
    team_id: int | None
    kind: AuditKind
    load: int = 0


@dataclass(frozen=True, slots=True)
class Pick:
    case: Candidate
    # None when nobody may audit it (only the case's own worker is an auditor).
    auditor_id: int | None
    kind: AuditKind = AuditKind.COLLABORATIVE


@dataclass(frozen=True, slots=True)
class Plan:
    seed: str
    fingerprint: str
    picks: tuple[Pick, ...]
    # Teams with fewer candidates than asked for: team id → how many were short.
    short: dict[int, int]
    # Senior manager and team manager audits, from the cases the collaborative picks left.
    programme: tuple[Pick, ...] = ()
    # Programme audits that could not be made (no case left that the manager may audit).
    programme_short: dict[AuditKind, int] = field(default_factory=dict)


def new_seed() -> str:
    return str(secrets.randbelow(10**9))


def fingerprint(candidates: Iterable[Candidate]) -> str:
    """sha256 of the sorted candidate ids and refs: shows an inspector which list was drawn from."""
    lines = sorted(f"{c.case_id}:{c.case_ref}" for c in candidates)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def choose_cases(
    candidates: Sequence[Candidate], *, per_team: int, rng: random.Random
) -> list[Candidate]:
    """Up to `per_team` cases from each team, one per worker in turn before anyone gets a second."""
    by_team: dict[int, dict[int, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for case in sorted(candidates, key=_case_order):
        by_team[case.team_id][case.worker_id].append(case)
    chosen: list[Candidate] = []
    for team_id in sorted(by_team):
        workers = by_team[team_id]
        order = sorted(workers)
        rng.shuffle(order)
        queues = {w: rng.sample(workers[w], len(workers[w])) for w in sorted(workers)}
        picked: list[Candidate] = []
        while len(picked) < per_team and any(queues[w] for w in order):
            for worker in order:
                if queues[worker] and len(picked) < per_team:
                    picked.append(queues[worker].pop(0))
        chosen += picked
    return chosen


def assign_auditors(
    cases: Sequence[Candidate], auditors: Sequence[Auditor], *, rng: random.Random
) -> list[Pick]:
    """The least-loaded eligible auditor for each case in turn, ties broken by the seed."""
    load = {a.id: a.load for a in auditors}
    ordered = sorted(auditors, key=lambda a: a.id)
    picks = []
    for case in cases:
        pool = eligible(case, ordered)
        if not pool:
            picks.append(Pick(case, None))
            continue
        fewest = min(load[a.id] for a in pool)
        chosen = rng.choice([a for a in pool if load[a.id] == fewest])
        load[chosen.id] += 1
        picks.append(Pick(case, chosen.id))
    return picks


def eligible(case: Candidate, auditors: Sequence[Auditor]) -> list[Auditor]:
    """Who may audit `case`: never its worker; from another team when anyone from one can."""
    allowed = [a for a in auditors if a.id != case.worker_id]
    elsewhere = [a for a in allowed if a.team_id != case.team_id]
    return elsewhere or allowed


def team_manager_may_audit(manager: Manager, case: Candidate) -> bool:
    """A team manager never audits their own team's case, nor one they work themselves; a TM
    with no team may audit any case but their own."""
    return case.worker_id != manager.id and (
        manager.team_id is None or case.team_id != manager.team_id
    )


def senior_manager_may_audit(manager: Manager, case: Candidate) -> bool:
    return case.worker_id != manager.id


def assign_programmes(
    remaining: Sequence[Candidate],
    managers: Sequence[Manager],
    *,
    per_team_manager: int,
    senior_manager: int,
    rng: random.Random,
) -> tuple[list[Pick], dict[AuditKind, int]]:
    """`per_team_manager` cases at random for each team manager (the most constrained, so first),
    then `senior_manager` cases at random, each to the least-loaded senior manager who may take
    it; no case twice. Also how many of each could not be made."""
    left = sorted(remaining, key=_case_order)
    picks: list[Pick] = []
    short: dict[AuditKind, int] = defaultdict(int)
    tms = sorted((m for m in managers if m.kind is AuditKind.TEAM_MANAGER), key=lambda m: m.id)
    rng.shuffle(tms)
    for _ in range(per_team_manager):
        for tm in tms:
            allowed = [c for c in left if team_manager_may_audit(tm, c)]
            if not allowed:
                short[AuditKind.TEAM_MANAGER] += 1
                continue
            case = rng.choice(allowed)
            left.remove(case)
            picks.append(Pick(case, tm.id, AuditKind.TEAM_MANAGER))
    seniors = sorted(
        (m for m in managers if m.kind is AuditKind.SENIOR_MANAGER), key=lambda m: m.id
    )
    load = {m.id: m.load for m in seniors}
    for _ in range(senior_manager):
        if not seniors or not left:
            short[AuditKind.SENIOR_MANAGER] += 1
            continue
        case = rng.choice(left)
        pool = [m for m in seniors if senior_manager_may_audit(m, case)]
        left.remove(case)
        if not pool:
            short[AuditKind.SENIOR_MANAGER] += 1
            continue
        fewest = min(load[m.id] for m in pool)
        chosen = rng.choice([m for m in pool if load[m.id] == fewest])
        load[chosen.id] += 1
        picks.append(Pick(case, chosen.id, AuditKind.SENIOR_MANAGER))
    return picks, dict(short)


def plan(
    candidates: Sequence[Candidate],
    auditors: Sequence[Auditor],
    *,
    per_team: int,
    seed: str,
    managers: Sequence[Manager] = (),
    per_team_manager: int = 0,
    senior_manager: int = 0,
) -> Plan:
    """The whole month's plan from one seeded generator: the collaborative picks first (so a
    programme target never changes them), then the programme's from the cases left."""
    rng = random.Random(seed)
    cases = choose_cases(candidates, per_team=per_team, rng=rng)
    picks = assign_auditors(cases, auditors, rng=rng)
    teams: dict[int, int] = defaultdict(int)
    for case in candidates:
        teams[case.team_id] += 1
    short = {t: per_team - n for t, n in sorted(teams.items()) if n < per_team}
    taken = {c.case_id for c in cases}
    programme, programme_short = assign_programmes(
        [c for c in candidates if c.case_id not in taken],
        managers,
        per_team_manager=per_team_manager,
        senior_manager=senior_manager,
        rng=rng,
    )
    return Plan(
        seed=seed,
        fingerprint=fingerprint(candidates),
        picks=tuple(picks),
        short=short,
        programme=tuple(programme),
        programme_short=programme_short,
    )


def _case_order(case: Candidate) -> tuple[int, int, str, int]:
    return (case.team_id, case.worker_id, case.case_ref, case.case_id)


def parse_month(text: str) -> date | None:
    """The first day of "YYYY-MM"; None if it is not one."""
    try:
        first = datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        return None
    return first if len(text.strip()) == 7 else None


def last_working_day(month_first: date) -> date:
    """When the month's collaborative audits are due."""
    following = date(month_first.year + month_first.month // 12, month_first.month % 12 + 1, 1)
    day = following - timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def months_before(month_first: date, months: int) -> date:
    """The first of the month `months` before: audits since then rule a case out."""
    index = month_first.year * 12 + month_first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)

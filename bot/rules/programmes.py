"""The framework's audit programme: collaborative audits each month (cases at random), thematic
audits, senior manager audits (cases at random) and team manager audits (a target per TM per
month). The targets are tenant settings; progress is audits of the kind completed in the period
against the monthly target times the period's months (the TM programme's: each TM's target times
the TMs counted)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.rules.grades import AuditKind

PROGRAMMES = (
    AuditKind.COLLABORATIVE,
    AuditKind.THEMATIC,
    AuditKind.SENIOR_MANAGER,
    AuditKind.TEAM_MANAGER,
)
PROGRAMME_LABELS = {
    AuditKind.COLLABORATIVE: "Collaborative",
    AuditKind.THEMATIC: "Thematic",
    AuditKind.SENIOR_MANAGER: "Senior manager",
    AuditKind.TEAM_MANAGER: "Team manager",
}
# A monthly target above these is a typing slip, not a plan: the setting refuses it.
MAX_MONTHLY_TARGET = 500
MAX_PER_TEAM_MANAGER = 20


@dataclass(frozen=True, slots=True)
class Targets:
    """A tenant's monthly targets; 0: no target set. `team_manager` is each TM's."""

    collaborative: int = 0
    thematic: int = 0
    senior_manager: int = 0
    team_manager: int = 0

    def of(self, kind: AuditKind) -> int:
        return int(getattr(self, kind.value))


NO_TARGETS = Targets()


def target_of(kind: AuditKind, value: int) -> int | str:
    """`value` as `kind`'s monthly target, or why it cannot be one (a sentence to show)."""
    most = MAX_PER_TEAM_MANAGER if kind is AuditKind.TEAM_MANAGER else MAX_MONTHLY_TARGET
    if not 0 <= value <= most:
        return f"The target must be from 0 (none) to {most}, not {value}."
    return value


@dataclass(frozen=True, slots=True)
class ProgrammeCount:
    """Audits of a programme completed in the period. Counted by the case's team; a team manager
    audit by its auditor's team instead (None: a TM with no team), since a TM audits other
    teams' cases and the target is theirs."""

    kind: AuditKind
    team_id: int | None
    completed: int


@dataclass(frozen=True, slots=True)
class Progress:
    kind: AuditKind
    completed: int
    # 0: no target set.
    target: int
    # Not shown (bot.rules.disclosure): its figure is zero here, so nothing can print it.
    hidden: bool = False

    @property
    def label(self) -> str:
        return PROGRAMME_LABELS[self.kind]


def programme_progress(
    counts: Iterable[ProgrammeCount],
    targets: Targets,
    *,
    months: int,
    team_managers: Collection[int | None],
    team_ids: Collection[int] | None,
) -> list[Progress]:
    """Each programme's progress for a scope. The collaborative, thematic and senior manager
    targets are the council's, so their figures are the council's in every scope; the team
    manager figure is the TMs' in scope (`team_managers`: each TM's team), against each one's
    target. `team_ids` None: everyone, TMs without a team too."""
    rows = list(counts)

    def in_scope(team_id: int | None) -> bool:
        return team_ids is None or (team_id is not None and team_id in team_ids)

    result = []
    for kind in PROGRAMMES:
        if kind is AuditKind.TEAM_MANAGER:
            done = sum(r.completed for r in rows if r.kind is kind and in_scope(r.team_id))
            managers = sum(1 for team_id in team_managers if in_scope(team_id))
            target = targets.of(kind) * managers * months
        else:
            done = sum(r.completed for r in rows if r.kind is kind)
            target = targets.of(kind) * months
        result.append(Progress(kind, done, target))
    return result

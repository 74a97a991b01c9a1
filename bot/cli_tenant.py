"""`qaloop tenant deadlines|targets|closed-case-actions|reaudit`: a council's deadlines for the
response to risk or an inadequate audit (the action meeting and the child visit), in working or
calendar days; its audit programme's monthly targets; what a closed case does to its open actions;
how many months on an audit is re-audited, and whether requires improvement is too.

Registered in bot.cli with `app.add_typer(tenant_app, name="tenant")`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import TenantOption, err, load_settings, tenant_for
from bot.rules.deadlines import Deadline, Deadlines, deadline_of
from bot.rules.grades import AuditKind
from bot.rules.lifecycle import ClosedCaseActions, parse_closed_case_actions
from bot.rules.programmes import PROGRAMME_LABELS, PROGRAMMES, Targets, target_of
from bot.rules.reaudit import Policy, policy_problem

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

tenant_app = typer.Typer(no_args_is_help=True, help="A council's settings.")
console = Console()

UnitOption = Annotated[str, typer.Option(help="working or calendar.")]


@tenant_app.command("deadlines")
def tenant_deadlines(
    meeting: Annotated[
        int | None, typer.Option(help="Days to the action meeting after an inadequate audit.")
    ] = None,
    meeting_unit: UnitOption = "working",
    visit: Annotated[
        int | None, typer.Option(help="Days to the child visit after risk is identified.")
    ] = None,
    visit_unit: UnitOption = "working",
    tenant: TenantOption = None,
) -> None:
    """Show the deadlines, or set them: --meeting 3 --meeting-unit working --visit 1 --visit-unit
    working. They apply to audits completed from now on; audit-logged."""
    from storage import tenants
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)

    async def current(session: AsyncSession) -> Deadlines:
        return await tenants.deadlines(session=session, tenant_id=tenant_id)

    shown = asyncio.run(in_one_transaction(settings.database_url, current))
    if meeting is None and visit is None:
        _print(shown)
        return
    problems = []
    chosen: dict[str, Deadline] = {}
    for what, days, unit, was in (
        ("meeting", meeting, meeting_unit, shown.meeting),
        ("visit", visit, visit_unit, shown.visit),
    ):
        if days is None:
            chosen[what] = was
            continue
        found = deadline_of(days, unit.strip().lower())
        if isinstance(found, str):
            problems.append(f"{what}: {found}")
        else:
            chosen[what] = found
    if problems:
        err.print(f"[red]Nothing was changed:[/red] {escape(' '.join(problems))}")
        raise typer.Exit(2)
    wanted = Deadlines(meeting=chosen["meeting"], visit=chosen["visit"])

    async def store(session: AsyncSession) -> bool:
        return await tenants.set_deadlines(
            session, tenant_id=tenant_id, chosen=wanted, actor_id=None
        )

    if not asyncio.run(in_one_transaction(settings.database_url, store)):
        err.print(f"[red]No tenant {escape(tenant_id)}[/red]: import staff and cases first.")
        raise typer.Exit(1)
    console.print("Saved. Audits completed from now on use these deadlines.")
    _print(wanted)


def _print(deadlines: Deadlines) -> None:
    console.print(f"Action meeting after an inadequate audit: {deadlines.meeting.words}.")
    console.print(f"Child visit after risk is identified: {deadlines.visit.words}.")


TargetOption = Annotated[int | None, typer.Option(help="Audits a month; 0: no target.")]


@tenant_app.command("targets")
def tenant_targets(
    collaborative: TargetOption = None,
    thematic: TargetOption = None,
    senior_manager: TargetOption = None,
    team_manager: Annotated[
        int | None, typer.Option(help="Audits a month for each team manager; 0: no target.")
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Show the audit programme's monthly targets, or set them: --collaborative 20 --thematic 4
    --senior-manager 6 --team-manager 2 (each TM's). Audit-logged; `team` and the digest show
    progress against them."""
    from storage import tenants
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)

    async def current(session: AsyncSession) -> Targets:
        return await tenants.targets(session=session, tenant_id=tenant_id)

    shown = asyncio.run(in_one_transaction(settings.database_url, current))
    typed = {
        AuditKind.COLLABORATIVE: collaborative,
        AuditKind.THEMATIC: thematic,
        AuditKind.SENIOR_MANAGER: senior_manager,
        AuditKind.TEAM_MANAGER: team_manager,
    }
    if all(value is None for value in typed.values()):
        _print_targets(shown)
        return
    problems = []
    chosen = {kind.value: shown.of(kind) for kind in PROGRAMMES}
    for kind, value in typed.items():
        if value is None:
            continue
        found = target_of(kind, value)
        if isinstance(found, str):
            problems.append(f"{kind.value.replace('_', '-')}: {found}")
        else:
            chosen[kind.value] = found
    if problems:
        err.print(f"[red]Nothing was changed:[/red] {escape(' '.join(problems))}")
        raise typer.Exit(2)
    wanted = Targets(**chosen)

    async def store(session: AsyncSession) -> bool:
        return await tenants.set_targets(session, tenant_id=tenant_id, chosen=wanted, actor_id=None)

    if not asyncio.run(in_one_transaction(settings.database_url, store)):
        err.print(f"[red]No tenant {escape(tenant_id)}[/red]: import staff and cases first.")
        raise typer.Exit(1)
    console.print("Saved.")
    _print_targets(wanted)


def _print_targets(targets: Targets) -> None:
    for kind in PROGRAMMES:
        value = targets.of(kind)
        each = " for each team manager" if kind is AuditKind.TEAM_MANAGER else ""
        said = f"{value} a month{each}" if value else "no target"
        console.print(f"{PROGRAMME_LABELS[kind]} audits: {said}.")


CLOSED_CASE_WORDS: dict[str, str] = {
    ClosedCaseActions.KEEP.value: "stay open with their owners",
    ClosedCaseActions.CLOSE.value: "are cancelled, with the reason (an action meeting or child visit stays)",
}


@tenant_app.command("closed-case-actions")
def tenant_closed_case_actions(
    setting: Annotated[str | None, typer.Argument(help="keep or close.")] = None,
    tenant: TenantOption = None,
) -> None:
    """Show or set what happens to the open actions of a case that closes or moves out: keep
    (they stay with their owners) or close (cancelled with the reason). Audit-logged."""
    from storage import tenants
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)
    chosen: ClosedCaseActions | None = None
    if setting is not None:
        try:
            chosen = parse_closed_case_actions(setting)
        except ValueError:
            err.print(
                f"[red]Nothing was changed:[/red] the setting must be keep or close, not "
                f"{escape(repr(setting))}."
            )
            raise typer.Exit(2) from None

    async def apply(session: AsyncSession) -> str | None:
        if chosen is None:
            return await tenants.closed_case_actions(session=session, tenant_id=tenant_id)
        stored = await tenants.set_closed_case_actions(
            session, tenant_id=tenant_id, chosen=chosen, actor_id=None
        )
        return chosen.value if stored else None

    now = asyncio.run(in_one_transaction(settings.database_url, apply))
    if now is None:
        err.print(f"[red]No tenant {escape(tenant_id)}[/red]: import staff and cases first.")
        raise typer.Exit(1)
    if chosen is not None:
        console.print("Saved.")
    console.print(f"When a case closes, its open actions {CLOSED_CASE_WORDS.get(now, now)}.")


@tenant_app.command("reaudit")
def tenant_reaudit(
    months: Annotated[
        int | None, typer.Option(help="Months after an inadequate audit that it is re-audited.")
    ] = None,
    requires_improvement: Annotated[
        bool | None,
        typer.Option(
            "--requires-improvement/--inadequate-only",
            help="Re-audit audits graded requires improvement too.",
        ),
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Show the re-audit setting, or set it: --months 3 --inadequate-only. It applies to audits
    completed from now on; audit-logged."""
    from storage import reaudit
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)

    async def current(session: AsyncSession) -> Policy:
        return await reaudit.policy(session=session, tenant_id=tenant_id)

    shown = asyncio.run(in_one_transaction(settings.database_url, current))
    if months is None and requires_improvement is None:
        _print_reaudit(shown)
        return
    if months is not None and (problem := policy_problem(months)):
        err.print(f"[red]Nothing was changed:[/red] {escape(problem)}")
        raise typer.Exit(2)
    wanted = Policy(
        months=shown.months if months is None else months,
        requires_improvement=(
            shown.requires_improvement if requires_improvement is None else requires_improvement
        ),
    )

    async def store(session: AsyncSession) -> bool:
        return await reaudit.set_policy(session, tenant_id=tenant_id, chosen=wanted, actor_id=None)

    if not asyncio.run(in_one_transaction(settings.database_url, store)):
        err.print(f"[red]No tenant {escape(tenant_id)}[/red]: import staff and cases first.")
        raise typer.Exit(1)
    console.print("Saved. Audits completed from now on use this setting.")
    _print_reaudit(wanted)


def _print_reaudit(policy: Policy) -> None:
    graded = "inadequate or requires improvement" if policy.requires_improvement else "inadequate"
    console.print(f"An audit graded {graded} is re-audited {policy.months} months on.")

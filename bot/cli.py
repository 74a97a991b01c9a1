"""The qaloop command line (Settings() is constructed in bot.cli_common, for every command)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli_common import TenantOption, err, load_settings, schema_current, tenant_for
from bot.settings import LOOPBACK_HOSTS, Settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.roster import TeamOutcome
    from bot.services.lifecycle import Moves
    from jobs.runs import Outcome

from bot.cli_briefings import briefing_app
from bot.cli_export import export_app, person_app, purge
from bot.cli_outbox import outbox_app
from bot.cli_reports import report_app
from bot.cli_templates import template_app
from bot.cli_tenant import tenant_app

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="QA Loop: audits and learning in Teams."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
import_app = typer.Typer(no_args_is_help=True, help="All-or-nothing CSV imports.")
manifest_app = typer.Typer(no_args_is_help=True, help="The Teams app package.")
audit_app = typer.Typer(no_args_is_help=True, help="Single audits made by the QA team.")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(manifest_app, name="manifest")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")
app.add_typer(briefing_app, name="briefing")
app.add_typer(outbox_app, name="outbox")
app.add_typer(tenant_app, name="tenant")
app.add_typer(export_app, name="export")
app.add_typer(person_app, name="person")
app.add_typer(template_app, name="template")
app.command("purge")(purge)

console = Console()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to the latest schema."""
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    console.print("Database schema is up to date.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3978,
) -> None:
    """Run the bot and its scheduler."""
    settings = load_settings()
    _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    from aiohttp import web

    from bot.app import create_app

    if not settings.has_credentials and host not in LOOPBACK_HOSTS:
        err.print(
            "[red]Refusing to listen on "
            f"{host}[/red] without Microsoft app credentials. Set QALOOP_APP_ID, "
            "QALOOP_APP_PASSWORD and QALOOP_APP_TENANT_ID, or serve on 127.0.0.1."
        )
        raise typer.Exit(2)
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if settings.has_credentials:
        console.print(
            f"QA Loop is listening on http://{host}:{port}/api/messages (app {settings.APP_ID})."
        )
    else:
        console.print(
            f"QA Loop is listening on http://{host}:{port}/api/messages without credentials: "
            "loopback only, for the Microsoft 365 Agents Playground."
        )
    web.run_app(create_app(settings), host=host, port=port, print=None, access_log=None)


def _deliveries(n: int) -> str:
    from cards.common import counted

    return counted(n, "delivery", "deliveries")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )


def _run_import(
    kind: str,
    file: Path,
    tenant: str | None,
    *,
    full: bool = False,
    leavers: int | None = None,
) -> None:
    from bot.features import CATALOGUE
    from bot.services import lifecycle
    from storage import imports
    from storage.db import make_engine, make_sessions
    from storage.migrate import upgrade

    settings = load_settings()
    tenant_id = tenant or settings.APP_TENANTID
    if not tenant_id:
        err.print("[red]Which tenant?[/red] Pass --tenant or set QALOOP_APP_TENANT_ID.")
        raise typer.Exit(2)
    if not file.is_file():
        err.print(f"[red]No such file:[/red] {file}")
        raise typer.Exit(2)
    upgrade(settings.database_url)
    now = datetime.now(UTC)
    ctx = lifecycle.Context(
        tenant_id, now.astimezone(settings.zone).date(), now, CATALOGUE.redraws(settings)
    )
    moves = lifecycle.Moves()

    async def cases_changed(session: AsyncSession, changes: list[imports.CaseChange]) -> None:
        await lifecycle.cases_changed(session, ctx, changes, moves)

    async def staff_left(session: AsyncSession, leaver_ids: list[int]) -> None:
        await lifecycle.staff_left(session, ctx, leaver_ids, moves)

    async def go() -> imports.ImportResult:
        engine = make_engine(settings.database_url)
        try:
            with _progress() as progress:
                task = progress.add_task(f"Importing {kind}", total=None)

                def tick(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                sessions = make_sessions(engine)
                if kind == "staff":
                    return await imports.import_staff(
                        sessions=sessions,
                        tenant_id=tenant_id,
                        path=file,
                        timezone=settings.timezone,
                        progress=tick,
                        full=full,
                        confirmed_leavers=leavers,
                        on_left=staff_left,
                    )
                return await imports.import_cases(
                    sessions=sessions,
                    tenant_id=tenant_id,
                    path=file,
                    progress=tick,
                    case_ref_pattern=settings.case_ref_pattern,
                    on_changed=cases_changed,
                )
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(go())
    except imports.ImportFailed as failed:
        table = Table(title=f"{file.name}: nothing was imported", title_style="red")
        for column in ("line", "column", "problem"):
            table.add_column(column)
        for problem in failed.errors:
            table.add_row(str(problem.line), problem.column, problem.reason)
        err.print(table)
        raise typer.Exit(1) from failed
    console.print(
        f"Imported {kind}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged" + (f", {result.left} left." if kind == "staff" else ".")
    )
    _print_moves(moves)


def _print_moves(moves: Moves) -> None:
    from cards.common import counted

    parts = [
        (moves.audits_cancelled, "audit cancelled", "audits cancelled"),
        (moves.actions_closed, "action closed", "actions closed"),
        (
            moves.actions_kept,
            "action of a closed case kept open",
            "actions of closed cases kept open",
        ),
        (moves.actions_moved, "action moved to a new owner", "actions moved to new owners"),
        (
            moves.audits_returned,
            "audit back with QA to reallocate",
            "audits back with QA to reallocate",
        ),
        (
            moves.practitioners_changed,
            "audit with a new practitioner",
            "audits with a new practitioner",
        ),
    ]
    done = [counted(n, one, many) for n, one, many in parts if n]
    if done:
        console.print("Then: " + "; ".join(done) + ". Cards are queued for the running bot.")
    for name in moves.without_manager:
        console.print(
            f"[yellow]{escape(name)} had no manager:[/yellow] the QA team has their actions to pass on."
        )


@import_app.command("staff")
def import_staff(
    file: Path,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id (default: QALOOP_APP_TENANT_ID).")
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="The file is the whole staff list: anyone not in it has left."),
    ] = False,
    leavers: Annotated[
        int | None,
        typer.Option(
            "--leavers",
            min=0,
            help="With --full: how many the file leaves out, to confirm a large number is meant.",
        ),
    ] = None,
) -> None:
    """Import staff: email,display_name,roles,team,service,manager_email,working_days,aad_object_id,
    status (active or left). Leavers' actions go to their manager to pass on, their audits to QA.
    A --full list that leaves out more than a tenth of active staff (and more than 3) is refused
    until --leavers confirms the number."""
    _run_import("staff", file, tenant, full=full, leavers=leavers)


@import_app.command("cases")
def import_cases(
    file: Path,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id (default: QALOOP_APP_TENANT_ID).")
    ] = None,
) -> None:
    """Import cases: case_ref,team,worker_email,status (open, closed or transferred),opened_on
    (no names, ever). A closed case's audits are cancelled; a new worker gets its open items."""
    _run_import("cases", file, tenant)


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo data only.")] = False,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3978,
) -> None:
    """Build a demo council (dated relative to today) and serve it for the Agents Playground.

    Today's runs already due (the 09:00 reminders, say) are set aside rather than caught up as
    the bot starts: in the playground each person's card comes with their first message, and
    `qaloop run-job` still sends everyone's.
    """
    from bot.features import CATALOGUE
    from jobs.scheduler import set_aside_catch_up
    from storage.db import make_engine, make_sessions
    from storage.demo import DEMO_TENANT_ID, build_demo
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)

    async def go() -> tuple[object, list[str]]:
        engine = make_engine(settings.database_url)
        sessions = make_sessions(engine)
        try:
            now = datetime.now(UTC)
            summary = await build_demo(
                sessions=sessions, today=now.astimezone(settings.zone).date()
            )
            set_aside = await set_aside_catch_up(
                CATALOGUE.jobs.values(),
                sessions=sessions,
                settings=settings,
                now=now,
                tenant_id=DEMO_TENANT_ID,
            )
            return summary, set_aside
        finally:
            await engine.dispose()

    with console.status("Building the demo council…"):
        summary, set_aside = asyncio.run(go())
    console.print(f"Demo council ready in {settings.database_url}: {summary}")
    if set_aside:
        console.print(
            f"Set aside for today, not caught up as the bot starts: {', '.join(set_aside)}. "
            "Each person's daily card comes with their first message in the playground; "
            "`qaloop run-job reminders` sends everyone's now (add --dry-run to read them)."
        )
    if not no_serve:
        _serve(settings, "127.0.0.1", port)


# The features' jobs, named here so `run-job --help` lists them without importing every feature
# at start-up; tests/test_scheduler.py keeps this equal to the features' jobs.
JOB_NAMES = (
    "briefing",
    "delivery_alert",
    "housekeeping",
    "moderation_sample",
    "monthly_digest",
    "quarterly_report",
    "reminders",
    "retention",
    "step_guide",
)


@app.command("run-job")
def run_job(
    name: Annotated[str, typer.Argument(help=f"The job: {', '.join(JOB_NAMES)}.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Run as on this date (YYYY-MM-DD), at the job's time.", metavar="DATE"
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Send nothing; print each delivery as one JSON line."),
    ] = False,
    for_new_recipients: Annotated[
        bool,
        typer.Option(
            "--for-new-recipients",
            help="If it has run already, send it now to those it missed (people who have opened "
            "QA Loop since); nobody gets it twice.",
        ),
    ] = False,
) -> None:
    """Run one scheduled job now, once per tenant and period, as the scheduler would."""
    from bot.features import CATALOGUE
    from jobs.runs import run_job as run_for_tenants
    from storage.db import make_engine, make_sessions

    jobs = CATALOGUE.jobs
    job = jobs.get(name)
    if job is None:
        err.print(f"No job called “{escape(name)}”. The jobs are: {', '.join(sorted(jobs))}.")
        raise typer.Exit(2)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        err.print(f"--as-of wants a date as YYYY-MM-DD, not “{escape(as_of or '')}”.")
        raise typer.Exit(2) from exc
    settings = load_settings()
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    now = (
        datetime.combine(day, job.at(settings), tzinfo=settings.zone)
        if day is not None
        else datetime.now(UTC)
    )

    async def go() -> list[Outcome]:
        engine = make_engine(settings.database_url)
        try:
            return await run_for_tenants(
                job,
                sessions=make_sessions(engine),
                settings=settings,
                now=now,
                dry_run=dry_run,
                complete=for_new_recipients,
            )
        finally:
            await engine.dispose()

    outcomes = asyncio.run(go())
    if not outcomes:
        err.print("No tenants yet: there is nobody to run it for.")
        return
    if dry_run:
        planned = [p for outcome in outcomes for p in outcome.planned]
        for delivery in planned:
            print(delivery.dry_run_line())
        err.print(f"Dry run of {name}: {_deliveries(len(planned))}; nothing was queued or sent.")
        return
    failed = False
    for outcome in outcomes:
        where = f"{name} for {outcome.period} (tenant {outcome.tenant_id})"
        if outcome.state == "ran":
            console.print(
                f"{where}: {outcome.queued} of {_deliveries(len(outcome.planned))} queued. "
                "The running bot sends them, or the next `qaloop serve` will."
            )
        elif outcome.state == "completed":
            console.print(
                f"{where} had already run; {_deliveries(outcome.queued)} more queued for people "
                "it missed."
            )
        elif outcome.state == "taken":
            console.print(
                f"{where} has already run; nothing to do. To send it to people who have opened "
                f"QA Loop since, run `qaloop run-job {name} --for-new-recipients`."
            )
        else:
            err.print(f"[red]{where} failed[/red]; the log above says where.")
            failed = True
    if failed:
        raise typer.Exit(1)


@app.command("sync-roster")
def sync_roster(
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's teams (default: every tenant).")
    ] = None,
) -> None:
    """Open a 1:1 chat with every member of the bot's teams who has none, so reminders reach them."""
    import aiohttp

    from bot.app import build_adapter
    from bot.roster import sync_stored_teams
    from cards.common import counted
    from storage.db import make_engine, make_sessions

    settings = load_settings()
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def go() -> list[TeamOutcome]:
        engine = make_engine(settings.database_url)
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
                adapter, _, _ = build_adapter(settings, http)
                return await sync_stored_teams(
                    adapter=adapter,
                    sessions=make_sessions(engine),
                    app_id=settings.APP_ID,
                    tenant_id=tenant,
                )
        finally:
            await engine.dispose()

    with console.status("Reading team rosters…"):
        outcomes = asyncio.run(go())
    if not outcomes:
        console.print("The bot is not in any team yet: install it in a team first.")
        return
    for outcome in outcomes:
        where = f"Team channel {escape(outcome.conversation_id)} (tenant {outcome.tenant_id})"
        done = outcome.result
        if done is None:
            err.print(f"[red]{where}: failed[/red] ({escape(outcome.error or 'see the log')}).")
            continue
        console.print(
            f"{where}: {counted(done.members, 'member')}, {done.staff} on the staff roster "
            f"({done.bound} newly matched); {counted(done.created, 'chat')} opened, "
            f"{done.had_chat} already had one, {done.failed} could not be opened."
        )
    if any(o.result is None for o in outcomes):
        raise typer.Exit(1)


@app.command()
def allocate(
    month: Annotated[
        str | None, typer.Option(help="The month to allocate, as YYYY-MM.", metavar="YYYY-MM")
    ] = None,
    per_team: Annotated[int, typer.Option(help="Cases to pick from each team.", min=1)] = 3,
    seed: Annotated[
        str | None, typer.Option(help="The random seed (default: a new one, printed).")
    ] = None,
    exclude_months: Annotated[
        int, typer.Option(help="Leave out cases audited within this many months.", min=0)
    ] = 12,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and the seed; change nothing.")
    ] = False,
    reassign: Annotated[
        int | None,
        typer.Option(
            help="Give this audit (by id) to another auditor instead.", metavar="AUDIT_ID"
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(help="With --reassign: the new auditor's email (default: least loaded)."),
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Pick the month's collaborative audits at random, reproducibly, and assign auditors."""
    if reassign is not None:
        _reassign(reassign, to, tenant)
        return
    from bot.rules.allocation import new_seed, parse_month

    first = parse_month(month) if month else None
    if first is None:
        err.print("Which month? Pass --month as YYYY-MM, for example --month 2026-12.")
        raise typer.Exit(2)
    chosen_seed = seed.strip() if seed and seed.strip() else new_seed()
    if len(chosen_seed) > 64:
        err.print("A seed is up to 64 characters.")
        raise typer.Exit(2)
    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)
    _allocate(settings, tenant_id, first, per_team, chosen_seed, exclude_months, dry_run)


def _allocate(
    settings: Settings,
    tenant_id: str,
    first: date,
    per_team: int,
    seed: str,
    exclude_months: int,
    dry_run: bool,
) -> None:
    from bot.services import allocation
    from cards.common import counted
    from storage import allocation as store
    from storage import staff
    from storage.db import in_one_transaction
    from storage.models import Allocation

    now = datetime.now(UTC)
    today = now.astimezone(settings.zone).date()
    month = f"{first:%Y-%m}"

    async def go(
        session: AsyncSession,
    ) -> tuple[allocation.MonthPlan | None, Allocation | None, int]:
        if not await staff.tenant_exists(session=session, tenant_id=tenant_id):
            return None, None, 0
        earlier = await store.existing(session=session, tenant_id=tenant_id, month=month)
        if earlier is not None and not dry_run:
            return None, earlier, 0
        plan = await allocation.plan_month(
            session,
            tenant_id=tenant_id,
            month=first,
            per_team=per_team,
            seed=seed,
            exclude_months=exclude_months,
            ignore_allocation=earlier.id if earlier else None,
        )
        if dry_run:
            return plan, earlier, 0
        made = await allocation.allocate(
            session,
            tenant_id=tenant_id,
            month_plan=plan,
            per_team=per_team,
            exclude_months=exclude_months,
            actor_id=None,
            today=today,
            now=now,
        )
        return plan, None, len(made)

    with console.status(f"Drawing the cases for {month}…"):
        plan, earlier, made = asyncio.run(in_one_transaction(settings.database_url, go))
    if plan is None and earlier is None:
        err.print(f"[red]No tenant {escape(tenant_id)}[/red]: import staff and cases first.")
        raise typer.Exit(1)
    if plan is None:
        assert earlier is not None
        err.print(
            f"[red]{month} is already allocated[/red] (on {earlier.created_at:%d %b %Y}, "
            f"seed {escape(earlier.seed)}). To see that choice again: "
            f"qaloop allocate --month {month} --seed {escape(earlier.seed)} "
            f"--per-team {earlier.per_team} --exclude-months {earlier.excluded_months} --dry-run"
        )
        raise typer.Exit(1)
    table = Table(
        title=f"{month}: {counted(len(plan.lines), 'case')} from {counted(plan.candidates, 'candidate')}"
    )
    for column in ("case", "kind", "team", "worker", "auditor", "due"):
        table.add_column(column)
    for line in plan.lines:
        table.add_row(
            escape(line.case_ref),
            line.kind.value.replace("_", " "),
            escape(line.team),
            escape(line.worker),
            escape(line.auditor) if line.auditor else "[red]nobody can audit it[/red]",
            line.due_on.isoformat(),
        )
    console.print(table)
    for team_name, missing in plan.short.items():
        console.print(
            f"[yellow]{escape(team_name)}[/yellow] had {counted(missing, 'fewer candidate')} than asked."
        )
    for kind, missing in plan.plan.programme_short.items():
        console.print(
            f"[yellow]{counted(missing, kind.value.replace('_', ' ') + ' audit')}[/yellow] could "
            "not be made: no case left that a manager may audit."
        )
    if plan.away:
        console.print(
            f"Away until {plan.due_on:%d %b} or later, so given none: "
            + ", ".join(escape(name) for name in plan.away)
        )
    console.print(f"Seed: {escape(plan.plan.seed)}")
    console.print(f"Candidate fingerprint: {plan.plan.fingerprint}")
    if dry_run:
        if earlier is not None:
            same = earlier.candidate_fingerprint == plan.plan.fingerprint
            console.print(
                f"{month} was allocated with seed {escape(earlier.seed)}; the candidates "
                + ("are unchanged since." if same else "have changed since.")
            )
        console.print("Dry run: nothing was stored or sent.")
        return
    console.print(
        f"Allocated {counted(made, 'audit')} for {month}. The assigned cards are queued: the running bot "
        "sends them, or the next `qaloop serve` will."
    )


def _reassign(audit_id: int, to: str | None, tenant: str | None) -> None:
    from bot.features import CATALOGUE
    from bot.rules.grades import UNFINISHED_AUDIT_STATES
    from bot.services import allocation
    from storage import allocation as store
    from storage import audits
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)
    now = datetime.now(UTC)
    today = now.astimezone(settings.zone).date()

    async def go(session: AsyncSession) -> str | tuple[str, int]:
        audit = await audits.audit_for_update(
            session=session, tenant_id=tenant_id, audit_id=audit_id
        )
        if audit is None:
            return f"No audit #{audit_id} in this tenant."
        if audit.state not in UNFINISHED_AUDIT_STATES:
            return f"Audit #{audit_id} is {audit.state}: there is nothing to reassign."
        choices = await allocation.reassign_choices(session, audit)
        if to is not None:
            person = await store.staff_by_email(session=session, tenant_id=tenant_id, email=to)
            chosen = next((c for c in choices if person and c.id == person.id), None)
            if chosen is None:
                return (
                    f"{to} can't take audit #{audit_id}: not an active auditor, its "
                    "practitioner, or already its auditor."
                )
        elif choices:
            chosen = choices[0]
        else:
            return f"There is no other auditor who could take audit #{audit_id}."
        await allocation.reassign(
            session,
            tenant_id=tenant_id,
            audit=audit,
            auditor_id=chosen.id,
            actor_id=None,
            today=today,
            now=now,
            rebuilders=CATALOGUE.redraws(settings),
        )
        return chosen.name, chosen.load

    outcome = asyncio.run(in_one_transaction(settings.database_url, go))
    if isinstance(outcome, str):
        err.print(f"[red]{escape(outcome)}[/red]")
        raise typer.Exit(1)
    name, load = outcome
    console.print(
        f"Audit #{audit_id} reassigned to {escape(name)} (who had {load} open). "
        "Their card is queued: the running bot sends it."
    )


@audit_app.command("new")
def audit_new(
    case: Annotated[str, typer.Option("--case", help="The case reference (never a name).")],
    kind: Annotated[
        str,
        typer.Option(help="thematic, multi_agency, senior_manager, team_manager or collaborative."),
    ],
    auditor: Annotated[str, typer.Option(help="The auditor's email.")],
    due: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD: a future working day.")],
    theme: Annotated[str, typer.Option(help="The theme (needed for a thematic audit).")] = "",
    tenant: TenantOption = None,
) -> None:
    """Create one audit of any kind and send the auditor the assigned card."""
    from bot.services import allocation
    from cards.audit_assigned import AuditForm
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)
    now = datetime.now(UTC)
    today = now.astimezone(settings.zone).date()
    form = AuditForm(case_ref=case, kind=kind, theme=theme, auditor=auditor, due_on=due)

    async def go(session: AsyncSession) -> str | tuple[int, list[str]]:
        checked = await allocation.check_new_audit(
            session,
            tenant_id=tenant_id,
            form=form,
            today=today,
            case_ref_pattern=settings.case_ref_pattern,
        )
        if isinstance(checked, str):
            return checked
        made, told = await allocation.create_audit(
            session, tenant_id=tenant_id, new=checked, actor_id=None, today=today, now=now
        )
        assert made.id is not None
        return made.id, told

    outcome = asyncio.run(in_one_transaction(settings.database_url, go))
    if isinstance(outcome, str):
        err.print(f"[red]Nothing was created:[/red] {escape(outcome)}")
        raise typer.Exit(1)
    audit_id, told = outcome
    who = ", ".join(told) if told else "nobody yet (they have no chat with the bot)"
    console.print(f"Audit #{audit_id} created. Cards queued for {escape(who)}.")


@audit_app.command("cancel")
def audit_cancel(
    audit_id: Annotated[int, typer.Argument(help="The audit's number, as on its cards.")],
    reason: Annotated[
        str, typer.Option(help="Why it will not be done, e.g. 'case closed' (no names).")
    ],
    tenant: TenantOption = None,
) -> None:
    """Cancel an audit that will not be done; the cards posted about it say so."""
    from bot.features import CATALOGUE
    from bot.rules.grades import UNFINISHED_AUDIT_STATES, AuditState
    from bot.services import allocation
    from storage import audits
    from storage.db import in_one_transaction

    why = reason.strip()
    if not why or len(why) > 2000:
        err.print("[red]Nothing was cancelled:[/red] give a reason of up to 2,000 characters.")
        raise typer.Exit(2)
    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)
    now = datetime.now(UTC)
    today = now.astimezone(settings.zone).date()

    async def go(session: AsyncSession) -> str | None:
        audit = await audits.audit_for_update(
            session=session, tenant_id=tenant_id, audit_id=audit_id
        )
        if audit is None:
            return f"No audit #{audit_id} in this tenant."
        if audit.state not in UNFINISHED_AUDIT_STATES:
            done = audit.state != AuditState.CANCELLED
            return f"Audit #{audit_id} is {'completed' if done else 'already cancelled'}."
        if not await allocation.cancel(
            session,
            tenant_id=tenant_id,
            audit=audit,
            actor_id=None,
            reason=why,
            today=today,
            now=now,
            rebuilders=CATALOGUE.redraws(settings),
        ):
            return f"Audit #{audit_id} changed while cancelling it; nothing was done. Try again."
        return None

    problem = asyncio.run(in_one_transaction(settings.database_url, go))
    if problem is not None:
        err.print(f"[red]Nothing was cancelled:[/red] {escape(problem)}")
        raise typer.Exit(1)
    console.print(
        f"Audit #{audit_id} cancelled. The cards posted about it are being updated by the running bot."
    )


@manifest_app.command("build")
def manifest_build(
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="The bot's Microsoft app id (a GUID).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path("qaloop.zip"),
) -> None:
    """Build the Teams app package to upload in Teams or the admin centre."""
    from bot.features import CATALOGUE
    from bot.manifest import build_package

    chosen = app_id or load_settings().APP_ID
    if not chosen:
        err.print("[red]Which app?[/red] Pass --app-id or set QALOOP_APP_ID.")
        raise typer.Exit(2)
    try:
        path = build_package(app_id=chosen, out=out, commands=CATALOGUE.commands)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Wrote {path}. Upload it in Teams: Apps → Manage your apps → Upload an app.")


def main() -> None:
    app()

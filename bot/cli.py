"""The qaloop command line; the only place Settings() is constructed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.settings import LOOPBACK_HOSTS, Settings

if TYPE_CHECKING:
    from bot.roster import TeamOutcome
    from jobs.runs import Outcome

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="QA Loop: audits and learning in Teams."
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
import_app = typer.Typer(no_args_is_help=True, help="All-or-nothing CSV imports.")
manifest_app = typer.Typer(no_args_is_help=True, help="The Teams app package.")
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(manifest_app, name="manifest")

console = Console()
err = Console(stderr=True)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            err.print(f"[red]Configuration problem[/red] ({where}): {problem['msg']}")
        raise typer.Exit(2) from exc


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations up to the latest schema."""
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    console.print("Database schema is up to date.")


def _schema_current(url: str) -> bool:
    from storage.db import make_engine
    from storage.migrate import schema_is_current

    async def check() -> bool:
        engine = make_engine(url)
        try:
            return await schema_is_current(engine)
        finally:
            await engine.dispose()

    return asyncio.run(check())


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
    if not _schema_current(settings.database_url):
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


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )


def _run_import(kind: str, file: Path, tenant: str | None) -> None:
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
                        sessions=sessions, tenant_id=tenant_id, path=file, progress=tick
                    )
                return await imports.import_cases(
                    sessions=sessions,
                    tenant_id=tenant_id,
                    path=file,
                    progress=tick,
                    case_ref_pattern=settings.case_ref_pattern,
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
        f"{result.unchanged} unchanged."
    )


@import_app.command("staff")
def import_staff(
    file: Path,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id (default: QALOOP_APP_TENANT_ID).")
    ] = None,
) -> None:
    """Import staff: email,display_name,roles,team,service,manager_email,working_days,aad_object_id."""
    _run_import("staff", file, tenant)


@import_app.command("cases")
def import_cases(
    file: Path,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant id (default: QALOOP_APP_TENANT_ID).")
    ] = None,
) -> None:
    """Import cases: case_ref,team,worker_email,status,opened_on (no names, ever)."""
    _run_import("cases", file, tenant)


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo data only.")] = False,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 3978,
) -> None:
    """Build a demo council (dated relative to today) and serve it for the Agents Playground."""
    from storage.db import make_engine, make_sessions
    from storage.demo import build_demo
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)

    async def go() -> object:
        engine = make_engine(settings.database_url)
        try:
            return await build_demo(sessions=make_sessions(engine), today=date.today())
        finally:
            await engine.dispose()

    with console.status("Building the demo council…"):
        summary = asyncio.run(go())
    console.print(f"Demo council ready in {settings.database_url}: {summary}")
    if not no_serve:
        _serve(settings, "127.0.0.1", port)


@app.command("run-job")
def run_job(
    name: Annotated[str, typer.Argument(help="The job: reminders or housekeeping.")],
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
) -> None:
    """Run one scheduled job now, once per tenant and period, as the scheduler would."""
    from jobs.runs import run_job as run_for_tenants
    from jobs.scheduler import JOBS
    from storage.db import make_engine, make_sessions

    job = JOBS.get(name)
    if job is None:
        err.print(f"No job called “{escape(name)}”. The jobs are: {', '.join(sorted(JOBS))}.")
        raise typer.Exit(2)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        err.print(f"--as-of wants a date as YYYY-MM-DD, not “{escape(as_of or '')}”.")
        raise typer.Exit(2) from exc
    settings = load_settings()
    if not _schema_current(settings.database_url):
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
                job, sessions=make_sessions(engine), settings=settings, now=now, dry_run=dry_run
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
        err.print(f"Dry run of {name}: {len(planned)} deliveries; nothing was queued or sent.")
        return
    failed = False
    for outcome in outcomes:
        where = f"{name} for {outcome.period} (tenant {outcome.tenant_id})"
        if outcome.state == "ran":
            console.print(
                f"{where}: {outcome.queued} of {len(outcome.planned)} deliveries queued. "
                "The running bot sends them, or the next `qaloop serve` will."
            )
        elif outcome.state == "taken":
            console.print(f"{where} has already run; nothing to do.")
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
    from storage.db import make_engine, make_sessions

    settings = load_settings()
    if not _schema_current(settings.database_url):
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
            f"{where}: {done.members} members, {done.staff} on the staff roster "
            f"({done.bound} newly matched); {done.created} chats opened, "
            f"{done.had_chat} already had one, {done.failed} could not be opened."
        )
    if any(o.result is None for o in outcomes):
        raise typer.Exit(1)


@manifest_app.command("build")
def manifest_build(
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="The bot's Microsoft app id (a GUID).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the zip.")] = Path("qaloop.zip"),
) -> None:
    """Build the Teams app package to upload in Teams or the admin centre."""
    from bot.commands import COMMANDS
    from bot.manifest import build_package

    chosen = app_id or load_settings().APP_ID
    if not chosen:
        err.print("[red]Which app?[/red] Pass --app-id or set QALOOP_APP_ID.")
        raise typer.Exit(2)
    try:
        path = build_package(app_id=chosen, out=out, commands=COMMANDS)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Wrote {path}. Upload it in Teams: Apps → Manage your apps → Upload an app.")


def main() -> None:
    app()

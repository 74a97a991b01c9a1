"""Answerable to the QA team and to the law: `qaloop export` (the QA tracker as files), `qaloop
person export` (what is held about a member of staff) and `qaloop purge` (the retention policy).

bot.cli mounts `export_app` as `export`, `person_app` as `person`, and `purge` as a command.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli_common import TenantOption, err, load_settings, tenant_for
from bot.services.exports import COLUMNS, KINDS, Format, Kind

if TYPE_CHECKING:
    from bot.services.exports import Exported
    from bot.services.retention import Purged
    from bot.settings import Settings

export_app = typer.Typer(
    no_args_is_help=True,
    help="The QA tracker as files: one row per record (columns: README, Command line).",
)
person_app = typer.Typer(no_args_is_help=True, help="What is held about a member of staff.")
console = Console()

SinceOption = Annotated[
    str | None,
    typer.Option(help="Only records changed on or after this day (YYYY-MM-DD).", metavar="DATE"),
]
FormatOption = Annotated[str, typer.Option("--format", help="csv (the default) or xlsx.")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Write to this file (CSV default: standard output)."),
]


def _export_command(kind: Kind) -> Callable[..., None]:
    def command(
        since: SinceOption = None,
        fmt: FormatOption = "csv",
        out: OutOption = None,
        tenant: TenantOption = None,
    ) -> None:
        _export(kind, since, fmt, out, tenant)

    names = ", ".join(c.name for c in COLUMNS[kind])
    command.__doc__ = f"Every {kind} record, one a row. Columns: {names}."
    return command


for _kind in KINDS:
    export_app.command(_kind)(_export_command(_kind))


def _export(
    kind: Kind, since_text: str | None, fmt: str, out: Path | None, tenant: str | None
) -> None:
    from bot.services import exports
    from storage.db import make_engine, make_sessions

    if fmt not in ("csv", "xlsx"):
        err.print(f"--format is csv or xlsx, not “{escape(fmt)}”.")
        raise typer.Exit(2)
    chosen: Format = "xlsx" if fmt == "xlsx" else "csv"
    if chosen == "xlsx" and out is None:
        err.print("An Excel workbook needs a file: add --out tracker.xlsx.")
        raise typer.Exit(2)
    since = _day(since_text, "--since")
    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)

    async def go() -> Exported:
        engine = make_engine(settings.database_url)
        try:
            sessions = make_sessions(engine)
            async with sessions() as session:
                total = None
                if err.is_terminal:
                    total = await exports.count(
                        kind, session=session, tenant_id=tenant_id, since=since, zone=settings.zone
                    )
            # A session of its own: on PostgreSQL the rows come from a server-side cursor, which
            # lives in this one transaction.
            async with sessions() as session, session.begin():
                with _bar(kind, total) as advance:
                    return await exports.export(
                        kind,
                        session=session,
                        tenant_id=tenant_id,
                        zone=settings.zone,
                        fmt=chosen,
                        out=out if out is not None else sys.stdout,
                        since=since,
                        progress=advance,
                    )
        finally:
            await engine.dispose()

    done = asyncio.run(go())
    where = "standard output" if out is None else escape(str(out))
    changed = f" changed since {since.isoformat()}" if since else ""
    err.print(f"Wrote {done.rows} {kind} record(s){changed} ({chosen}) to {where}.")


class _bar:
    """A progress bar on a terminal (to standard error, so the CSV on standard output is clean);
    nothing otherwise."""

    def __init__(self, kind: str, total: int | None) -> None:
        self.progress: Progress | None = None
        if total is not None:
            self.progress = Progress(
                TextColumn(f"Exporting {kind}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
            )
            self.task = self.progress.add_task(kind, total=total)

    def __enter__(self) -> Callable[[int], None] | None:
        if self.progress is None:
            return None
        self.progress.start()
        progress, task = self.progress, self.task
        return lambda n: progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


@person_app.command("export")
def person_export(
    email: Annotated[str, typer.Argument(help="The member of staff's email.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (default: standard output).")
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Every record held about one member of staff, as JSON (UK GDPR subject access)."""
    from bot.services.subject_access import held_about
    from storage.db import make_engine, make_sessions

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)

    async def go() -> dict[str, object] | None:
        engine = make_engine(settings.database_url)
        try:
            return await held_about(
                sessions=make_sessions(engine),
                tenant_id=tenant_id,
                email=email,
                now=datetime.now(UTC),
            )
        finally:
            await engine.dispose()

    document = asyncio.run(go())
    if document is None:
        err.print(f"Nobody in this tenant has the email {escape(email)}.")
        raise typer.Exit(1)
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    counts = document["counts"]
    assert isinstance(counts, dict)
    err.print(
        f"Wrote {sum(counts.values())} record(s) from {len(counts)} table(s) about "
        f"{escape(email)} to {escape(str(out))}. The request is in the audit log."
    )


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; remove nothing.")
    ] = False,
    tenant: TenantOption = None,
) -> None:
    """Apply the retention policy now (the monthly `retention` job does the same)."""
    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)
    done = asyncio.run(_purge(settings, tenant_id, dry_run))
    verb = "Would remove" if dry_run else "Removed"
    zone = settings.zone
    console.print(f"{verb} (retention policy; README, Retention):")
    for name, count in done.counts.items():
        console.print(f"  {name.replace('_', ' ')}: {count}")
    cut = done.cutoffs
    console.print(
        f"Cut-offs: delivered before {_local(cut.delivered, zone)}, leavers' chats last used "
        f"before {_local(cut.leaver_reference, zone)}, free text before "
        f"{_local(cut.free_text, zone)}, closed audits before {_local(cut.closed_audit, zone)}."
    )
    console.print(
        f"Monthly and quarterly figures from {done.figures_kept_from:%B %Y} on are unchanged."
    )
    if not dry_run:
        console.print("The counts are in the audit log (retention.purge).")


async def _purge(settings: Settings, tenant_id: str, dry_run: bool) -> Purged:
    from bot.services.retention import purge as apply
    from storage.db import make_engine, make_sessions

    engine = make_engine(settings.database_url)
    try:
        return await apply(
            sessions=make_sessions(engine),
            tenant_id=tenant_id,
            policy=settings.retention,
            now=datetime.now(UTC),
            dry_run=dry_run,
        )
    finally:
        await engine.dispose()


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d %b %Y")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        err.print(f"{option} wants a day as YYYY-MM-DD, not “{escape(text)}”.")
        raise typer.Exit(2) from exc

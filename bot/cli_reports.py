"""`qaloop report monthly|quarterly --period P --format md|csv|html [--out FILE]`: the digest's
figures as a file (a Typer sub-app that bot.cli mounts as `report`)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import load_settings, schema_current
from bot.rules.digest import Digest, Period, parse_period
from bot.services.reports import Format, load_digest, render

report_app = typer.Typer(no_args_is_help=True, help="The digest's figures as a file.")
err = Console(stderr=True)

PeriodOption = Annotated[
    str, typer.Option("--period", help="2026-10 for a month, 2026-Q3 for a quarter.")
]
FormatOption = Annotated[
    str, typer.Option("--format", help="md (to read), csv (for Excel) or html (with charts).")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file (default: standard output).")
]
TenantOption = Annotated[
    str | None,
    typer.Option(help="Tenant id (default: QALOOP_APP_TENANT_ID, or the only tenant)."),
]


@report_app.command("monthly")
def monthly(
    period: PeriodOption,
    fmt: FormatOption = "md",
    out: OutOption = None,
    tenant: TenantOption = None,
) -> None:
    """One month's figures, e.g. --period 2026-10."""
    _report("month", period, fmt, out, tenant)


@report_app.command("quarterly")
def quarterly(
    period: PeriodOption,
    fmt: FormatOption = "md",
    out: OutOption = None,
    tenant: TenantOption = None,
) -> None:
    """One quarter's figures, e.g. --period 2026-Q3."""
    _report("quarter", period, fmt, out, tenant)


def _report(
    kind: Literal["month", "quarter"], text: str, fmt: str, out: Path | None, tenant: str | None
) -> None:

    chosen = parse_period(text, kind)
    if chosen is None:
        example = "2026-10" if kind == "month" else "2026-Q3"
        err.print(f"--period wants a {kind} such as {example}, not “{escape(text)}”.")
        raise typer.Exit(2)
    if fmt not in ("md", "csv", "html"):
        err.print(f"--format is md, csv or html, not “{escape(fmt)}”.")
        raise typer.Exit(2)
    settings = load_settings()
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    if chosen.start > now.astimezone(settings.zone).date():
        err.print(f"{chosen.label} has not started yet.")
        raise typer.Exit(2)
    figures = asyncio.run(
        _load(
            settings.database_url,
            tenant or settings.APP_TENANTID,
            chosen,
            now,
            settings.zone,
            settings.suppress_below,
        )
    )
    if figures is None:
        err.print("[red]Which tenant?[/red] Pass --tenant or set QALOOP_APP_TENANT_ID.")
        raise typer.Exit(2)
    text_out = render(figures, _format(fmt), made_on=now.astimezone(settings.zone).date())
    if out is None:
        sys.stdout.write(text_out)
        return
    # newline="": the csv module already wrote CRLF, as Excel expects.
    out.write_text(text_out, encoding="utf-8", newline="")
    err.print(f"Wrote {chosen.label} ({fmt}) to {escape(str(out))}.")


def _format(fmt: str) -> Format:
    return "csv" if fmt == "csv" else "html" if fmt == "html" else "md"


async def _load(
    url: str, tenant_id: str | None, period: Period, now: datetime, zone: ZoneInfo, below: int
) -> Digest | None:
    from storage import job_runs
    from storage.db import make_engine, make_sessions

    engine = make_engine(url)
    try:
        sessions = make_sessions(engine)
        if not tenant_id:
            async with sessions() as session:
                tenants = await job_runs.tenant_ids(session=session)
            if len(tenants) != 1:
                return None
            tenant_id = tenants[0]
        return await load_digest(
            sessions=sessions, tenant_id=tenant_id, period=period, zone=zone, now=now, below=below
        )
    finally:
        await engine.dispose()

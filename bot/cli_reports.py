"""`qaloop report monthly|quarterly --period P --format md|csv|html [--out FILE]`: the digest's
figures as a file; `report evidence --from DATE --to DATE` and `report annual --year YYYY`: the
evidence pack as one HTML page (a Typer sub-app that bot.cli mounts as `report`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli_common import load_settings, schema_current
from bot.rules.deadlines import Deadlines
from bot.rules.digest import Digest, Period, parse_period, span, year
from bot.rules.evidence import Evidence
from bot.services import evidence
from bot.services.reports import Format, load_digest, render
from storage.db import SessionMaker

report_app = typer.Typer(
    no_args_is_help=True, help="The digest's figures, or the evidence pack, as a file."
)
T = TypeVar("T")
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
    async def load(sessions: SessionMaker, tenant: str) -> Digest:
        return await load_digest(
            sessions=sessions, tenant_id=tenant, period=period, zone=zone, now=now, below=below
        )

    return await _for_tenant(url, tenant_id, load)


async def _for_tenant(
    url: str, tenant_id: str | None, load: Callable[[SessionMaker, str], Awaitable[T]]
) -> T | None:
    """`load` for the tenant given, or the only one there is; None if it is not clear which."""
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
        return await load(sessions, tenant_id)
    finally:
        await engine.dispose()


# --- the evidence pack ------------------------------------------------------------------------------

FromOption = Annotated[
    str, typer.Option("--from", help="The first day, e.g. 2026-04-01 (council's local time).")
]
ToOption = Annotated[
    str, typer.Option("--to", help="The last day, e.g. 2027-03-31; not after today.")
]
HtmlOutOption = Annotated[
    Path | None,
    typer.Option("--out", help="Write the HTML page to this file (default: standard output)."),
]


@report_app.command("evidence")
def evidence_pack(
    start: FromOption,
    end: ToOption,
    out: HtmlOutOption = None,
    tenant: TenantOption = None,
) -> None:
    """The evidence pack for an inspection: one self-contained HTML page by the three ILACS
    questions, e.g. --from 2026-04-01 --to 2027-03-31."""
    first, last = _day("--from", start), _day("--to", end)
    if last < first:
        err.print("--to is before --from.")
        raise typer.Exit(2)
    _write_pack(span(first, last), evidence.EVIDENCE_TITLE, out, tenant)


@report_app.command("annual")
def annual_report(
    year_number: Annotated[int, typer.Option("--year", help="The calendar year, e.g. 2026.")],
    out: HtmlOutOption = None,
    tenant: TenantOption = None,
) -> None:
    """The annual QA report: the evidence pack over a calendar year, e.g. --year 2026."""
    if not 2000 <= year_number <= 2100:
        err.print(f"--year wants a year such as 2026, not {year_number}.")
        raise typer.Exit(2)
    _write_pack(year(year_number), evidence.ANNUAL_TITLE, out, tenant)


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        err.print(f"{option} wants a date such as 2026-04-01, not “{escape(text)}”.")
        raise typer.Exit(2) from None


def _write_pack(period: Period, title: str, out: Path | None, tenant: str | None) -> None:
    settings = load_settings()
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    today = now.astimezone(settings.zone).date()
    if period.start > today:
        err.print(f"{period.label} has not started yet.")
        raise typer.Exit(2)
    if period.kind == "range" and period.end > today:
        err.print(f"--to can't be after today ({today.isoformat()}).")
        raise typer.Exit(2)

    async def load(sessions: SessionMaker, tenant_id: str) -> tuple[Evidence, Deadlines]:
        return await evidence.load_evidence(
            sessions=sessions,
            tenant_id=tenant_id,
            period=period,
            zone=settings.zone,
            now=now,
            below=settings.suppress_below,
        )

    found = asyncio.run(_for_tenant(settings.database_url, tenant or settings.APP_TENANTID, load))
    if found is None:
        err.print("[red]Which tenant?[/red] Pass --tenant or set QALOOP_APP_TENANT_ID.")
        raise typer.Exit(2)
    pack, deadlines = found
    page = evidence.to_html(pack, made_on=today, title=title, deadlines=deadlines)
    if out is None:
        sys.stdout.write(page)
        return
    out.write_text(page, encoding="utf-8")
    err.print(f"Wrote {title} for {period.label} to {escape(str(out))}.")

"""`qaloop template check FILE` and `qaloop template compare KEY`: audit templates (a Typer sub-app
that bot.cli mounts as `template`)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli_common import TenantOption, err, load_settings, tenant_for
from bot.rules.templates import Mix, Template, mixes, quarter_label
from bot.services.guide import GuideFileError
from bot.services.templates import read_template, templates_for

template_app = typer.Typer(
    no_args_is_help=True, help="Audit templates: check one, compare answers."
)
out = Console()


@template_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="The template file (Markdown).")]) -> None:
    """Check a template file; every problem is listed with its line number."""
    try:
        template = read_template(file)
    except GuideFileError as exc:
        err.print(f"[red]{escape(file.name)} cannot be used:[/red]")
        for problem in exc.problems:
            err.print(f"  line {problem.line}: {escape(problem.message)}")
        raise typer.Exit(1) from exc
    theme = f", theme {template.theme}" if template.theme else ""
    out.print(
        f"{escape(file.name)} is fine: “{escape(template.title)}” ({template.key}, version "
        f"{template.version}, for {template.kind} audits{escape(theme)}), "
        f"{len(template.questions)} questions on {template.pages} card pages."
    )


@template_app.command("compare")
def compare_answers(
    key: Annotated[str, typer.Argument(help="The template's key, e.g. mash.")],
    tenant: TenantOption = None,
) -> None:
    """Each question's answers in completed audits, quarter by quarter, with the change."""
    settings = load_settings()
    template = next((t for t in templates_for(settings) if t.key == key), None)
    if template is None:
        known = ", ".join(t.key for t in templates_for(settings)) or "none"
        err.print(f"No template “{escape(key)}”. Templates: {known}.")
        raise typer.Exit(2)
    tenant_id = tenant_for(settings, tenant)
    rows = asyncio.run(_rows(settings.database_url, tenant_id, template.key, settings.zone))
    if not rows:
        out.print(f"No completed audit has answered “{escape(template.title)}” yet.")
        return
    out.print(_table(template, mixes(rows)))


def _table(template: Template, by_question: dict[str, list[Mix]]) -> Table:
    periods = sorted({m.period for ms in by_question.values() for m in ms})
    table = Table(title=f"{template.title}: answers of completed audits by quarter")
    table.add_column("Question")
    for period in periods:
        table.add_column(quarter_label(period))
    table.add_column("Change")
    for question in template.questions:
        found = {m.period: m for m in by_question.get(question.key, [])}
        cells: list[str] = []
        rates: list[float] = []
        for period in periods:
            mix = found.get(period)
            if mix is None:
                cells.append("—")
                continue
            words, rate = mix.headline(question)
            cells.append(words if rate is None else f"{words} ({rate:.0%})")
            if rate is not None:
                rates.append(rate)
        change = f"{(rates[-1] - rates[-2]) * 100:+.0f} points" if len(rates) >= 2 else ""
        table.add_row(escape(question.text), *cells, change)
    return table


async def _rows(url: str, tenant_id: str, key: str, zone: ZoneInfo) -> list[tuple[str, date, str]]:
    from storage import templates as store
    from storage.db import make_engine, make_sessions

    engine = make_engine(url)
    try:
        async with make_sessions(engine)() as session:
            return await store.completed_answers(
                session=session, tenant_id=tenant_id, template=key, zone=zone
            )
    finally:
        await engine.dispose()

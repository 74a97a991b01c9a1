"""`qaloop briefing import FILE.md`: a Best Practice Briefing from a markdown file.

Registered in bot.cli with `app.add_typer(briefing_app, name="briefing")`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.cli_common import TenantOption, load_settings, schema_current

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.services.briefings import Imported

briefing_app = typer.Typer(no_args_is_help=True, help="Best Practice Briefings.")
console = Console()
err = Console(stderr=True)

FILE_FORMAT = """\
# The title
The five-minute read: one or more paragraphs.

## Key messages
- One key message per bullet (up to 7)

Link: https://… (optional)"""


@briefing_app.command("import")
def import_briefing(
    file: Path,
    author: Annotated[
        str, typer.Option(help="The QA author's email; their preview goes to their chat.")
    ],
    tenant: TenantOption = None,
    ready: Annotated[
        bool,
        typer.Option("--ready", help="Schedule it for the next monthly post straight away."),
    ] = False,
) -> None:
    """Import a briefing from FILE.md ("# Title", the read, "## Key messages" bullets, "Link:")."""
    from bot.rules.briefing import BriefingFileError
    from bot.services import briefings
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant or settings.APP_TENANTID
    if not tenant_id:
        err.print("[red]Which tenant?[/red] Pass --tenant or set QALOOP_APP_TENANT_ID.")
        raise typer.Exit(2)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        err.print(f"[red]No such file:[/red] {file}")
        raise typer.Exit(2) from exc
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]Cannot read {file}[/red]: it must be a UTF-8 text file.")
        raise typer.Exit(2) from exc
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    now = datetime.now(UTC)

    async def go(session: AsyncSession) -> Imported:
        return await briefings.import_briefing(
            session,
            tenant_id=tenant_id,
            text=text,
            author_email=author,
            ready=ready,
            now=now,
            today=now.astimezone(settings.zone).date(),
        )

    try:
        imported = asyncio.run(in_one_transaction(settings.database_url, go))
    except BriefingFileError as failed:
        table = Table(title=f"{file.name}: nothing was imported", title_style="red")
        table.add_column("line")
        table.add_column("problem")
        for problem in failed.problems:
            table.add_row(str(problem.line) if problem.line else "-", problem.message)
        err.print(table)
        err.print(f"A briefing file looks like this:\n{FILE_FORMAT}", markup=False)
        raise typer.Exit(1) from failed
    state = "scheduled for the next monthly post" if imported.state == "ready" else "a draft"
    console.print(
        f"Imported briefing #{imported.briefing_id} “{imported.title}” as {state}.", markup=False
    )
    if imported.preview_sent:
        console.print(
            f"Its preview, with Publish now and Edit, is on its way to {author}.", markup=False
        )
    else:
        console.print(
            f"{author} has no chat with QA Loop yet: they can type briefing and press "
            "Preview the newest draft.",
            markup=False,
        )

"""`qaloop outbox status` and `qaloop outbox retry`: what the sender has done, and sending again
what it gave up on once the cause is put right (wrong credentials, an outage, a blocked app).

Registered in bot.cli with `app.add_typer(outbox_app, name="outbox")`. Prints no card and no
preview text: only kinds, people's names, counts and Teams' answers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli_common import TenantOption, err, load_settings, tenant_for

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.outbox import OutboxStatus, Requeued

outbox_app = typer.Typer(no_args_is_help=True, help="The outbox of proactive messages.")
console = Console()

STATES = ("pending", "retry", "sending", "sent", "failed")


@outbox_app.command("status")
def outbox_status(
    failures: Annotated[int, typer.Option(help="How many of the latest failures to list.")] = 10,
    tenant: TenantOption = None,
) -> None:
    """Messages by state, those that may have arrived twice, and the latest given up on."""
    from storage import outbox
    from storage.db import in_one_transaction

    settings = load_settings()
    tenant_id = tenant_for(settings, tenant)

    async def go(session: AsyncSession) -> OutboxStatus:
        return await outbox.status(session=session, tenant_id=tenant_id, failures=failures)

    seen = asyncio.run(in_one_transaction(settings.database_url, go))
    counts = ", ".join(f"{seen.by_state.get(state, 0)} {state}" for state in STATES)
    console.print(f"Outbox: {counts}; {seen.ambiguous} ambiguous (may have arrived twice).")
    if seen.oldest_waiting is not None:
        waited = datetime.now(UTC) - seen.oldest_waiting
        console.print(f"The oldest waiting was queued {_ago(waited.total_seconds())} ago.")
    if not seen.failures:
        console.print("Nothing has been given up on.")
        return
    zone = settings.zone
    table = Table(title="Given up on, newest first")
    for column in ("id", "queued", "kind", "to", "tries", "Teams said"):
        table.add_column(column)
    for f in seen.failures:
        table.add_row(
            str(f.id),
            f.created_at.astimezone(zone).strftime("%d %b %H:%M"),
            f.kind,
            escape(f.recipient or "a channel"),
            str(f.attempts),
            escape(f.last_error or (f"HTTP {f.last_status}" if f.last_status else "")),
        )
    console.print(table)
    console.print(
        "Once the cause is put right: qaloop outbox retry ID … or --failed-since YYYY-MM-DD."
    )


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Delivery ids, as status lists them.")
    ] = None,
    failed_since: Annotated[
        str | None,
        typer.Option(help="Every delivery given up on that was queued on or after this day."),
    ] = None,
    tenant: TenantOption = None,
) -> None:
    """Send again what the outbox gave up on; never what may have arrived already."""
    from storage import outbox
    from storage.db import in_one_transaction

    if bool(ids) == (failed_since is not None):
        err.print(
            "[red]Which ones?[/red] Give delivery ids or --failed-since YYYY-MM-DD, not both."
        )
        raise typer.Exit(2)
    settings = load_settings()
    since = None
    if failed_since is not None:
        try:
            day = date.fromisoformat(failed_since)
        except ValueError as exc:
            err.print(f"[red]Not a date:[/red] {escape(failed_since)}. Use YYYY-MM-DD.")
            raise typer.Exit(2) from exc
        since = datetime.combine(day, time(), tzinfo=settings.zone)
    tenant_id = tenant_for(settings, tenant)
    now = datetime.now(UTC)

    async def go(session: AsyncSession) -> Requeued:
        return await outbox.requeue_failed(
            session=session, tenant_id=tenant_id, ids=ids or (), failed_since=since, now=now
        )

    done = asyncio.run(in_one_transaction(settings.database_url, go))
    if done.ids:
        listed = ", ".join(f"#{i}" for i in done.ids)
        console.print(f"Queued again: {listed}. A running bot sends them shortly.")
    else:
        console.print("Nothing was queued again.")
    for delivery_id, why in done.refused:
        console.print(f"#{delivery_id} not queued: {escape(why)}.")
    if done.refused and not done.ids:
        raise typer.Exit(1)


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    return f"{seconds / 3600:.1f} h"

"""What every `qaloop` command group shares: loading the settings, checking the schema and
choosing the tenant. Settings() is constructed here and nowhere else."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.settings import Settings

err = Console(stderr=True)

TenantOption = Annotated[
    str | None, typer.Option(help="Tenant id (default: QALOOP_APP_TENANT_ID).")
]


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            err.print(f"[red]Configuration problem[/red] ({where}): {problem['msg']}")
        raise typer.Exit(2) from exc


def schema_current(url: str) -> bool:
    from storage.db import make_engine
    from storage.migrate import schema_is_current

    async def check() -> bool:
        engine = make_engine(url)
        try:
            return await schema_is_current(engine)
        finally:
            await engine.dispose()

    return asyncio.run(check())


def tenant_for(settings: Settings, tenant: str | None) -> str:
    """The tenant a command acts for, once the schema is known to be current; else exit 2."""
    tenant_id = tenant or settings.APP_TENANTID
    if not tenant_id:
        err.print("[red]Which tenant?[/red] Pass --tenant or set QALOOP_APP_TENANT_ID.")
        raise typer.Exit(2)
    if not schema_current(settings.database_url):
        err.print("[red]The database schema is not current.[/red] Run `qaloop db upgrade` first.")
        raise typer.Exit(2)
    return tenant_id

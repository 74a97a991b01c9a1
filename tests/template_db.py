"""A migrated database per test, fast: migrate once per module, then copy (SQLite) or truncate
(PostgreSQL) for each test. Import `migrated` and `sessions` into a test module to use it."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from storage.db import SessionMaker, make_engine, make_sessions
from storage.migrate import upgrade

PG_ENV = "QALOOP_TEST_POSTGRES_URL"


PG_ENV = "QALOOP_TEST_POSTGRES_URL"

# --- a migrated database per test: SQLite, and PostgreSQL when a server is given -----------------


async def _on_server(base_url: str, statement: str) -> None:
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(
                not os.environ.get(PG_ENV),
                reason=f"set {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)",
            ),
        ),
    ],
)
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated SQLite file to copy, or a PostgreSQL database created for this module."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("db") / "migrated.db"
        upgrade(f"sqlite+aiosqlite:///{template}")
        yield str(template)
        return
    base = os.environ[PG_ENV]
    name = f"qaloop_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_on_server(base, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        asyncio.run(_on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def sessions(migrated: str, tmp_path: Path) -> AsyncIterator[SessionMaker]:
    """An empty, migrated database for one test."""
    if migrated.startswith("postgresql"):
        engine = make_engine(migrated)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        database = tmp_path / "qaloop.db"
        shutil.copyfile(migrated, database)
        engine = make_engine(f"sqlite+aiosqlite:///{database}")
    yield make_sessions(engine)
    await engine.dispose()

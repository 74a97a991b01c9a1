"""Fixtures: a fresh migrated database per test (SQLite, and PostgreSQL when a URL is given),
the real aiohttp app on a real port, and a fake Bot Connector."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import create_app
from bot.settings import Settings
from storage.db import SessionMaker, make_engine, make_sessions
from storage.migrate import upgrade
from tests.chat import Chat
from tests.fake_connector import FakeConnector

PG_ENV = "QALOOP_TEST_POSTGRES_URL"


def _backends() -> list[object]:
    return [
        "sqlite",
        pytest.param(
            "postgres",
            marks=pytest.mark.skipif(
                not os.environ.get(PG_ENV),
                reason=f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1/postgres)",
            ),
        ),
    ]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _pg_database(base_url: str) -> tuple[str, str]:
    name = f"qaloop_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False), name


async def _drop_pg_database(base_url: str, name: str) -> None:
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated, empty database (Alembic runs its own event loop, so off this one)."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'qaloop.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    base = os.environ[PG_ENV]
    url, name = await _pg_database(base)
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await _drop_pg_database(base, name)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionMaker]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    await engine.dispose()


@pytest.fixture
def payloads() -> Iterator[Path]:
    yield Path(__file__).parent / "payloads"


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
async def chat(settings: Settings, connector: FakeConnector) -> AsyncIterator[Chat]:
    """The real app on a real port, with no credentials (as under the Agents Playground)."""
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Chat(str(server.make_url("/")), connector, http)
    await server.close()

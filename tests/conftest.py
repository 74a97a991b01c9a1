"""The one set of fixtures: a fresh migrated database per test (SQLite, and PostgreSQL when a URL
is given), the real aiohttp app on a real port with a fake Bot Connector, and the people who talk
to it. A module that needs another setup says so with a marker, not a fixture of its own:
`pytestmark = pytest.mark.clock(NOW)` runs the app on a clock a test can move;
`pytest.mark.connector.with_args(RosterConnector)` puts another fake Bot Connector behind it."""

from __future__ import annotations

import asyncio
import os
import shutil
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
from tests.chat import ALEX, MEGAN, PATTI, Chat, Persona
from tests.fake_connector import FakeConnector
from tests.helpers import Clock

PG_ENV = "QALOOP_TEST_POSTGRES_URL"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "clock(now): the app's clock starts at `now` (the `clock` fixture moves it)"
    )
    config.addinivalue_line(
        "markers", "connector(cls): the fake Bot Connector's class (a FakeConnector)"
    )


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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (Alembic takes ~0.2 s a time)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """One migrated PostgreSQL database per run, the template each test's database is made from."""
    base = os.environ[PG_ENV]
    name = f"qaloop_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(_on_server(base, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(make_url(base).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        asyncio.run(_on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _on_server(base_url: str, statement: str) -> None:
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


@pytest.fixture
def template(backend: str, request: pytest.FixtureRequest) -> Path | str:
    """The backend's migrated template, made on first use (outside any event loop: Alembic runs
    its own)."""
    return request.getfixturevalue("sqlite_template" if backend == "sqlite" else "pg_template")  # type: ignore[no-any-return]


@pytest.fixture
async def database_url(backend: str, template: Path | str, tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated, empty database of its own for each test."""
    if isinstance(template, Path):
        path = tmp_path / "qaloop.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    base = os.environ[PG_ENV]
    name = f"qaloop_test_{uuid.uuid4().hex[:12]}"
    await _on_server(base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        await _on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionMaker]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    await engine.dispose()


@pytest.fixture
def payloads() -> Iterator[Path]:
    yield Path(__file__).parent / "payloads"


@pytest.fixture
async def connector(request: pytest.FixtureRequest) -> AsyncIterator[FakeConnector]:
    marker = request.node.get_closest_marker("connector")
    fake: FakeConnector = (marker.args[0] if marker else FakeConnector)()
    await fake.start()
    yield fake
    await fake.stop()
    # Every card the test saw: an input the client can refuse says why (tests.card_rules).
    assert fake.card_problems == [], sorted(set(fake.card_problems))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Clock:
    """The real time, or the time the module's `clock` marker gives."""
    marker = request.node.get_closest_marker("clock")
    return Clock(marker.args[0] if marker else None)


@pytest.fixture
async def chat(settings: Settings, connector: FakeConnector, clock: Clock) -> AsyncIterator[Chat]:
    """The real app on a real port, with no credentials (as under the Agents Playground)."""
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Chat(str(server.make_url("/")), connector, http)
    await server.close()


# The people of the test councils (tests/helpers.py), ready to talk: `await alex.says("help")`.


@pytest.fixture
def alex(chat: Chat) -> Persona:
    return chat.person(ALEX)


@pytest.fixture
def megan(chat: Chat) -> Persona:
    return chat.person(MEGAN)


@pytest.fixture
def patti(chat: Chat) -> Persona:
    return chat.person(PATTI)

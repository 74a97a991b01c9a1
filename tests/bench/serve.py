"""One benchmark server per process: `python -m tests.bench.serve KIND [--db URL]`.

KIND is `qaloop` (bot.app.create_app), `echo` (same SDK set-up), `echodb` (that echo touching the
database as little as a turn can), `stock` (SDK default) or
`connector` (tests.fake_connector.FakeConnector; `--teams-limits` and `--chaos JSON` make it
enforce Teams' per-conversation limits and inject faults). It listens on 127.0.0.1 on a free
port, prints `READY <port>` on stdout, then answers one-line commands on stdin:
  `stats` -> one JSON line (process CPU seconds; for the connector, what reached it so far and,
  with limits or chaos, tests.fake_connector.summary of every request).
It stops when stdin closes, or by itself after --max-seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import sys
import time
from typing import Any

from aiohttp import web


async def _stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _reply(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


async def _control(stats: Any, max_seconds: float) -> None:
    reader = await _stdin_lines()
    async with asyncio.timeout(max_seconds):
        while line := await reader.readline():
            if line.strip() == b"stats":
                _reply({"cpu_s": time.process_time(), **stats()})


async def run_connector(max_seconds: float, teams_limits: bool, chaos: str | None) -> None:
    from tests.fake_connector import TEAMS_LIMITS, Chaos, FakeConnector, summary

    fake = FakeConnector(
        checks_cards=False,
        limits=TEAMS_LIMITS if teams_limits else None,
        chaos=Chaos(**json.loads(chaos)) if chaos else None,
    )
    await fake.start()
    seen: collections.Counter[str] = collections.Counter()
    total = 0

    def fold() -> None:
        # Count and drop what arrived, so memory stays flat over thousands of cards.
        nonlocal total
        for sent in fake.sent:
            body = sent.body
            seen[body.get("summary") or (body.get("text") or "(no summary or text)")[:40]] += 1
        total += len(fake.sent)
        fake.sent.clear()

    async def folding() -> None:
        while True:
            await asyncio.sleep(0.5)
            fold()

    def stats() -> dict[str, Any]:
        fold()
        figures = summary(fake.requests) if teams_limits or chaos else {}
        return {"received": total, "seen": dict(seen), **figures}

    task = asyncio.create_task(folding())
    _reply({"ready": True, "url": fake.service_url})
    try:
        await _control(stats, max_seconds)
    finally:
        task.cancel()
        await fake.stop()


async def run_bot(kind: str, db: str, max_seconds: float, profile: str | None = None) -> None:
    from bot.settings import Settings

    if kind == "qaloop":
        from bot.app import create_app
        from tests.bench.seed import NOW

        settings = Settings(_env_file=None, database_url=db)  # type: ignore[call-arg]
        app = create_app(settings, clock=lambda: NOW)
    elif kind == "echo":
        from tests.bench.echo_bot import echo_app

        app = echo_app(Settings(_env_file=None, database_url=db))  # type: ignore[call-arg]
    elif kind == "echodb":
        from tests.bench.echo_bot import echo_app

        settings = Settings(_env_file=None, database_url=db)  # type: ignore[call-arg]
        app = echo_app(settings, with_database=True)
    elif kind == "stock":
        from tests.bench.echo_bot import stock_echo_app

        app = stock_echo_app()
    else:
        raise SystemExit(f"unknown kind {kind!r}")

    # As `qaloop serve` runs it: web.run_app's defaults, no access log.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    _reply({"ready": True, "url": f"http://127.0.0.1:{port}/api/messages"})
    try:
        await _control(dict, max_seconds)
    finally:
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["qaloop", "echo", "echodb", "stock", "connector"])
    parser.add_argument("--db", default="sqlite+aiosqlite:///:memory:")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--teams-limits", action="store_true")
    parser.add_argument("--chaos", help="tests.fake_connector.Chaos arguments as JSON")
    parser.add_argument("--profile", help="a bot: write cProfile statistics to this file")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.kind == "connector":
        # The fake Teams is harness, not bot: keep its per-request logging off the shared CPUs.
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        if args.kind == "connector":
            asyncio.run(run_connector(args.max_seconds, args.teams_limits, args.chaos))
        else:
            asyncio.run(run_bot(args.kind, args.db, args.max_seconds, args.profile))
    except TimeoutError:
        logging.getLogger(__name__).warning("stopping after --max-seconds")


if __name__ == "__main__":
    main()

"""DESIGN §11, first budget: `my actions` for a person with 50 open actions in a DB of
5k staff / 50k audits / 150k actions.

  .venv/bin/python -m tests.bench.bench_my_actions [--small] [--postgres SERVER_URL]

1. In-process: a session, commands.show_my_actions and the card's JSON, 300 times after warm-up;
   p95 must be ≤ 50 ms.
2. HTTP (issue 15): the real app (bot.app.create_app, no credentials) in its own process, the fake
   connector in another, and a light aiohttp load generator here with N keep-alive clients posting,
   for a fixed time, (a) Teams personal-chat "my actions" messages (unique ids) and (b) Mark done
   pressed on `my actions` (adaptiveCard/action invokes, each on an action of the client's own not
   yet done, so each writes; tests.bench.turns). The same is done against the fixed echo bot (the
   same SDK set-up, bot.app.build_adapter, answering invokes too) in alternating rounds; QA Loop
   must reach ≥ 0.5 × its throughput with p95 ≤ 2 × its p95, for each turn. Two more are measured
   for information: that echo bot touching the database as little as a turn can (`echodb`: a
   message reads the sender's row, a press claims its id in a transaction), the floor of a turn
   with a database; and a stock SDK echo bot (DESIGN §13). p50/p95/p99 and CPU per request are printed.
   With --postgres, the seeded data is copied into a fresh database on that server (dropped
   after) and QA Loop and `echodb` run on it: the production store, for information.

Exits 1 if a budget is missed or a reply is wrong, 2 if the harness itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

from bot.features import CATALOGUE
from bot.features.actions.commands import show_my_actions
from bot.settings import Settings
from bot.turn import Request
from cards.common import card_json
from storage import staff as staff_store
from storage.db import make_engine, make_sessions
from tests.bench.seed import (
    TARGET_OPEN,
    TODAY,
    Seeded,
    Target,
    copy_into,
    postgres_database,
    seeded_database,
)
from tests.bench.turns import invoke_templates, next_invoke
from tests.chat import payload

ROOT = Path(__file__).resolve().parents[2]
P95_BUDGET_MS = 50.0
# Issue 15: at least half the fixed echo bot's throughput, p95 no more than twice its p95, for
# `my actions` typed and for Mark done pressed.
RATIO_BUDGET = 0.5
P95_RATIO_BUDGET = 2.0
EXPECTED_SUMMARY = f"You have {TARGET_OPEN} open actions"


@dataclass(frozen=True)
class Profile:
    scale: float
    iterations: int
    warmup: int
    clients: int
    seconds: float
    warmup_seconds: float
    rounds: int


FULL = Profile(
    scale=1.0, iterations=300, warmup=30, clients=8, seconds=8.0, warmup_seconds=2.0, rounds=3
)
SMALL = Profile(
    scale=0.1, iterations=300, warmup=30, clients=8, seconds=3.0, warmup_seconds=1.0, rounds=1
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- 1. in-process ------------------------------------------------------------------------------


@dataclass
class Latency:
    p50: float
    p95: float
    max: float
    card_bytes: int
    summary: str


async def in_process(seeded: Seeded, profile: Profile) -> Latency:
    engine = make_engine(seeded.url)
    sessions = make_sessions(engine)
    try:
        target = seeded.targets[0]
        async with sessions() as session:
            person = await staff_store.by_aad_object_id(
                session=session, tenant_id=seeded.tenant_id, aad_object_id=target.aad
            )
        assert person is not None, "the target person is missing from the seeded database"
        settings = Settings(database_url=seeded.url)

        async def turn() -> tuple[float, int, str]:
            started = time.perf_counter()
            async with sessions() as session:
                reply = await show_my_actions(
                    Request(
                        session=session,
                        tenant_id=seeded.tenant_id,
                        person=person,
                        today=TODAY,
                        settings=settings,
                        commands=CATALOGUE.commands,
                        rebuilders=CATALOGUE.redraws(Settings()),
                    )
                )
                body = json.dumps(card_json(reply.card))
            return (time.perf_counter() - started) * 1000, len(body), reply.summary

        for _ in range(profile.warmup):
            await turn()
        gc.collect()
        timings = []
        size, summary = 0, ""
        for _ in range(profile.iterations):
            ms, size, summary = await turn()
            timings.append(ms)
        return Latency(pct(timings, 0.5), pct(timings, 0.95), max(timings), size, summary)
    finally:
        await engine.dispose()


# --- 2. HTTP ------------------------------------------------------------------------------------


class Server:
    """A tests.bench.serve subprocess; stopped by closing its stdin (or, failing that, by pid)."""

    def __init__(self, kind: str, log: Path, *args: str) -> None:
        self.kind, self.log, self.args = kind, log, args
        self.url = ""
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Server:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.bench.serve", self.kind, *self.args,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log, cwd=ROOT,
            )  # fmt: skip
        ready = await self._line(within=60)
        self.url = ready["url"]
        return self

    async def _line(self, within: float = 10) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), within)
        if not line:
            raise RuntimeError(f"{self.kind} server ended early; see {self.log}")
        return dict(json.loads(line))

    async def stats(self) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"stats\n")
        await self.proc.stdin.drain()
        return await self._line()

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.terminate()
            await self.proc.wait()


def activity_templates(
    targets: tuple[Target, ...], tenant_id: str, service_url: str, n: int
) -> list[bytes]:
    """One personal-chat "my actions" activity per client (each client is a different person);
    the id placeholder is replaced per request so every activity id is unique."""
    templates = []
    for i in range(n):
        who = targets[i % len(targets)]
        activity = payload("personal_message")
        activity["id"] = "@@ID@@"
        activity["text"] = "my actions"
        activity["serviceUrl"] = service_url
        activity["from"] = {"id": f"29:bench-{i}", "name": who.name, "aadObjectId": who.aad}
        activity["conversation"] = {
            "conversationType": "personal", "tenantId": tenant_id, "id": f"a:personal-bench-{i}",
        }  # fmt: skip
        activity["channelData"] = {"tenant": {"id": tenant_id}}
        templates.append(json.dumps(activity).encode())
    return templates


@dataclass
class Trial:
    kind: str
    completed: int
    seconds: float
    cpu_s: float
    statuses: Counter[int]
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    turn: str = "message"

    @property
    def rps(self) -> float:
        return self.completed / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s * 1000 / max(self.completed, 1)


Bodies = Callable[[int, int, str], bytes]


def message_bodies(templates: list[bytes]) -> Bodies:
    def make(client: int, n: int, tag: str) -> bytes:
        return templates[client].replace(b"@@ID@@", f"{tag}-{client}-{n}".encode())

    return make


async def drive(
    http: aiohttp.ClientSession, url: str, bodies: Bodies, clients: int, seconds: float, tag: str
) -> tuple[int, float, Counter[int], list[float]]:
    """Every client posts back-to-back until the deadline; the clock stops when the last answers.
    An invoke's answer must be a card (Mark done shows `my actions` again), or it counts as 500."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    deadline = started + seconds

    async def client(i: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            body = bodies(i, n, tag)
            n += 1
            t0 = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                answer = await response.read()
                status = response.status
                if status == 200 and b"application/vnd.microsoft.error" in answer:
                    status = 500
                statuses[status] += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return sum(statuses.values()), elapsed, statuses, latencies


async def trial(
    http: aiohttp.ClientSession,
    server: Server,
    connector: Server,
    turn: Turn,
    profile: Profile,
    tag: str,
) -> Trial:
    bodies, clients = turn.bodies, turn.clients
    await drive(http, server.url, bodies, clients, profile.warmup_seconds, f"{tag}-warm")
    before, received_before = await server.stats(), (await connector.stats())["received"]
    completed, seconds, statuses, latencies = await drive(
        http, server.url, bodies, clients, profile.seconds, tag
    )
    after, received_after = await server.stats(), (await connector.stats())["received"]
    return Trial(
        server.kind, completed, seconds, after["cpu_s"] - before["cpu_s"], statuses, latencies,
        received_after - received_before, turn.name,
    )  # fmt: skip


@dataclass
class Turn:
    """What the clients send: `my actions` typed (a message), or Mark done pressed (an invoke
    that writes); each client's n-th body."""

    name: str
    bodies: Bodies
    clients: int
    # The answer's status when all is well: 201 for a message (the reply goes to the connector),
    # 200 for an invoke (the card comes back in the answer).
    ok: int


@dataclass
class Aggregate:
    kind: str
    trials: list[Trial]

    @property
    def rps(self) -> float:
        return sum(t.completed for t in self.trials) / sum(t.seconds for t in self.trials)

    @property
    def cpu_ms(self) -> float:
        return sum(t.cpu_s for t in self.trials) * 1000 / sum(t.completed for t in self.trials)

    def latency(self, q: float) -> float:
        return pct([x for t in self.trials for x in t.latencies], q)

    @property
    def problems(self) -> list[str]:
        found = []
        for t in self.trials:
            # 201 is a handled message, 200 an answered invoke (a repeated id would be 200 too).
            ok = 200 if t.turn == "invoke" else 201
            bad = {s: n for s, n in t.statuses.items() if s != ok}
            if bad:
                found.append(f"{t.kind} {t.turn}: HTTP statuses other than {ok}: {bad}")
            if t.turn == "message" and t.received != t.completed:
                found.append(
                    f"{t.kind}: {t.completed} answered but {t.received} replies reached the connector"
                )
        return found


async def http_benchmark(
    seeded: Seeded, profile: Profile, workdir: Path, postgres: str | None = None
) -> tuple[dict[str, Aggregate], dict[str, int]]:
    """Keyed "<server> <turn>": qaloop and the fixed echo bot, alternating, for the message and
    the invoke; the stock SDK echo once, for the message."""
    log = workdir / "servers.log"
    connector = await Server("connector", log).start()
    servers: list[Server] = []
    try:
        invokers = invoke_templates(seeded, connector.url, profile.clients)
        database = seeded.url
        if postgres is not None:
            started = time.perf_counter()
            await copy_into(seeded.url, postgres)
            print(f"copied into PostgreSQL in {time.perf_counter() - started:.1f} s", flush=True)
            database = postgres
        qaloop = await Server("qaloop", log, "--db", database).start()
        servers.append(qaloop)
        echo = await Server("echo", log, "--db", database).start()
        servers.append(echo)
        echodb = await Server("echodb", log, "--db", database).start()
        servers.append(echodb)
        templates = activity_templates(
            seeded.targets, seeded.tenant_id, connector.url, profile.clients
        )
        pressed: dict[str, int] = {}

        def presses(client: int, n: int, tag: str) -> bytes:
            # Each press marks the client's next action done, across trials and warm-ups.
            key = f"{tag.split('-')[0]}-{client}"
            k = pressed[key] = pressed.get(key, -1) + 1
            return next_invoke(invokers, client, k, tag)

        turns = (
            Turn("message", message_bodies(templates), profile.clients, 201),
            Turn("invoke", presses, len(invokers), 200),
        )
        results: dict[str, Aggregate] = {}
        limits = aiohttp.TCPConnector(limit=profile.clients, force_close=False)
        async with aiohttp.ClientSession(
            connector=limits, timeout=aiohttp.ClientTimeout(total=60)
        ) as http:
            # Alternate, so drift on a shared 2-core machine hits both sides alike.
            for r in range(profile.rounds):
                for turn in turns:
                    order = (qaloop, echo, echodb) if r % 2 == 0 else (echodb, echo, qaloop)
                    for server in order:
                        t = await trial(
                            http, server, connector, turn, profile, f"{server.kind}-{r}-{turn.name}"
                        )
                        key = f"{server.kind} {turn.name}"
                        results.setdefault(key, Aggregate(key, [])).trials.append(t)
                        print(
                            f"  round {r + 1}: {key:15} {t.rps:7.1f} req/s  "
                            f"{t.cpu_ms_per_request:5.2f} CPU-ms/req",
                            flush=True,
                        )
            for server in servers:
                await server.stop()
            stock = await Server("stock", log).start()
            servers.append(stock)
            t = await trial(http, stock, connector, turns[0], profile, "stock")
            results["stock message"] = Aggregate("stock message", [t])
            print(f"  stock message  : {t.rps:7.1f} req/s  {t.cpu_ms_per_request:5.2f} CPU-ms/req")
        seen = (await connector.stats())["seen"]
        return results, seen
    finally:
        for server in (*servers, connector):
            await server.stop()


# --- main ---------------------------------------------------------------------------------------


async def main_async(profile: Profile, use_cache: bool, postgres: str | None = None) -> int:
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"note: load average {load:.1f} before starting; other work on this machine skews req/s"
        )
    with tempfile.TemporaryDirectory(prefix="qaloop-bench-") as tmp:
        workdir = Path(tmp)
        seeded = await asyncio.to_thread(
            seeded_database, workdir, scale=profile.scale, use_cache=use_cache
        )
        counts = ", ".join(f"{k} {v:,}" for k, v in seeded.counts.items())
        print(
            f"database: {counts} ({'cached' if seeded.cached else 'seeded'} in {seeded.seconds:.1f} s)",
            flush=True,
        )

        latency = await in_process(seeded, profile)
        print(
            f"in-process: {profile.iterations} turns, card {latency.card_bytes:,} bytes", flush=True
        )

        print(
            f"HTTP: {profile.clients} clients, {profile.seconds:g} s per trial, {profile.rounds} round(s)",
            flush=True,
        )
        try:
            if postgres is None:
                results, seen = await http_benchmark(seeded, profile, workdir)
            else:
                async with postgres_database(postgres) as database:
                    print(f"store: PostgreSQL ({make_url(database).database})", flush=True)
                    results, seen = await http_benchmark(seeded, profile, workdir, database)
        except Exception:
            log = workdir / "servers.log"
            if log.exists():
                print(log.read_text()[-4000:], file=sys.stderr)
            raise

    failures: list[str] = []
    if latency.summary != EXPECTED_SUMMARY:
        failures.append(f"in-process reply said {latency.summary!r}, not {EXPECTED_SUMMARY!r}")
    for agg in results.values():
        failures += agg.problems
    wrong = {k: v for k, v in seen.items() if k != EXPECTED_SUMMARY and not k.startswith("Echo: ")}
    if wrong:
        failures.append(f"unexpected replies at the connector: {wrong}")

    lat_ok = latency.p95 <= P95_BUDGET_MS
    mark = lambda ok: "OK" if ok else "MISSED"  # noqa: E731
    print()
    print(
        f"my actions in-process: p50 {latency.p50:.1f} ms, p95 {latency.p95:.1f} ms, "
        f"max {latency.max:.1f} ms (budget {P95_BUDGET_MS:.0f} ms) {mark(lat_ok)}; "
        f"card {latency.card_bytes:,} bytes"
    )
    print(
        f"{'':16}{'req/s':>8}{'CPU-ms/req':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'× echo':>8}"
    )
    ok = lat_ok
    for turn in ("message", "invoke"):
        q, e = results[f"qaloop {turn}"], results[f"echo {turn}"]
        floor = results[f"echodb {turn}"]
        for agg in (q, e, floor, *([results["stock message"]] if turn == "message" else [])):
            print(
                f"{agg.kind:16}{agg.rps:8.0f}{agg.cpu_ms:12.2f}{agg.latency(0.5):9.1f}"
                f"{agg.latency(0.95):9.1f}{agg.latency(0.99):9.1f}{agg.rps / e.rps:8.2f}"
            )
        ratio, p95 = q.rps / e.rps, q.latency(0.95) / e.latency(0.95)
        turn_ok = ratio >= RATIO_BUDGET and p95 <= P95_RATIO_BUDGET
        ok = ok and turn_ok
        print(
            f"  {turn}: {ratio:.2f} × the fixed echo bot's throughput (budget ≥ {RATIO_BUDGET}), "
            f"p95 {p95:.1f} × its p95 (budget ≤ {P95_RATIO_BUDGET:g}) {mark(turn_ok)}; "
            f"CPU per request echo/qaloop {e.cpu_ms / q.cpu_ms:.2f}"
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 0 if ok and not failures else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--small", action="store_true", help="1/10 of the data, short trials: a smoke run"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="seed afresh instead of reusing the cached database"
    )
    parser.add_argument("--seconds", type=float, help="seconds per HTTP trial")
    parser.add_argument("--rounds", type=int, help="alternating qaloop/echo rounds")
    parser.add_argument("--clients", type=int, help="concurrent HTTP clients")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="also copy the data into a fresh database on this PostgreSQL server and run there",
    )
    args = parser.parse_args()
    profile = SMALL if args.small else FULL
    overrides = {"seconds": args.seconds, "rounds": args.rounds, "clients": args.clients}
    profile = Profile(**{**profile.__dict__, **{k: v for k, v in overrides.items() if v}})
    started = time.perf_counter()
    try:
        code = asyncio.run(main_async(profile, use_cache=not args.no_cache, postgres=args.postgres))
    except Exception as exc:
        print(f"benchmark harness failed: {exc!r}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(f"({time.perf_counter() - started:.0f} s)")
    raise SystemExit(code)


if __name__ == "__main__":
    main()

"""DESIGN §11, first budget: `my actions` for a person with 50 open actions in a DB of
5k staff / 50k audits / 150k actions.

  .venv/bin/python -m tests.bench.bench_my_actions [--small]

1. In-process: a session, commands.show_my_actions and the card's JSON, 300 times after warm-up;
   p95 must be ≤ 50 ms.
2. HTTP: the real app (bot.app.create_app, no credentials) in its own process, the fake connector in
   another, and a light aiohttp load generator here with N keep-alive clients posting Teams
   personal-chat "my actions" activities (unique ids) for a fixed time. The same is done against a
   bare echo bot with the same SDK set-up (bot.app.build_adapter) in alternating rounds; QA Loop must
   reach ≥ 0.7 × its throughput. A stock SDK echo bot is measured too, for information (DESIGN §13).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.features import CATALOGUE
from bot.features.actions.commands import show_my_actions
from bot.settings import Settings
from bot.turn import Request
from cards.common import card_json
from storage import staff as staff_store
from storage.db import make_engine, make_sessions
from tests.bench.seed import TARGET_OPEN, TODAY, Seeded, Target, seeded_database
from tests.chat import payload

ROOT = Path(__file__).resolve().parents[2]
P95_BUDGET_MS = 50.0
RATIO_BUDGET = 0.70
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

    @property
    def rps(self) -> float:
        return self.completed / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s * 1000 / max(self.completed, 1)


async def drive(
    http: aiohttp.ClientSession, url: str, templates: list[bytes], seconds: float, tag: str
) -> tuple[int, float, Counter[int], list[float]]:
    """Every client posts back-to-back until the deadline; the clock stops when the last answers."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    deadline = started + seconds

    async def client(i: int) -> None:
        template = templates[i]
        n = 0
        while time.perf_counter() < deadline:
            body = template.replace(b"@@ID@@", f"{tag}-{i}-{n}".encode())
            n += 1
            t0 = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1
            latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(client(i) for i in range(len(templates))))
    elapsed = time.perf_counter() - started
    return sum(statuses.values()), elapsed, statuses, latencies


async def trial(
    http: aiohttp.ClientSession,
    server: Server,
    connector: Server,
    templates: list[bytes],
    profile: Profile,
    tag: str,
) -> Trial:
    await drive(http, server.url, templates, profile.warmup_seconds, f"{tag}-warm")
    before, received_before = await server.stats(), (await connector.stats())["received"]
    completed, seconds, statuses, latencies = await drive(
        http, server.url, templates, profile.seconds, tag
    )
    after, received_after = await server.stats(), (await connector.stats())["received"]
    return Trial(
        server.kind, completed, seconds, after["cpu_s"] - before["cpu_s"], statuses, latencies,
        received_after - received_before,
    )  # fmt: skip


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
            # 201 is a handled message; QA Loop answers a repeated activity id with 200.
            bad = {s: n for s, n in t.statuses.items() if s != 201}
            if bad:
                found.append(f"{t.kind}: HTTP statuses other than 201: {bad}")
            if t.received != t.completed:
                found.append(
                    f"{t.kind}: {t.completed} answered but {t.received} replies reached the connector"
                )
        return found


async def http_benchmark(
    seeded: Seeded, profile: Profile, workdir: Path
) -> tuple[dict[str, Aggregate], dict[str, int]]:
    log = workdir / "servers.log"
    connector = await Server("connector", log).start()
    servers: list[Server] = []
    try:
        qaloop = await Server("qaloop", log, "--db", seeded.url).start()
        servers.append(qaloop)
        echo = await Server("echo", log, "--db", seeded.url).start()
        servers.append(echo)
        templates = activity_templates(
            seeded.targets, seeded.tenant_id, connector.url, profile.clients
        )
        results: dict[str, Aggregate] = {k: Aggregate(k, []) for k in ("qaloop", "echo", "stock")}
        limits = aiohttp.TCPConnector(limit=profile.clients, force_close=False)
        async with aiohttp.ClientSession(
            connector=limits, timeout=aiohttp.ClientTimeout(total=60)
        ) as http:
            # Alternate, so drift on a shared 2-core machine hits both sides alike.
            for r in range(profile.rounds):
                for server in (qaloop, echo) if r % 2 == 0 else (echo, qaloop):
                    t = await trial(
                        http, server, connector, templates, profile, f"{server.kind}-{r}"
                    )
                    results[server.kind].trials.append(t)
                    print(
                        f"  round {r + 1}: {t.kind:6} {t.rps:7.1f} req/s  {t.cpu_ms_per_request:5.2f} CPU-ms/req",
                        flush=True,
                    )
            for server in servers:
                await server.stop()
            stock = await Server("stock", log).start()
            servers.append(stock)
            t = await trial(http, stock, connector, templates, profile, "stock")
            results["stock"].trials.append(t)
            print(
                f"  stock : {t.rps:7.1f} req/s  {t.cpu_ms_per_request:5.2f} CPU-ms/req", flush=True
            )
        seen = (await connector.stats())["seen"]
        return results, seen
    finally:
        for server in (*servers, connector):
            await server.stop()


# --- main ---------------------------------------------------------------------------------------


async def main_async(profile: Profile, use_cache: bool) -> int:
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
            results, seen = await http_benchmark(seeded, profile, workdir)
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

    q, e, s = results["qaloop"], results["echo"], results["stock"]
    ratio = q.rps / e.rps
    lat_ok = latency.p95 <= P95_BUDGET_MS
    ratio_ok = ratio >= RATIO_BUDGET
    mark = lambda ok: "OK" if ok else "MISSED"  # noqa: E731
    print()
    print(
        f"my actions in-process: p50 {latency.p50:.1f} ms, p95 {latency.p95:.1f} ms, "
        f"max {latency.max:.1f} ms (budget {P95_BUDGET_MS:.0f} ms) {mark(lat_ok)}"
    )
    print(
        f"HTTP: qaloop {q.rps:.0f} req/s, echo (same set-up) {e.rps:.0f} req/s, ratio {ratio:.2f} "
        f"(budget ≥ {RATIO_BUDGET:.2f}) {mark(ratio_ok)}; stock SDK echo {s.rps:.0f} req/s"
    )
    print(
        f"(CPU per request, less sensitive to other load: echo/qaloop {e.cpu_ms / q.cpu_ms:.2f}, "
        f"stock/qaloop {s.cpu_ms / q.cpu_ms:.2f})"
    )
    print(f"{'':6}{'req/s':>8}{'CPU-ms/req':>12}{'p50 ms':>9}{'p95 ms':>9}{'× echo':>8}")
    for agg in (q, e, s):
        print(
            f"{agg.kind:6}{agg.rps:8.0f}{agg.cpu_ms:12.2f}{agg.latency(0.5):9.1f}"
            f"{agg.latency(0.95):9.1f}{agg.rps / e.rps:8.2f}"
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 0 if lat_ok and ratio_ok and not failures else 1


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
    args = parser.parse_args()
    profile = SMALL if args.small else FULL
    overrides = {"seconds": args.seconds, "rounds": args.rounds, "clients": args.clients}
    profile = Profile(**{**profile.__dict__, **{k: v for k, v in overrides.items() if v}})
    started = time.perf_counter()
    try:
        code = asyncio.run(main_async(profile, use_cache=not args.no_cache))
    except Exception as exc:
        print(f"benchmark harness failed: {exc!r}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(f"({time.perf_counter() - started:.0f} s)")
    raise SystemExit(code)


if __name__ == "__main__":
    main()

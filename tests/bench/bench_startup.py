"""DESIGN §11, fourth budget: `qaloop serve` to `/readyz` 200 within 2 s, and idle RSS within
150 MB, on the demo council (SQLite), against a bare botbuilder echo bot with the same SDK set-up
(tests.bench.serve echo) started the same way in the same run.

  .venv/bin/python -m tests.bench.bench_startup [--rounds 5] [--idle 3]

Each round starts a fresh process and times it from spawn until it answers: `qaloop serve` until
`/readyz` says 200 (database reachable, schema current, scheduler and sender running), the echo
until it prints that it listens. After `--idle` seconds of nothing, the resident set size
(VmRSS) is read from /proc. The median of the rounds is reported, with the ratios to the echo.
Exits 1 if a budget is missed, 2 if the harness fails.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

READY_BUDGET_S = 2.0
RSS_BUDGET_MB = 150.0
QALOOP = Path(sys.executable).with_name("qaloop")


@dataclass(frozen=True, slots=True)
class Start:
    ready_s: float
    rss_mb: float


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QALOOP_")}
    env["QALOOP_DATABASE_URL"] = database_url
    return env


def start_qaloop(database_url: str, idle: float) -> Start:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(QALOOP), "serve", "--port", str(port)],
        env=environment(database_url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = _wait_for_ready(f"http://127.0.0.1:{port}/readyz", process, started)
        time.sleep(idle)
        return Start(ready, rss_mb(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_ready(url: str, process: subprocess.Popen[bytes], started: float) -> float:
    while time.perf_counter() - started < 30:
        if process.poll() is not None:
            raise RuntimeError(f"qaloop serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.01)
    raise RuntimeError("qaloop serve was not ready within 30 s")


def start_echo(idle: float) -> Start:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.serve", "echo", "--max-seconds", "60"],
        env=environment("sqlite+aiosqlite:///:memory:"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if b'"ready"' not in line:
            raise RuntimeError(f"the echo bot did not start: {line!r}")
        ready = time.perf_counter() - started
        time.sleep(idle)
        return Start(ready, rss_mb(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=10)


def demo_database(folder: Path) -> str:
    url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    subprocess.run(
        [str(QALOOP), "demo", "--no-serve"],
        env=environment(url),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return url


def median(starts: list[Start]) -> Start:
    return Start(
        statistics.median(s.ready_s for s in starts), statistics.median(s.rss_mb for s in starts)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before RSS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qaloop-bench-") as folder:
        try:
            url = demo_database(Path(folder))
            # Alternated, so a slower moment of the machine falls on both alike.
            ours, echo = [], []
            for _ in range(args.rounds):
                ours.append(start_qaloop(url, args.idle))
                echo.append(start_echo(args.idle))
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            print(f"the harness failed: {exc}", file=sys.stderr)
            return 2
    qaloop, bare = median(ours), median(echo)
    print(f"qaloop serve (demo council, SQLite), median of {args.rounds}:")
    print(
        f"  spawn to /readyz 200: {qaloop.ready_s * 1000:.0f} ms; idle RSS {qaloop.rss_mb:.0f} MB"
    )
    print("bare botbuilder echo bot, same SDK set-up:")
    print(f"  spawn to listening:   {bare.ready_s * 1000:.0f} ms; idle RSS {bare.rss_mb:.0f} MB")
    print(
        f"ratios qaloop / echo: start-up {qaloop.ready_s / bare.ready_s:.2f}, "
        f"RSS {qaloop.rss_mb / bare.rss_mb:.2f}"
    )
    fast = qaloop.ready_s <= READY_BUDGET_S
    small = qaloop.rss_mb <= RSS_BUDGET_MB
    print(f"budget ready ≤ {READY_BUDGET_S:.0f} s: {'met' if fast else 'MISSED'}")
    print(f"budget idle RSS ≤ {RSS_BUDGET_MB:.0f} MB: {'met' if small else 'MISSED'}")
    return 0 if fast and small else 1


if __name__ == "__main__":
    sys.exit(main())

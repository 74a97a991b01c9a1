"""Run the Microsoft 365 Agents Playground against a bot and drive it in headless Chromium.

Process management is synchronous (subprocess.Popen), so a playground can live in a fixture of
any scope; `drive` is async so a bot served from the test's own event loop keeps answering while
the browser runs. Typical use:

    reason = missing_prerequisites()
    if reason: pytest.skip(reason)
    cfg = write_config(tmp_path, current_user="alex")
    with playground(bot_endpoint, config_path=cfg, workdir=tmp_path) as pg:
        result = await drive(pg.url, [{"say": "my actions"}, {"waitForCardText": "My actions"}])
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

E2E_DIR = Path(__file__).resolve().parent
NODE_MODULES = E2E_DIR / "node_modules"
PLAYGROUND_CLI = NODE_MODULES / "@microsoft" / "m365agentsplayground" / "cli.js"
PLAYWRIGHT_CORE = NODE_MODULES / "playwright-core" / "package.json"
DRIVE_SCRIPT = E2E_DIR / "drive.mjs"
CHROMIUM = Path(os.environ.get("QALOOP_E2E_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = "run scripts/install-e2e.sh"
MIN_NODE_MAJOR = 20  # playwright-core 1.65

# A proxy from the environment would route loopback calls (playground -> bot) away from loopback.
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
_LISTENING = re.compile(rb"Listening on (\d+)")


class PlaygroundError(RuntimeError):
    """The playground did not start, or drive.mjs could not run at all."""


def missing_prerequisites() -> str | None:
    """Why end-to-end tests cannot run here, or None when they can."""
    node = shutil.which("node")
    if node is None:
        return f"node is not on PATH (install Node.js {MIN_NODE_MAJOR}+, then {INSTALL_HINT})"
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
        major = int(version.strip().lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return f"{node} --version failed"
    if major < MIN_NODE_MAJOR:
        return f"node {version.strip()} is older than {MIN_NODE_MAJOR}"
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing ({INSTALL_HINT})"
    for needed in (PLAYGROUND_CLI, PLAYWRIGHT_CORE):
        if not needed.is_file():
            return f"{needed.relative_to(E2E_DIR)} is missing ({INSTALL_HINT})"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now. The playground binds all interfaces, so check those."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        port: int = s.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, port))
    return port


def _child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    env.update(extra)
    return env


@dataclass
class Playground:
    """A running playground: one mock tenant seen by one person (its config's currentUser)."""

    process: subprocess.Popen[bytes]
    port: int
    output_path: Path  # its stdout and stderr
    log_path: Path  # where it sends console.log/error, including why it failed to start
    config_path: Path | None
    _files: list[IO[bytes]] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def service_url(self) -> str:
        """What the playground puts in activities' serviceUrl (always `localhost`)."""
        return f"http://localhost:{self.port}/_connector"

    def output(self) -> str:
        """Its stdout/stderr followed by its log file, for error messages."""
        parts = [
            p.read_text(errors="replace") for p in (self.output_path, self.log_path) if p.exists()
        ]
        return "\n".join(parts)


def start_playground(
    bot_endpoint: str,
    *,
    workdir: Path,
    config_path: Path | None = None,
    port: int | None = None,
    startup_timeout: float = 30.0,
) -> Playground:
    """Start a playground that sends to `bot_endpoint` and wait until its web UI answers.

    Without `config_path` the playground uses its built-in tenant (Alex Wilber, random chat ids).
    The bot need not be running yet, but the web page waits up to 15 s for it on load.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    output_path = workdir / f"playground-{port}.out"
    log_path = workdir / f"playground-{port}.log"
    env = {
        "TEAMSAPPTESTER_BROWSER": "none",  # do not try to open a desktop browser
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(log_path),
    }
    if config_path is not None:
        env["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = str(Path(config_path).resolve())
    node = shutil.which("node") or "node"
    command = [
        *(node, str(PLAYGROUND_CLI)),
        *("--app-endpoint", bot_endpoint, "--channel-id", "msteams", "--disable-telemetry"),
        *("--port", str(port)),
    ]
    out = output_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=workdir,  # it looks for ./.m365agentsplayground.yml when no config path is given
        env=_child_env(env),
        stdin=subprocess.PIPE,  # held open for the process's lifetime; never written
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop_playground can take it all down
    )
    pg = Playground(process, port, output_path, log_path, config_path, [out])
    try:
        pg.port = _wait_until_serving(pg, startup_timeout)
    except BaseException:
        stop_playground(pg)
        raise
    return pg


def _wait_until_serving(pg: Playground, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    port: int | None = None
    while time.monotonic() < deadline:
        if pg.process.poll() is not None:
            raise PlaygroundError(
                f"playground exited with {pg.process.returncode}:\n{pg.output()[-2000:]}"
            )
        if port is None:
            # It silently picks a random port when the requested one is taken.
            match = _LISTENING.search(pg.output_path.read_bytes())
            port = int(match.group(1)) if match else None
        if port is not None:
            # "/" is static; /_internal/v1/config would block until the bot endpoint answers.
            url = f"http://127.0.0.1:{port}/"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return port
        time.sleep(0.1)
    raise PlaygroundError(
        f"playground did not serve within {timeout:.0f} s:\n{pg.output()[-2000:]}"
    )


def stop_playground(pg: Playground, *, grace: float = 5.0) -> None:
    """Stop the playground's whole process group; safe to call twice."""
    proc = pg.process
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(grace)
    if proc.stdin is not None:
        proc.stdin.close()
    for f in pg._files:
        f.close()
    pg._files.clear()


@contextlib.contextmanager
def playground(
    bot_endpoint: str,
    *,
    workdir: Path,
    config_path: Path | None = None,
    port: int | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[Playground]:
    pg = start_playground(
        bot_endpoint,
        workdir=workdir,
        config_path=config_path,
        port=port,
        startup_timeout=startup_timeout,
    )
    try:
        yield pg
    finally:
        stop_playground(pg)


class DriveFailed(AssertionError):
    """A drive.mjs step failed; `.result` holds everything it recorded."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


async def drive(
    url: str,
    steps: Sequence[Mapping[str, Any]],
    *,
    on_pause: Callable[[str], Awaitable[None]] | None = None,
    timeout_ms: int = 20_000,
    artifacts: Path | None = None,
    traffic: bool = False,
    allow_bot_errors: bool = False,
    check: bool = True,
    overall_timeout: float = 300.0,
    viewport: str | None = None,
) -> dict[str, Any]:
    """Run drive.mjs against the playground at `url` and return its JSON result.

    A {"pause": label} step awaits `on_pause(label)` with the page open, then carries on: the way
    to trigger a proactive job and see what it sends. With `check` (the default) a failed step
    raises DriveFailed naming the step and the bot messages that did arrive; otherwise the
    result comes back with result["ok"] False.
    """
    args = [
        str(DRIVE_SCRIPT),
        "--url",
        url,
        "--timeout-ms",
        str(timeout_ms),
        "--chromium",
        str(CHROMIUM),
    ]
    if artifacts is not None:
        args += ["--artifacts", str(artifacts)]
    if traffic:
        args.append("--traffic")
    if viewport:
        args += ["--viewport", viewport]
    if allow_bot_errors:
        args.append("--allow-bot-errors")
    args.append(json.dumps(list(steps)))  # stdin stays free for pause/resume
    proc = await asyncio.create_subprocess_exec(
        shutil.which("node") or "node",
        *args,
        cwd=E2E_DIR,
        env=_child_env({}),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin, stderr_stream = proc.stdin, proc.stderr
    stderr_lines: list[str] = []

    async def follow_stderr() -> None:
        async for raw in stderr_stream:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith("@@pause "):
                label = json.loads(line.removeprefix("@@pause "))
                if on_pause is not None:
                    await on_pause(label)
                stdin.write(b"resume\n")
                await stdin.drain()
            else:
                stderr_lines.append(line)

    try:
        stdout, _, _ = await asyncio.wait_for(
            asyncio.gather(proc.stdout.read(), follow_stderr(), proc.wait()), overall_timeout
        )
    except BaseException:  # timeout, cancellation or a failing on_pause: leave no browser behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise
    finally:
        stdin.close()
    try:
        result: dict[str, Any] = json.loads(stdout)
    except json.JSONDecodeError as e:
        stderr_text = "\n".join(stderr_lines)[-2000:]
        raise PlaygroundError(
            f"drive.mjs exited {proc.returncode} without a result: {stderr_text}"
        ) from e
    if proc.returncode == 2:
        raise PlaygroundError(f"drive.mjs could not run: {result.get('error')}")
    if check and not result.get("ok"):
        raise DriveFailed(f"{result.get('error')}\nfailed step: {result.get('failedStep')}", result)
    return result

"""Profile a turn of QA Loop as Teams sends it (issue 15): the real app in a process of its own
under cProfile, the fake connector in another, and N back-to-back requests from here.

  .venv/bin/python -m tests.bench.profile_turn [--turn message|invoke] [--requests 600] [--top 15]
      [--save FILE]

`message` is a personal-chat "my actions"; `invoke` is Mark done pressed on `my actions` (an
adaptiveCard/action invoke that writes). Prints the server's top costs by own time and the bot's
own functions by cumulative time, as in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

import aiohttp

from tests.bench.bench_my_actions import Server, activity_templates
from tests.bench.seed import seeded_database
from tests.bench.turns import invoke_templates, next_invoke


async def run(turn: str, requests: int, top: int, save: Path | None = None) -> str:
    with tempfile.TemporaryDirectory(prefix="qaloop-profile-") as tmp:
        workdir = Path(tmp)
        seeded = await asyncio.to_thread(seeded_database, workdir, scale=0.1, use_cache=True)
        log = workdir / "servers.log"
        out = workdir / "turn.prof"
        connector = await Server("connector", log).start()
        server = await Server("qaloop", log, "--db", seeded.url, "--profile", str(out)).start()
        try:
            async with aiohttp.ClientSession() as http:
                if turn == "message":
                    [template] = activity_templates(
                        seeded.targets, seeded.tenant_id, connector.url, 1
                    )
                    bodies = [
                        template.replace(b"@@ID@@", f"p-{n}".encode()) for n in range(requests)
                    ]
                else:
                    invokes = invoke_templates(seeded, connector.url, 1)
                    bodies = [next_invoke(invokes, 0, n, "p") for n in range(requests)]
                for body in bodies:
                    async with http.post(
                        server.url, data=body, headers={"Content-Type": "application/json"}
                    ) as response:
                        await response.read()
                        if response.status not in (200, 201):
                            raise RuntimeError(f"HTTP {response.status}: {await response.text()}")
        finally:
            await server.stop()
            await connector.stop()
        if save is not None:
            shutil.copyfile(out, save)
        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(r"/(bot|cards|storage|jobs)/", top)
        return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turn", choices=["message", "invoke"], default="message")
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--save", type=Path, help="keep the profile here, for pstats or snakeviz")
    args = parser.parse_args()
    sys.stdout.write(asyncio.run(run(args.turn, args.requests, args.top, args.save)))


if __name__ == "__main__":
    main()

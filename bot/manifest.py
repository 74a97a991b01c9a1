"""The Teams app package: app_manifest/manifest.json filled in, its commandLists generated from the
command table, zipped with the two icons."""

import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from app_manifest import MANIFEST_DIR

# The command-menu limits of manifest schemas up to v1.20 (10 commands up to v1.23). Schema v1.30
# allows 12 commands, 128-character titles and 4000-character descriptions; a short menu reads better.
MAX_COMMANDS = 10
MAX_TITLE = 32
MAX_DESCRIPTION = 128

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_PLACEHOLDER = re.compile(r"\{\{\w+\}\}")


class CommandLike(Protocol):
    """A row of the command table, as far as the manifest needs it."""

    @property
    def name(self) -> str: ...

    @property
    def help(self) -> str: ...

    @property
    def menu(self) -> tuple[str, ...]: ...


def command_list_entries(commands: Sequence[CommandLike]) -> list[dict[str, str]]:
    """Teams commandLists items for the command table; ValueError if Teams would reject them."""
    if len(commands) > MAX_COMMANDS:
        raise ValueError(
            f"{len(commands)} commands, but a Teams command menu holds at most {MAX_COMMANDS}"
        )
    entries = []
    for command in commands:
        if len(command.name) > MAX_TITLE:
            raise ValueError(
                f"command {command.name!r} is {len(command.name)} characters long; "
                f"a Teams command title may have at most {MAX_TITLE}"
            )
        if len(command.help) > MAX_DESCRIPTION:
            raise ValueError(
                f"help of command {command.name!r} is {len(command.help)} characters long; "
                f"a Teams command description may have at most {MAX_DESCRIPTION}"
            )
        entries.append({"title": command.name, "description": command.help})
    return entries


def render_manifest(
    *,
    app_id: str,
    commands: Sequence[CommandLike],
    template: Path = MANIFEST_DIR / "manifest.json",
) -> dict[str, Any]:
    """The manifest with the app id filled in and each scope's menu taken from `commands`."""
    if not _GUID.fullmatch(app_id):
        raise ValueError(
            f"app id {app_id!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); "
            "use the bot's Microsoft App ID"
        )
    text = template.read_text(encoding="utf-8").replace("{{APP_ID}}", app_id)
    if unfilled := _PLACEHOLDER.search(text):
        raise ValueError(f"{template} has a placeholder this build does not fill: {unfilled[0]}")
    manifest: dict[str, Any] = json.loads(text)
    for bot in manifest["bots"]:
        for command_list in bot["commandLists"]:
            offered = [c for c in commands if set(command_list["scopes"]) & set(c.menu)]
            command_list["commands"] = command_list_entries(offered)
    return manifest


def build_package(*, app_id: str, out: Path, commands: Sequence[CommandLike]) -> Path:
    """Write the app package zip (manifest.json and icons at its root) to `out` and return it."""
    manifest = render_manifest(app_id=app_id, commands=commands)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon in (manifest["icons"]["color"], manifest["icons"]["outline"]):
            package.write(MANIFEST_DIR / icon, icon)
    return out


def checked_manifest_commands(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """The command titles the manifest offers in each scope (personal, team, groupChat)."""
    return {
        scope: [command["title"] for command in command_list["commands"]]
        for bot in manifest["bots"]
        for command_list in bot["commandLists"]
        for scope in command_list["scopes"]
    }

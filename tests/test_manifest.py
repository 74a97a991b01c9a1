"""The Teams app package: a manifest Microsoft's schema accepts, the icons Teams asks for."""

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft6Validator
from jsonschema.validators import extend

from bot.manifest import build_package, checked_manifest_commands, render_manifest

APP_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
NODE_MODULES = Path(__file__).parent / "e2e" / "node_modules"
TEAMS_SCHEMAS = NODE_MODULES / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"


@dataclass(frozen=True)
class FakeCommand:
    name: str
    help: str
    roles: frozenset[str] | None = None
    menu: tuple[str, ...] = ("personal", "team", "groupChat")


COMMANDS = [
    FakeCommand("help", "What I can do for you, by your roles"),
    FakeCommand("my actions", "My open actions, overdue first"),
    FakeCommand("team", "My team's overdue actions and audit compliance", frozenset({"qa"})),
]


def teams_schema(manifest_version: str) -> dict[str, Any]:
    if not NODE_MODULES.is_dir():
        pytest.skip(
            "the Teams manifest schema comes from the npm package @microsoft/app-manifest; "
            "run `make test` or scripts/install-e2e.sh to install tests/e2e/node_modules"
        )
    path = TEAMS_SCHEMAS / f"v{manifest_version}" / "MicrosoftTeams.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def png_header(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height, _bit_depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


def test_the_manifest_passes_microsofts_schema() -> None:
    manifest = render_manifest(app_id=APP_ID, commands=COMMANDS)
    schema = teams_schema(manifest["manifestVersion"])
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    # The schema says draft-04 but uses draft-06 `const` (manifestVersion); the Teams tooling
    # validates with ajv-draft-04, which applies `const`, so this validator does too. The schema has
    # no remote $ref and jsonschema never fetches one, so this runs offline. No check_schema: some
    # patterns use ECMAScript's \p{L}, which Python's re cannot compile (none applies to a bot).
    validator = extend(Draft4Validator, {"const": Draft6Validator.VALIDATORS["const"]})(schema)

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]

    assert errors == []
    assert not validator.is_valid({**manifest, "manifestVersion": "1.29"})


def test_every_scope_offers_the_command_table() -> None:
    manifest = render_manifest(app_id=APP_ID, commands=COMMANDS)

    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert checked_manifest_commands(manifest) == {
        scope: ["help", "my actions", "team"] for scope in ("personal", "team", "groupChat")
    }
    assert manifest["bots"][0]["commandLists"][0]["commands"][1] == {
        "title": "my actions",
        "description": "My open actions, overdue first",
    }


def test_the_package_holds_the_manifest_and_two_icons(tmp_path: Path) -> None:
    out = build_package(app_id=APP_ID, out=tmp_path / "qaloop.zip", commands=COMMANDS)

    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        colour = package.read("color.png")
        outline = package.read("outline.png")

    assert manifest == render_manifest(app_id=APP_ID, commands=COMMANDS)
    rgb, rgba = 2, 6
    assert png_header(colour)[:2] == (192, 192)
    assert png_header(colour)[2] in (rgb, rgba)
    assert png_header(outline) == (32, 32, rgba)


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "not-a-guid",
        "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b",
        "{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b}",
        "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\n",
    ],
)
def test_an_app_id_that_is_not_a_guid_is_refused(app_id: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a GUID"):
        build_package(app_id=app_id, out=tmp_path / "qaloop.zip", commands=COMMANDS)
    assert not (tmp_path / "qaloop.zip").exists()


def test_a_command_title_over_32_characters_is_refused() -> None:
    long_name = FakeCommand("show me every audit I have ever done", "Too long for the menu")

    with pytest.raises(ValueError, match="at most 32"):
        render_manifest(app_id=APP_ID, commands=[*COMMANDS, long_name])


def test_a_description_over_128_characters_is_refused() -> None:
    wordy = FakeCommand("stats", "This month so far " + "and more " * 14)

    with pytest.raises(ValueError, match="at most 128"):
        render_manifest(app_id=APP_ID, commands=[wordy])


def test_more_than_10_commands_are_refused() -> None:
    many = [FakeCommand(f"command {n}", "A command") for n in range(11)]

    with pytest.raises(ValueError, match="at most 10"):
        render_manifest(app_id=APP_ID, commands=many)

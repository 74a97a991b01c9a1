"""The command table: parsing, suggestions, and the manifest generated from it."""

from __future__ import annotations

from bot.commands import COMMANDS, parse
from bot.manifest import checked_manifest_commands, render_manifest


def test_parse_accepts_aliases_slashes_and_any_case() -> None:
    assert parse("/MY AUDITS").command is COMMANDS[2]
    assert parse("audits").command is COMMANDS[2]
    assert parse("my actions please").args == "please"


def test_close_misspellings_get_a_suggestion_and_nonsense_does_not() -> None:
    assert parse("helpp").suggestion == "help"
    assert parse("my acitons").suggestion == "my actions"
    assert parse("audts").suggestion == "my audits"
    assert parse("what is the weather").suggestion is None


def test_the_manifest_lists_exactly_the_command_table_in_every_scope() -> None:
    manifest = render_manifest(app_id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", commands=COMMANDS)
    titles = checked_manifest_commands(manifest)
    assert set(titles) == {"personal", "team", "groupChat"}
    for scope_titles in titles.values():
        assert scope_titles == [c.name for c in COMMANDS]

"""The command table: parsing, suggestions, and the manifest generated from it."""

from __future__ import annotations

from bot.features import CATALOGUE
from bot.manifest import checked_manifest_commands, render_manifest
from bot.router import Parsed
from bot.router import parse as parse_with


def parse(text: str) -> Parsed:
    return parse_with(text, CATALOGUE.commands)


def test_parse_accepts_aliases_slashes_and_any_case() -> None:
    my_audits = CATALOGUE.command("my audits")
    assert parse("/MY AUDITS").command is my_audits
    assert parse("audits").command is my_audits
    assert parse("my actions please").args == "please"


def test_close_misspellings_get_a_suggestion_and_nonsense_does_not() -> None:
    assert parse("helpp").suggestion == "help"
    assert parse("my acitons").suggestion == "my actions"
    assert parse("audts").suggestion == "my audits"
    assert parse("what is the weather").suggestion is None


def test_each_scopes_menu_is_the_command_table_rows_marked_for_it() -> None:
    manifest = render_manifest(
        app_id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", commands=CATALOGUE.commands
    )
    titles = checked_manifest_commands(manifest)
    assert set(titles) == {"personal", "team", "groupChat"}
    for scope, scope_titles in titles.items():
        assert scope_titles == [c.name for c in CATALOGUE.commands if scope in c.menu]
        assert 0 < len(scope_titles) <= 10
    # Channel-only commands are not offered in a personal chat, and the reverse.
    assert (
        "use this channel for" in titles["team"]
        and "use this channel for" not in titles["personal"]
    )
    assert "away until" in titles["personal"] and "away until" not in titles["team"]

"""Mock-tenant config files for the Agents Playground: one file per person, one playground per file.

The playground sends everything as its config's `currentUser`, so each person gets their own
playground process. All files share the tenant, the team and the group chat, so the bot sees one
tenant in which people talk to it from separate clients; only the personal chat id differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TENANT_ID = "00000000-0000-0000-0000-0000000000001"
BOT_ID = "00000000-0000-0000-0000-00000000000011"
BOT_NAME = "QA Loop"
GROUP_CHAT_ID = "19:qaloop-group-chat@thread.v2"
GROUP_CHAT_NAME = "QA Loop pilot"
TEAM_ID = "19:qaloop-team-general@thread.tacv2"  # also the General channel's conversation id
TEAM_NAME = "Children's Services QA"
TEAM_AAD_GROUP_ID = "00000000-0000-0000-0000-000000000031"
CHANNEL_ID = "19:qaloop-team-audits@thread.tacv2"
CHANNEL_NAME = "Audits"


@dataclass(frozen=True)
class Person:
    """A mock tenant user; `user_id` is what the bot sees as `from.id`."""

    index: int
    name: str
    given_name: str
    surname: str
    email: str

    @property
    def user_id(self) -> str:
        # The playground's own convention ("user-id-N"). Its mock connector only knows users by
        # this id: creating a 1:1 conversation with an aadObjectId gives a conversation that
        # cannot be posted to (500 UserNotFound).
        return f"user-id-{self.index}"

    @property
    def aad_object_id(self) -> str:
        return f"00000000-0000-0000-0000-00000000000{20 + self.index}"

    @property
    def personal_chat_id(self) -> str:
        return f"a:qaloop-personal-{self.email.split('@')[0]}"


PEOPLE: tuple[Person, ...] = (
    Person(0, "Alex Wilber", "Alex", "Wilber", "alexw@example.com"),
    Person(1, "Megan Bowen", "Megan", "Bowen", "meganb@example.com"),
    Person(2, "Adele Vance", "Adele", "Vance", "adelev@example.com"),
    Person(3, "Isaiah Langer", "Isaiah", "Langer", "isaiahl@example.com"),
    Person(4, "Patti Fernandez", "Patti", "Fernandez", "pattif@example.com"),
    Person(5, "Lynne Robbins", "Lynne", "Robbins", "lynner@example.com"),
)


def person(who: int | str) -> Person:
    """Look a person up by index, given name, full name or email (case-insensitive)."""
    if isinstance(who, int):
        return PEOPLE[who]
    key = who.casefold()
    for p in PEOPLE:
        if key in (p.given_name.casefold(), p.name.casefold(), p.email.casefold()):
            return p
    raise KeyError(f"no mock user {who!r}; known: {', '.join(p.given_name for p in PEOPLE)}")


def _user(p: Person) -> dict[str, str]:
    return {
        "id": p.user_id,
        "name": p.name,
        "userPrincipleName": p.email,  # sic: the playground's schema spells it this way
        "aadObjectId": p.aad_object_id,
        "givenName": p.given_name,
        "surname": p.surname,
        "email": p.email,
    }


def config_for(
    current_user: int | str, *, bot_id: str = BOT_ID, bot_name: str = BOT_NAME
) -> dict[str, Any]:
    """The config as data. The schema demands exactly five other users and at most one extra channel."""
    me = person(current_user)
    return {
        "version": "0.1.1",
        "tenantId": TENANT_ID,
        "bot": {"id": bot_id, "name": bot_name},
        "currentUser": _user(me),
        "users": [_user(p) for p in PEOPLE if p != me],
        "personalChat": {"id": me.personal_chat_id},
        "groupChat": {"id": GROUP_CHAT_ID, "name": GROUP_CHAT_NAME},
        "team": {
            "id": TEAM_ID,
            "name": TEAM_NAME,
            "aadGroupId": TEAM_AAD_GROUP_ID,
            "channels": [{"id": CHANNEL_ID, "name": CHANNEL_NAME}],
        },
    }


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and strings; scalars are JSON-quoted, which YAML accepts."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {json.dumps(item)}")
    elif isinstance(value, list):
        for item in value:
            nested = to_yaml(item, indent + 1).lstrip()
            lines.append(f"{pad}- {nested}")
    else:
        lines.append(pad + json.dumps(value))
    return "\n".join(lines)


def write_config(
    path: Path | str,
    *,
    current_user: int | str = 0,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
) -> Path:
    """Write `.m365agentsplayground.yml` for one person and return its path.

    Point the playground at it with M365_AGENTS_PLAYGROUND_CONFIG_PATH (harness.start_playground
    does). `path` may be a directory, in which case the file is named per person.
    """
    target = Path(path)
    me = person(current_user)
    if target.is_dir():
        target = target / f"playground-{me.given_name.lower()}.yml"
    header = (
        "# Generated by tests/e2e/playground_config.py; one playground process per person.\n"
        "# yaml-language-server: $schema=https://aka.ms/teams-app-test-tool-config/0.1.1/config.schema.json\n"
    )
    target.write_text(
        header + to_yaml(config_for(me.index, bot_id=bot_id, bot_name=bot_name)) + "\n"
    )
    return target

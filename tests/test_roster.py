"""Roster sync against a fake connector with a paged team roster: chats opened only if missing."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.schema import Activity, ChannelAccount
from sqlmodel import col, select

from bot.app import build_adapter
from bot.roster import RosterWork, roster_work, sync_stored_teams
from bot.settings import Settings
from storage.conversations import save_reference
from storage.db import SessionMaker, transaction
from storage.models import AuditLog, ConversationRef, Staff
from tests.chat import ALEX, MEGAN, TENANT, Chat, Person
from tests.fake_connector import FakeConnector
from tests.helpers import Council, small_council

PAT = Person("Pat Okafor", "00000000-0000-0000-0000-0000000000022", "29:pat", "pat@example.com")
VISITOR = Person("Vic Tor", "00000000-0000-0000-0000-0000000000099", "29:vic", "vic@elsewhere.org")
TEAM = "19:team-safeguarding@thread.tacv2"


def account(person: Person, *, with_aad: bool) -> dict[str, Any]:
    member: dict[str, Any] = {
        "id": person.teams_id,
        "name": person.name,
        "email": person.email,
        "userPrincipalName": person.email,
        "tenantId": TENANT,
        "userRole": "user",
    }
    if with_aad:
        member["aadObjectId"] = person.aad
    return member


@dataclass
class RosterConnector(FakeConnector):
    """The fake connector plus Teams' paged roster. Like the Agents Playground's, the roster may
    leave a member's Entra id out; the single-member lookup always has it."""

    roster: list[dict[str, Any]] = field(default_factory=list)
    page_requests: list[dict[str, str]] = field(default_factory=list)
    # Teams ids whose 1:1 chat cannot be created, and the status Teams answers.
    refuse_chat: dict[str, int] = field(default_factory=dict)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_or_refuse)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.service_url = f"http://127.0.0.1:{port}/"

    def people(self, *entries: tuple[Person, bool]) -> None:
        """Put people in the team: (person, whether the paged roster shows their Entra id)."""
        for person, with_aad in entries:
            self.roster.append(account(person, with_aad=with_aad))
            self.members[person.teams_id] = account(person, with_aad=True)

    async def _paged(self, request: web.Request) -> web.Response:
        self.page_requests.append(dict(request.query))
        size = int(request.query.get("pageSize", "500"))
        start = int(request.query.get("continuationToken", "0"))
        page: dict[str, Any] = {"members": self.roster[start : start + size]}
        if start + size < len(self.roster):
            page["continuationToken"] = str(start + size)
        return web.json_response(page)

    async def _create_or_refuse(self, request: web.Request) -> web.Response:
        body = await request.json()
        member = body["members"][0]["id"]
        if member in self.refuse_chat:
            status = self.refuse_chat[member]
            return web.json_response({"error": {"code": "Forbidden"}}, status=status)
        self.created_conversations.append(body)
        return web.json_response({"id": f"a:personal-{member}"}, status=201)


pytestmark = pytest.mark.connector.with_args(RosterConnector)


async def council_with_pat(sessions: SessionMaker) -> Council:
    """Alex and Megan, and Pat, who is on the staff roster but has never used Teams with us."""
    council = await small_council(sessions)
    async with transaction(sessions) as session:
        pat = Staff(
            tenant_id=council.tenant_id,
            email="Pat@Example.com",
            display_name=PAT.name,
            team_id=council.team_id,
        )
        session.add(pat)
    council.staff["pat"] = pat
    return council


async def personal_chats(sessions: SessionMaker) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.exec(
            select(ConversationRef).where(ConversationRef.conversation_type == "personal")
        )
        return {r.staff_id: r.conversation_id for r in rows if r.staff_id is not None}


async def store_chat(sessions: SessionMaker, council: Council, who: str, url: str) -> None:
    async with transaction(sessions) as session:
        await save_reference(
            session=session,
            tenant_id=council.tenant_id,
            conversation_id=f"a:existing-{who}",
            conversation_type="personal",
            service_url=url,
            reference={},
            staff_id=council.staff[who].id,
        )


async def store_team(sessions: SessionMaker, council: Council, url: str) -> None:
    """The team's channel reference, as the install stored it."""
    async with transaction(sessions) as session:
        await save_reference(
            session=session,
            tenant_id=council.tenant_id,
            conversation_id=TEAM,
            conversation_type="channel",
            service_url=url,
            reference={
                "bot": {"id": "28:qaloop-bot", "name": "QA Loop"},
                "conversation": {"id": TEAM, "conversationType": "channel", "isGroup": True},
                "channelId": "msteams",
                "serviceUrl": url,
            },
            team_aad_group_id="5b8c2a1e-0000-4000-8000-000000000001",
        )


async def sync(settings: Settings, sessions: SessionMaker) -> Any:
    async with aiohttp.ClientSession() as http:
        adapter, _, _ = build_adapter(settings, http)
        (outcome,) = await sync_stored_teams(adapter=adapter, sessions=sessions, app_id="")
    return outcome


async def test_sync_roster_pages_through_the_team_and_opens_only_the_missing_chats(
    connector: RosterConnector, sessions: SessionMaker, settings: Settings
) -> None:
    council = await council_with_pat(sessions)
    connector.people((ALEX, True), (MEGAN, False), (PAT, False), (VISITOR, True))
    await store_chat(sessions, council, "megan", connector.service_url)
    await store_team(sessions, council, connector.service_url)

    outcome = await sync(settings, sessions)

    assert outcome.error is None and outcome.result is not None
    done = outcome.result
    assert (done.members, done.staff, done.bound, done.had_chat, done.created, done.failed) == (
        4,
        3,
        1,
        1,
        2,
        0,
    )
    assert len(connector.page_requests) == 1
    created = [c["members"] for c in connector.created_conversations]
    assert created == [[{"id": ALEX.teams_id}], [{"id": PAT.teams_id}]]
    assert all(c["isGroup"] is False for c in connector.created_conversations)
    assert all(c["channelData"]["tenant"]["id"] == TENANT for c in connector.created_conversations)
    ids = {k: v.id for k, v in council.staff.items()}
    assert await personal_chats(sessions) == {
        ids["alex"]: "a:personal-29:alex",
        ids["megan"]: "a:existing-megan",
        ids["pat"]: "a:personal-29:pat",
    }
    async with sessions() as session:
        pat = await session.get(Staff, ids["pat"])
        bound = (await session.exec(select(AuditLog).where(AuditLog.event == "staff.bound"))).all()
    assert pat is not None and pat.aad_object_id == PAT.aad
    assert [b.entity_id for b in bound] == [str(ids["pat"])]

    again = await sync(settings, sessions)
    assert again.result is not None and again.result.created == 0
    assert len(connector.created_conversations) == 2


async def test_a_big_roster_is_read_page_by_page_with_continuation_tokens(
    connector: RosterConnector, sessions: SessionMaker, settings: Settings
) -> None:
    council = await small_council(sessions)
    strangers = [
        Person(f"Person {n}", f"aad-{n}", f"29:p{n}", f"p{n}@elsewhere.org") for n in range(450)
    ]
    connector.people(*((p, True) for p in strangers), (ALEX, False))
    await store_team(sessions, council, connector.service_url)

    outcome = await sync(settings, sessions)

    assert [p.get("continuationToken") for p in connector.page_requests] == [None, "200", "400"]
    assert {p["pageSize"] for p in connector.page_requests} == {"200"}
    assert outcome.result is not None
    assert (outcome.result.members, outcome.result.staff, outcome.result.created) == (451, 1, 1)


async def test_a_member_teams_will_not_open_a_chat_with_is_counted_and_the_rest_go_on(
    connector: RosterConnector, sessions: SessionMaker, settings: Settings
) -> None:
    council = await council_with_pat(sessions)
    connector.people((ALEX, True), (PAT, True))
    connector.refuse_chat[ALEX.teams_id] = 403
    await store_team(sessions, council, connector.service_url)

    outcome = await sync(settings, sessions)

    assert outcome.result is not None
    assert (outcome.result.created, outcome.result.failed) == (1, 1)
    assert list((await personal_chats(sessions)).values()) == ["a:personal-29:pat"]


async def wait_for_chats(sessions: SessionMaker, count: int) -> dict[int, str]:
    """Roster sync runs after the install's turn; give it a moment."""
    for _ in range(200):
        chats = await personal_chats(sessions)
        if len(chats) >= count:
            return chats
        await asyncio.sleep(0.025)
    raise AssertionError(f"expected {count} chats, have {await personal_chats(sessions)}")


async def test_installing_the_bot_in_a_team_opens_chats_for_members_who_have_none(
    chat: Chat, connector: RosterConnector, sessions: SessionMaker
) -> None:
    council = await council_with_pat(sessions)
    connector.people((ALEX, False), (MEGAN, True), (PAT, False))
    await store_chat(sessions, council, "megan", connector.service_url)

    answer = await chat.post(chat.activity("team_install", who=MEGAN))

    assert answer.status in (200, 201)
    chats = await wait_for_chats(sessions, 3)
    assert sorted(chats.values()) == ["a:existing-megan", "a:personal-29:alex", "a:personal-29:pat"]
    assert [c["members"] for c in connector.created_conversations] == [
        [{"id": ALEX.teams_id}],
        [{"id": PAT.teams_id}],
    ]
    async with sessions() as session:
        channel = (
            await session.exec(
                select(ConversationRef).where(col(ConversationRef.conversation_id) == TEAM)
            )
        ).one()
    assert channel.conversation_type == "channel"


async def test_someone_joining_a_team_the_bot_is_in_gets_a_chat(
    chat: Chat, connector: RosterConnector, sessions: SessionMaker
) -> None:
    council = await council_with_pat(sessions)
    connector.people((MEGAN, True), (PAT, False))
    await store_chat(sessions, council, "megan", connector.service_url)
    joined = chat.activity("team_install", who=MEGAN)
    joined["membersAdded"] = [{"id": PAT.teams_id}]

    await chat.post(joined)

    chats = await wait_for_chats(sessions, 2)
    assert chats[council.staff["pat"].id or 0] == "a:personal-29:pat"
    assert connector.page_requests == []  # only the newcomer was looked up


async def test_qaloop_sync_roster_reports_each_team(
    connector: RosterConnector, sessions: SessionMaker, database_url: str
) -> None:
    council = await council_with_pat(sessions)
    connector.people((ALEX, True), (PAT, False))
    await store_team(sessions, council, connector.service_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QALOOP_")}
    env["QALOOP_DATABASE_URL"] = database_url

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sync-roster",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    said = " ".join(out.decode().split())
    assert "2 members, 2 on the staff roster (1 newly matched); 2 chats opened" in said
    assert len(await personal_chats(sessions)) == 2


def test_what_starts_a_roster_sync() -> None:
    team = {"team": {"id": TEAM}, "tenant": {"id": TENANT}}
    bot = ChannelAccount(id="28:qaloop-bot")

    def activity(**fields: Any) -> Activity:
        return Activity(recipient=bot, channel_data=team, **fields)

    assert roster_work(activity(type="installationUpdate", action="add")) == RosterWork(TEAM)
    assert roster_work(activity(type="installationUpdate", action="remove")) is None
    assert roster_work(activity(type="conversationUpdate", members_added=[bot])) == RosterWork(TEAM)
    assert roster_work(
        activity(type="conversationUpdate", members_added=[ChannelAccount(id=PAT.teams_id)])
    ) == RosterWork(TEAM, (PAT.teams_id,))
    assert roster_work(activity(type="conversationUpdate", members_removed=[bot])) is None
    assert roster_work(activity(type="message", text="hello")) is None
    personal = Activity(
        type="installationUpdate", action="add", recipient=bot, channel_data={"tenant": {}}
    )
    assert roster_work(personal) is None

"""Helpers for the allocation and assignment tests: an assigned audit with its cards queued, a card
as posted, and running the qaloop CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlmodel import col, select

from bot.services.allocation import send_assigned
from storage.db import SessionMaker, transaction
from storage.models import Audit, ConversationRef, SentCard
from tests.action_helpers import NOW, TODAY
from tests.audit_helpers import AuditCouncil, add_assigned_audit
from tests.chat import Person

DUE = date(2026, 12, 18)


async def assigned(
    sessions: SessionMaker,
    council: AuditCouncil,
    *,
    auditor: str = "diego",
    team: str = "North",
    case_index: int = 0,
    state: str = "assigned",
) -> int:
    """An audit given to `auditor`, its assigned card and copies queued as allocation does."""
    audit = await add_assigned_audit(
        sessions,
        council,
        team=team,
        case_index=case_index,
        auditor=auditor,
        due_on=DUE,
        state=state,
    )
    assert audit.id is not None
    async with transaction(sessions) as session:
        await send_assigned(
            session, tenant_id=council.tenant_id, audit_id=audit.id, today=TODAY, now=NOW
        )
    return audit.id


async def audit_row(sessions: SessionMaker, audit_id: int) -> Audit:
    async with sessions() as session:
        audit = await session.get(Audit, audit_id)
        assert audit is not None
        return audit


async def audits(sessions: SessionMaker) -> list[Audit]:
    async with sessions() as session:
        return list((await session.exec(select(Audit).order_by(col(Audit.id)))).all())


async def post_card(
    sessions: SessionMaker,
    tenant_id: str,
    person: Person,
    *,
    kind: str,
    subject: str,
    activity_id: str,
) -> None:
    """A card the outbox has posted to the person's chat, as the delivery engine records it."""
    await post_cards(
        sessions, tenant_id, person, kind=kind, subjects=[subject], activity_id=activity_id
    )


async def post_cards(
    sessions: SessionMaker,
    tenant_id: str,
    person: Person,
    *,
    kind: str,
    subjects: list[str],
    activity_id: str,
) -> None:
    """One card posted to the person's chat, recorded under each of its subjects."""
    async with transaction(sessions) as session:
        ref = (
            await session.exec(
                select(ConversationRef).where(
                    ConversationRef.conversation_id == f"a:personal-{person.teams_id}"
                )
            )
        ).one()
        assert ref.id is not None
        session.add_all(
            SentCard(
                tenant_id=tenant_id,
                subject=subject,
                conversation_ref_id=ref.id,
                activity_id=activity_id,
                kind=kind,
            )
            for subject in subjects
        )


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def said(self) -> str:
        return " ".join((self.out + " " + self.err).split())


async def qaloop(database_url: str, cwd: Path, *args: str) -> Ran:
    """Run the qaloop CLI against the test database, with no other QALOOP_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QALOOP_")}
    env |= {"QALOOP_DATABASE_URL": database_url, "COLUMNS": "200", "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())

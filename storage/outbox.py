"""The outbox: proactive messages are enqueued here and sent at most once by bot.delivery."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, bindparam, delete, event, insert, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cards.delivery_alert import DeliveryTrouble
from storage import audit_log
from storage.models import ConversationRef, Delivery, DeliveryAttempt, SentCard, Staff


class State:
    PENDING = "pending"
    RETRY = "retry"
    # Committed before the request goes out: found with an expired lease, its outcome is unknown.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


CLAIMABLE = (State.PENDING, State.RETRY, State.SENDING)

# Senders in this process, woken when deliveries are committed here (see notify).
_wake_senders: list[Callable[[], None]] = []


def notify() -> None:
    """Wake this process's sender now rather than at its next poll (enqueue does this by itself
    once its transaction commits)."""
    for wake in tuple(_wake_senders):
        wake()


def on_notify(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` on every notify(); returns the function that stops it."""
    _wake_senders.append(wake)
    return lambda: _wake_senders.remove(wake)


def _notify_after_commit(session: AsyncSession) -> None:
    if session.info.get("outbox_notify"):
        return
    session.info["outbox_notify"] = True

    def committed(_session: object) -> None:
        session.info.pop("outbox_notify", None)
        notify()

    event.listen(session.sync_session, "after_commit", committed, once=True)


async def enqueue(
    session: AsyncSession,
    *,
    tenant_id: str,
    dedupe_key: str,
    kind: str,
    conversation_ref_id: int,
    summary: str,
    card: dict[str, Any],
    recipient_staff_id: int | None = None,
    subjects: list[str] | None = None,
    replaces_activity_id: str | None = None,
) -> bool:
    """Queue one message; False (and nothing written) when its dedupe key was queued before.

    The dedupe key names the message, e.g. "my_qa:<staff id>:2026-11-26": the same key is never
    sent twice, however often a job or a button asks for it. The sender is woken on commit.
    """
    values = {
        "tenant_id": tenant_id,
        "dedupe_key": dedupe_key,
        "kind": kind,
        "conversation_ref_id": conversation_ref_id,
        "summary": summary,
        "card": card,
        "recipient_staff_id": recipient_staff_id,
        "subjects": subjects,
        "replaces_activity_id": replaces_activity_id,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Delivery)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
    )
    result = await session.exec(statement)
    if result.rowcount:
        _notify_after_commit(session)
    return bool(result.rowcount)


async def cards_showing(
    session: AsyncSession, *, tenant_id: str, subject: str
) -> list[tuple[SentCard, ConversationRef]]:
    """The cards already posted that show this subject, newest first, with where they are."""
    result = await session.exec(_CARDS_SHOWING, params={"tenant_id": tenant_id, "subject": subject})
    return list(result.all())


# Read on every press, written on every `my actions` (storage.db, prebuilt statements).
_CARDS_SHOWING = (
    select(SentCard, ConversationRef)
    .join(ConversationRef, col(ConversationRef.id) == col(SentCard.conversation_ref_id))
    .where(SentCard.tenant_id == bindparam("tenant_id"), SentCard.subject == bindparam("subject"))
    .order_by(col(SentCard.sent_at).desc())
)
_RECORD_POSTED = sa.insert(SentCard.__table__)  # type: ignore[attr-defined]


async def record_posted(
    session: AsyncSession,
    *,
    tenant_id: str,
    conversation_id: str,
    activity_id: str,
    kind: str,
    subjects: Iterable[str],
    at: datetime,
    reference_id: int | None = None,
) -> int:
    """Keep track of a card posted in answer to someone (a list they asked for), as the sender
    does for the cards it delivers; how many subjects were recorded (0 if the conversation is
    not one we have stored). `reference_id`, the conversation's stored row if the caller knows
    it, saves reading it."""
    ref = (
        reference_id
        or (
            await session.exec(
                select(ConversationRef.id).where(
                    ConversationRef.tenant_id == tenant_id,
                    ConversationRef.conversation_id == conversation_id,
                )
            )
        ).first()
    )
    if ref is None:
        return 0
    shown = list(dict.fromkeys(subjects))
    # One statement for the lot, without reading the new ids back (on the hot path of a turn).
    connection = await session.connection()
    await connection.execute(
        _RECORD_POSTED,
        [
            {
                "tenant_id": tenant_id,
                "subject": subject,
                "conversation_ref_id": ref,
                "activity_id": activity_id,
                "kind": kind,
                "sent_at": at,
            }
            for subject in shown
        ],
    )
    return len(shown)


async def forget_posted(
    session: AsyncSession, *, tenant_id: str, kinds: Iterable[str], before: datetime
) -> None:
    """Stop keeping track of posted cards of `kinds` sent before `before`."""
    await session.exec(
        delete(SentCard).where(
            col(SentCard.tenant_id) == tenant_id,
            col(SentCard.kind).in_(list(kinds)),
            col(SentCard.sent_at) < before,
        )
    )


async def subjects_of(
    session: AsyncSession, *, tenant_id: str, conversation_ref_id: int, activity_id: str
) -> set[str]:
    """Everything one posted card shows ("action:12", "audit:3"...)."""
    result = await session.exec(
        select(SentCard.subject).where(
            SentCard.tenant_id == tenant_id,
            SentCard.conversation_ref_id == conversation_ref_id,
            SentCard.activity_id == activity_id,
        )
    )
    return set(result.all())


# --- what the sender needs ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery with where it goes."""

    delivery: Delivery
    # None when the stored reference is missing or belongs to another tenant.
    conversation: ConversationRef | None
    # False when the recipient is known to be unreachable (channel posts are always reachable).
    reachable: bool
    # It was being sent when its sender stopped: it may already have arrived.
    recovered: bool


async def claim_due(
    *,
    session: AsyncSession,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    per_conversation: int,
    exclude_conversations: Sequence[int] = (),
) -> list[Due]:
    """Lease up to `limit` due deliveries (any tenant; each row carries its own) to `owner`:
    those already tried first, so a message that was refused once does not queue again behind
    a whole fan-out, then new ones, each oldest first; at most `per_conversation` for any one
    conversation, whose pace Teams limits, so a burst to one channel cannot crowd out the rest.

    On PostgreSQL rows another replica is claiming are skipped, not waited for. A row left
    "sending" by a sender whose lease ran out comes back marked ambiguous, with an attempt row
    saying its last outcome is unknown.
    """
    ids: list[int] = []
    # One state at a time, so each query reads its ids in order off ix_delivery_state_next and
    # stops at `limit`: no sort of every due row (a fan-out's are thousands, cards and all).
    for state in (State.RETRY, State.SENDING, State.PENDING):
        if len(ids) >= limit:
            break
        statement = (
            select(Delivery.id)
            .where(
                col(Delivery.state) == state,
                col(Delivery.next_attempt_at) <= now,
                or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
            )
            .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
            .limit(limit - len(ids))
            .with_for_update(skip_locked=True)
        )
        if exclude_conversations:
            statement = statement.where(
                col(Delivery.conversation_ref_id).not_in(list(exclude_conversations))
            )
        ids += [i for i in (await session.exec(statement)).all() if i is not None]
    if not ids:
        return []
    found = await session.exec(
        select(Delivery, ConversationRef, Staff.reachable)
        .outerjoin(
            ConversationRef,
            and_(
                col(ConversationRef.id) == col(Delivery.conversation_ref_id),
                col(ConversationRef.tenant_id) == col(Delivery.tenant_id),
            ),
        )
        .outerjoin(
            Staff,
            and_(
                col(Staff.id) == col(Delivery.recipient_staff_id),
                col(Staff.tenant_id) == col(Delivery.tenant_id),
            ),
        )
        .where(col(Delivery.id).in_(ids))
    )
    order = {delivery_id: n for n, delivery_id in enumerate(ids)}
    rows = sorted(found.all(), key=lambda row: order[row[0].id or 0])
    claimed: list[Due] = []
    taken: Counter[int] = Counter()
    for delivery, conversation, reachable in rows:
        # The sender changes its copy as it goes and writes what it means by statements.
        session.expunge(delivery)
        taken[delivery.conversation_ref_id] += 1
        if taken[delivery.conversation_ref_id] > per_conversation:
            continue  # left unleased for a later claim
        claimed.append(
            Due(delivery, conversation, reachable is not False, delivery.state == State.SENDING)
        )
    leased = [due.delivery.id for due in claimed if due.delivery.id is not None]
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id).in_(leased))
        .values(lease_owner=owner, lease_until=lease_until)
    )
    recovered = [due.delivery for due in claimed if due.recovered]
    if recovered:
        await session.exec(
            update(Delivery)
            .where(col(Delivery.id).in_([d.id for d in recovered]))
            .values(ambiguous=True, state=State.RETRY)
        )
    for due in claimed:
        due.delivery.lease_owner = owner
        due.delivery.lease_until = lease_until
    for delivery in recovered:
        delivery.ambiguous = True
        delivery.state = State.RETRY
        record_attempt(
            session,
            delivery=delivery,
            status=None,
            error="outcome unknown: the sender stopped while sending",
        )
    return claimed


async def release_leases(*, session: AsyncSession) -> int:
    """Forget every lease: only for a sender that knows it is the only one (SQLite), at start-up."""
    result = await session.exec(
        update(Delivery)
        .where(col(Delivery.state).in_(CLAIMABLE), col(Delivery.lease_owner).is_not(None))
        .values(lease_owner=None, lease_until=None)
    )
    return int(result.rowcount)


async def release(
    *, session: AsyncSession, owner: str, ids: Sequence[int], not_before: datetime | None = None
) -> None:
    """Hand claimed deliveries back unsent (no attempt counted), optionally not before a time."""
    if not ids:
        return
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
    if not_before is not None:
        # Claimed rows were due already, so a later time only ever moves them on.
        values["next_attempt_at"] = not_before
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id).in_(list(ids)), col(Delivery.lease_owner) == owner)
        .values(**values)
    )


async def mark_sending(
    *, session: AsyncSession, owner: str, ids: Sequence[int], lease_until: datetime
) -> set[int]:
    """Commit "about to send" (one more attempt, a fresh lease) for the deliveries still leased
    to `owner`; returns those ids. Anything not returned must not be sent."""
    if not ids:
        return set()
    result = await session.exec(
        update(Delivery)
        .where(
            col(Delivery.id).in_(list(ids)),
            col(Delivery.lease_owner) == owner,
            col(Delivery.state).in_(CLAIMABLE),
        )
        .values(state=State.SENDING, attempts=col(Delivery.attempts) + 1, lease_until=lease_until)
        .returning(col(Delivery.id))
    )
    return {int(row[0]) for row in result.all()}


def record_attempt(
    session: AsyncSession, *, delivery: Delivery, status: int | None, error: str | None
) -> None:
    """One line of the delivery log: this attempt's HTTP status (None: no answer) and why."""
    assert delivery.id is not None
    session.add(
        DeliveryAttempt(
            tenant_id=delivery.tenant_id,
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            status=status,
            error=error[:500] if error else None,
        )
    )


@dataclass(frozen=True, slots=True)
class Sent:
    """A delivery Teams accepted, as the sender saw it."""

    delivery: Delivery
    status: int
    activity_id: str
    at: datetime
    ambiguous: bool


_MARK_SENT = (
    update(Delivery)
    .where(col(Delivery.id) == bindparam("b_id"), col(Delivery.tenant_id) == bindparam("b_tenant"))
    .values(
        state=State.SENT,
        activity_id=bindparam("b_activity_id"),
        sent_at=bindparam("b_at"),
        last_status=bindparam("b_status"),
        ambiguous=bindparam("b_ambiguous"),
        last_error=None,
        lease_owner=None,
        lease_until=None,
    )
)


async def mark_sent(*, session: AsyncSession, sent: Sequence[Sent]) -> None:
    """Sent: whoever holds the lease now, this is the truth, so no other sender may send it.
    The lot in three statements (the deliveries, their log lines, the cards now posted) plus
    one per update of a posted card: a round trip per row was what PostgreSQL's sender spent
    its time on."""
    if not sent:
        return
    connection = await session.connection()
    await connection.execute(
        _MARK_SENT,
        [
            {
                "b_id": s.delivery.id,
                "b_tenant": s.delivery.tenant_id,
                "b_activity_id": s.activity_id,
                "b_at": s.at,
                "b_status": s.status,
                "b_ambiguous": s.ambiguous or s.delivery.ambiguous,
            }
            for s in sent
        ],
    )
    await connection.execute(
        insert(DeliveryAttempt),
        [
            {
                "tenant_id": s.delivery.tenant_id,
                "delivery_id": s.delivery.id,
                "attempt": s.delivery.attempts,
                "status": s.status,
                "error": None,
                "at": s.at,
            }
            for s in sent
        ],
    )
    cards = [row for s in sent for row in await _sent_cards(session, s)]
    if cards:
        await connection.execute(insert(SentCard), cards)


async def _sent_cards(session: AsyncSession, sent: Sent) -> list[dict[str, Any]]:
    """The SentCard rows a delivery adds: one per subject it shows, new to its card."""
    delivery = sent.delivery
    subjects = list(dict.fromkeys(delivery.subjects or []))
    if subjects and delivery.replaces_activity_id is not None:
        # An update keeps its activity id: only subjects new to that card need a row.
        known = await session.exec(
            select(SentCard.subject).where(
                col(SentCard.tenant_id) == delivery.tenant_id,
                SentCard.conversation_ref_id == delivery.conversation_ref_id,
                SentCard.activity_id == sent.activity_id,
            )
        )
        subjects = [s for s in subjects if s not in set(known.all())]
    return [
        {
            "tenant_id": delivery.tenant_id,
            "subject": subject,
            "conversation_ref_id": delivery.conversation_ref_id,
            "activity_id": sent.activity_id,
            "kind": delivery.kind,
            "sent_at": sent.at,
        }
        for subject in subjects
    ]


async def mark_retry(
    *,
    session: AsyncSession,
    owner: str,
    delivery: Delivery,
    status: int | None,
    error: str,
    next_attempt_at: datetime,
    ambiguous: bool,
) -> None:
    await _unsent(
        session,
        owner,
        delivery,
        status,
        error,
        ambiguous,
        state=State.RETRY,
        next_attempt_at=next_attempt_at,
    )


async def mark_failed(
    *,
    session: AsyncSession,
    owner: str,
    delivery: Delivery,
    status: int | None,
    error: str,
    at: datetime,
    ambiguous: bool = False,
) -> None:
    """Given up on: never retried by the sender (`qaloop outbox retry` may queue it again)."""
    await _unsent(session, owner, delivery, status, error, ambiguous, state=State.FAILED, at=at)


async def _unsent(
    session: AsyncSession,
    owner: str,
    delivery: Delivery,
    status: int | None,
    error: str,
    ambiguous: bool,
    *,
    state: str,
    next_attempt_at: datetime | None = None,
    at: datetime | None = None,
) -> None:
    assert delivery.id is not None
    values: dict[str, Any] = {
        "state": state,
        "last_status": status,
        "last_error": error[:500],
        "lease_owner": None,
        "lease_until": None,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if state == State.FAILED:
        values["failed_at"] = at
    if ambiguous:
        values["ambiguous"] = True
    # Only while still ours: a replica that took over an expired lease may be sending it now.
    await session.exec(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery.id,
            col(Delivery.tenant_id) == delivery.tenant_id,
            col(Delivery.lease_owner) == owner,
        )
        .values(**values)
    )


async def mark_unreachable(
    *, session: AsyncSession, tenant_id: str, staff_id: int, at: datetime, status: int
) -> bool:
    """Teams said 403/404: the app is gone for this person until they message the bot again."""
    result = await session.exec(
        update(Staff)
        .where(
            col(Staff.id) == staff_id,
            col(Staff.tenant_id) == tenant_id,
            col(Staff.reachable).is_(True),
        )
        .values(reachable=False, unreachable_since=at)
    )
    if not result.rowcount:
        return False
    audit_log.record(
        session,
        tenant_id=tenant_id,
        actor_id=None,
        event="staff.unreachable",
        entity="staff",
        entity_id=staff_id,
        before={"reachable": True},
        after={"reachable": False, "status": status},
    )
    return True


async def unreachable(*, session: AsyncSession, tenant_id: str) -> list[Staff]:
    """People the bot cannot reach (removed or blocked the app), longest unreachable first."""
    result = await session.exec(
        select(Staff)
        .where(
            col(Staff.tenant_id) == tenant_id,
            col(Staff.reachable).is_(False),
            col(Staff.active).is_(True),
        )
        .order_by(col(Staff.unreachable_since), col(Staff.display_name))
    )
    return list(result.all())


async def ambiguous_count(*, session: AsyncSession, tenant_id: str) -> int:
    """Deliveries that may have arrived twice: a 504, a dropped connection or a crash mid-send."""
    result = await session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.tenant_id == tenant_id, col(Delivery.ambiguous).is_(True))
    )
    return int(result.one())


async def trouble(
    *, session: AsyncSession, tenant_id: str, since: datetime, until: datetime
) -> DeliveryTrouble:
    """What went wrong with deliveries in [since, until): given up on, of those refused for the
    bot's credentials, and people who became unreachable (still so, and still staff)."""
    failed = (
        select(func.count())
        .select_from(Delivery)
        .where(
            col(Delivery.tenant_id) == tenant_id,
            col(Delivery.state) == State.FAILED,
            col(Delivery.failed_at) >= since,
            col(Delivery.failed_at) < until,
        )
    )
    dead = (await session.exec(failed)).one()
    refused = (await session.exec(failed.where(col(Delivery.last_status) == 401))).one()
    gone = await session.exec(
        select(func.count())
        .select_from(Staff)
        .where(
            col(Staff.tenant_id) == tenant_id,
            col(Staff.active).is_(True),
            col(Staff.reachable).is_(False),
            col(Staff.unreachable_since) >= since,
            col(Staff.unreachable_since) < until,
        )
    )
    return DeliveryTrouble(int(dead), int(refused), int(gone.one()))


# --- what an operator sees and does (`qaloop outbox`) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """A delivery given up on, as an operator reads it: no card, no preview text."""

    id: int
    kind: str
    recipient: str | None
    created_at: datetime
    attempts: int
    last_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    by_state: dict[str, int]
    # Sent or given up after an answer that may have meant it arrived (counted once each).
    ambiguous: int
    # When the oldest delivery still waiting to be sent was queued.
    oldest_waiting: datetime | None
    failures: list[Failure]


async def status(*, session: AsyncSession, tenant_id: str, failures: int = 10) -> OutboxStatus:
    """Counts by state and the latest deliveries given up on, newest first."""
    counts = await session.exec(
        select(Delivery.state, func.count())
        .where(Delivery.tenant_id == tenant_id)
        .group_by(col(Delivery.state))
    )
    waiting = await session.exec(
        select(func.min(Delivery.created_at)).where(
            Delivery.tenant_id == tenant_id, col(Delivery.state).in_(CLAIMABLE)
        )
    )
    failed = await session.exec(
        select(Delivery, Staff.display_name)
        .outerjoin(Staff, col(Staff.id) == col(Delivery.recipient_staff_id))
        .where(Delivery.tenant_id == tenant_id, Delivery.state == State.FAILED)
        .order_by(col(Delivery.created_at).desc(), col(Delivery.id).desc())
        .limit(failures)
    )
    return OutboxStatus(
        by_state={state: n for state, n in counts.all()},
        ambiguous=await ambiguous_count(session=session, tenant_id=tenant_id),
        oldest_waiting=waiting.one(),
        failures=[
            Failure(
                id=d.id or 0,
                kind=d.kind,
                recipient=name,
                created_at=d.created_at,
                attempts=d.attempts,
                last_status=d.last_status,
                last_error=d.last_error,
            )
            for d, name in failed.all()
        ],
    )


@dataclass(frozen=True, slots=True)
class Requeued:
    ids: list[int]
    # (delivery id, why it was not queued again)
    refused: list[tuple[int, str]]


async def requeue_failed(
    *,
    session: AsyncSession,
    tenant_id: str,
    ids: Sequence[int] = (),
    failed_since: datetime | None = None,
    now: datetime,
) -> Requeued:
    """Send again deliveries given up on (by id, or all given up on since a moment), for example
    after wrong credentials were put right. Only what surely never arrived: a delivery that may
    have arrived (ambiguous) is not sent twice, and nothing goes to someone still unreachable."""
    query = (
        select(Delivery, Staff)
        .outerjoin(Staff, col(Staff.id) == col(Delivery.recipient_staff_id))
        .where(Delivery.tenant_id == tenant_id)
        .with_for_update(of=Delivery)
        .order_by(col(Delivery.id))
    )
    if ids:
        query = query.where(col(Delivery.id).in_(ids))
    else:
        assert failed_since is not None
        query = query.where(
            Delivery.state == State.FAILED, col(Delivery.created_at) >= failed_since
        )
    rows = (await session.exec(query)).all()  # in id order
    found = {delivery.id for delivery, _ in rows}
    requeued: list[int] = []
    refused: list[tuple[int, str]] = [(i, "no such delivery") for i in ids if i not in found]
    for delivery, person in rows:
        delivery_id = delivery.id or 0
        why = _why_not_again(delivery, person)
        if why is not None:
            refused.append((delivery_id, why))
            continue
        before = {
            "state": delivery.state,
            "attempts": delivery.attempts,
            "last_status": delivery.last_status,
        }
        delivery.state = State.PENDING
        delivery.failed_at = None
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.lease_until = None
        delivery.lease_owner = None
        session.add(delivery)
        audit_log.record(
            session,
            tenant_id=tenant_id,
            actor_id=None,
            event="delivery.requeued",
            entity="delivery",
            entity_id=delivery_id,
            before=before,
            after={"state": State.PENDING},
        )
        requeued.append(delivery_id)
    if requeued:
        _notify_after_commit(session)
    return Requeued(requeued, sorted(refused))


def _why_not_again(delivery: Delivery, person: Staff | None) -> str | None:
    if delivery.state != State.FAILED:
        return "it was sent" if delivery.state == State.SENT else "it is still waiting to be sent"
    if delivery.ambiguous:
        return "it may have arrived (Teams' answer was ambiguous), so it is not sent twice"
    if person is not None and not person.reachable:
        return f"{person.display_name} is still unreachable: they need to message the bot first"
    return None

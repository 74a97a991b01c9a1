"""The Mark done turn for the benchmarks (issue 15): people who press Mark done on `my actions`,
each on an action of their own not yet done, so every invoke writes.

`invoke_templates` gives each client a person with many open actions of their own (added to the
bench's private copy of the seeded database) and `next_invoke` the n-th press's activity body.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.bench.seed import TODAY, Seeded
from tests.chat import payload

# Enough for every press of every round at the speeds seen on a 2-core machine.
PRESSES_PER_CLIENT = 1_500


@dataclass(frozen=True)
class Invoker:
    aad: str
    name: str
    template: bytes
    action_ids: tuple[int, ...]


def invoke_templates(seeded: Seeded, service_url: str, clients: int) -> list[Invoker]:
    """One person per client, each given PRESSES_PER_CLIENT open actions in the bench database."""
    db = sqlite3.connect(seeded.path)
    try:
        people = db.execute(
            "SELECT id, aad_object_id, display_name FROM staff WHERE tenant_id = ? "
            "AND roles = 'practitioner' ORDER BY id LIMIT ?",
            (seeded.tenant_id, clients),
        ).fetchall()
        audit_id = db.execute(
            "SELECT id FROM audit WHERE tenant_id = ? ORDER BY id LIMIT 1", (seeded.tenant_id,)
        ).fetchone()[0]
        created = datetime(2026, 1, 5, tzinfo=UTC).isoformat(" ")
        invokers = []
        # After every seeded action (the full-size database has 150,000 of them).
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM action").fetchone()[0]
        for n, (staff_id, aad, name) in enumerate(people):
            ids = tuple(range(next_id, next_id + PRESSES_PER_CLIENT))
            next_id += PRESSES_PER_CLIENT
            db.executemany(
                "INSERT INTO action (id, tenant_id, audit_id, source, what, measure, owner_id, "
                "standard, due_on, state, created_at) VALUES (?, ?, ?, 'audit', ?, ?, ?, "
                "'plans', ?, 'open', ?)",
                [
                    (
                        i, seeded.tenant_id, audit_id,
                        "Update the child's plan so that every action has an owner and a date",
                        "Seen on the case record", staff_id,
                        (TODAY + timedelta(days=7 + k % 60)).isoformat(), created,
                    )
                    for k, i in enumerate(ids)
                ],
            )  # fmt: skip
            activity = payload("card_action")
            activity["id"] = "@@ID@@"
            activity["serviceUrl"] = service_url
            activity["from"] = {"id": f"29:invoke-{n}", "name": name, "aadObjectId": aad}
            activity["conversation"] = {
                "conversationType": "personal", "tenantId": seeded.tenant_id,
                "id": f"a:personal-invoke-{n}",
            }  # fmt: skip
            activity["channelData"] = {"tenant": {"id": seeded.tenant_id}}
            activity["replyToId"] = f"my-actions-{n}"
            data = {"action": "mark_done", "action_id": "@@ACTION@@", "card": "my_actions"}
            activity["value"] = {
                "action": {"type": "Action.Execute", "title": "Mark done", "verb": "mark_done",
                           "data": data},
                "trigger": "manual",
            }  # fmt: skip
            template = json.dumps(activity).encode().replace(b'"@@ACTION@@"', b"@@ACTION@@")
            invokers.append(Invoker(aad, name, template, ids))
        db.commit()
        return invokers
    finally:
        db.close()


def next_invoke(invokers: list[Invoker], client: int, n: int, tag: str) -> bytes:
    """Client `client`'s n-th press: Mark done on its n-th action, with a unique activity id. The
    echo bots, which press no action, go round the list again (QA Loop never gets that far)."""
    who = invokers[client]
    body = who.template.replace(b"@@ID@@", f"{tag}-{client}-{n}".encode())
    return body.replace(b"@@ACTION@@", str(who.action_ids[n % len(who.action_ids)]).encode())

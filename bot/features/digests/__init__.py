"""Digests & stats: `stats` for this month so far (with the 12-month trends), `stats auditors`
(QA: each auditor's grades beside all auditors'), and the monthly digest and quarterly report
posted to managers and channels."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.digests import handlers
from bot.rules.roles import MANAGERS, Role
from bot.turn import Command
from jobs import digest

FEATURE = Feature(
    name="digests",
    about="stats, the monthly digest and the quarterly report",
    commands=(
        Command(
            "stats",
            "This month so far: compliance, grades, actions, feedback",
            handlers.show_stats,
            aliases=("digest",),
            roles=MANAGERS | {Role.QA},
        ),
        Command(
            "stats auditors",
            "Each auditor's grades over 12 months beside all auditors' (QA team), for example "
            "stats auditors sam",
            handlers.show_auditors,
            roles=frozenset({Role.QA}),
            example="stats auditors",
            menu=(),
        ),
    ),
    jobs=(digest.MONTHLY_JOB, digest.QUARTERLY_JOB),
)

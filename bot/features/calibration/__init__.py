"""Calibration: `calibration` (QA), how far each auditor's and each standard's grades agree with
the moderators' blind grades, flagged where low; and `calibration exercise` (QA), one anonymised
evidence summary every auditor grades, its spread shown to QA."""

from __future__ import annotations

from bot.feature import Feature
from bot.features.calibration import handlers
from bot.payloads import CardAction
from bot.rules.roles import Role
from bot.turn import Command
from cards.names import CardVerb

QA_ONLY = frozenset({Role.QA})

FEATURE = Feature(
    name="calibration",
    about="auditors' agreement with moderators' blind grades, and the calibration exercise",
    commands=(
        Command(
            "calibration",
            "Auditors' and standards' agreement with moderators' blind grades, and the latest "
            "calibration exercise",
            handlers.show_calibration,
            roles=QA_ONLY,
            # Teams' menus hold 10 commands a scope and are full; typed, and listed in `help`.
            menu=(),
        ),
        Command(
            "calibration exercise",
            "Send an anonymised evidence summary for every auditor to grade",
            handlers.send_exercise,
            roles=QA_ONLY,
            example="calibration exercise <anonymised evidence summary>",
            menu=(),
        ),
    ),
    verbs={
        CardVerb.GRADE_CALIBRATION: CardAction(handlers.GradeCalibration, handlers.on_grade),
    },
)

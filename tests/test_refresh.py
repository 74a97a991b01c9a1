"""Cards already posted are updated in place by their kind's rebuilder, in any process."""

from __future__ import annotations

import subprocess
import sys

import bot.actions  # noqa: F401  (as in the bot process: every feature module is loaded)
from bot.refresh import REBUILDERS


def test_a_process_that_has_handled_no_turn_still_knows_how_to_rebuild_every_kind() -> None:
    """`qaloop allocate --reassign` or a job updates cards of kinds other modules own."""
    kinds = sorted(REBUILDERS)
    assert {"audit_assigned", "inadequate_alert", "feedback_form", "my_qa"} <= set(kinds)
    script = (
        "import sys, bot.refresh as r\n"
        "missing = [k for k in sys.argv[1:] if r.rebuilder_for(k) is None]\n"
        "print(','.join(missing))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, *kinds], capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == ""

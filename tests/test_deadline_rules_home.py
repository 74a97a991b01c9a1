"""Each safeguarding rule lives once, in bot/rules/: the meeting and visit deadlines
(bot.rules.deadlines), "due soon" and the escalation ladder (bot.rules.reminders). A second
definition, or a deadline written out in words anywhere else, fails here."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cards", "storage", "jobs")
# The framework's deadlines in words: only bot.rules.deadlines says them, from the tenant's
# settings. (An ordinary action may well say "within 5 working days" in its measure.)
DEADLINE_WORDS = re.compile(r"within 3 working days|next working day", re.IGNORECASE)
# Each of these names is assigned once, in its home.
NAMED_RULES = {
    "DUE_WITHIN_WORKING_DAYS": "bot/rules/reminders.py",
    "ESCALATE_TO_TEAM_MANAGER": "bot/rules/reminders.py",
    "ESCALATE_TO_SERVICE_MANAGER": "bot/rules/reminders.py",
    "URGENT_LADDER": "bot/rules/reminders.py",
    "MEETING_DEADLINE": "bot/rules/deadlines.py",
    "VISIT_DEADLINE": "bot/rules/deadlines.py",
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in name:
                yield name, ast.parse(path.read_text(encoding="utf-8"))


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def test_no_deadline_is_written_in_words_outside_its_rule() -> None:
    found = []
    for name, tree in _modules():
        if name == "bot/rules/deadlines.py":
            continue
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and DEADLINE_WORDS.search(node.value)
            ):
                found.append(f"{name}:{node.lineno}: {node.value!r}")
    assert found == []


def test_each_named_rule_is_defined_once_in_its_home() -> None:
    defined: dict[str, list[str]] = {}
    for name, tree in _modules():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in NAMED_RULES:
                    defined.setdefault(target.id, []).append(name)
    assert defined == {rule: [home] for rule, home in NAMED_RULES.items()}

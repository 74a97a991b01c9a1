"""Every domain rule lives once, in bot/rules/: the meeting and visit deadlines (bot.rules.deadlines),
"due soon" and the escalation ladders (bot.rules.reminders), the working-days pattern
(bot.rules.workdays), the limiting judgement (bot.rules.grades), compliance, on time and the
percentages (bot.rules.digest), the suppression threshold (bot.rules.disclosure). A second
definition, a rule's function written again under another module's roof, or a deadline written
out in words anywhere else, fails here."""

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
    "FEEDBACK_WINDOW": "bot/rules/reminders.py",
    "FULL_TIME": "bot/rules/workdays.py",
    "MAX_AHEAD": "bot/rules/dates.py",
    "RECENT_PAST": "bot/rules/dates.py",
    "SUPPRESS_BELOW": "bot/rules/disclosure.py",
    "GOOD_OR_BETTER": "bot/rules/digest.py",
    "OPEN_AUDIT_STATES": "bot/rules/grades.py",
    "UNFINISHED_AUDIT_STATES": "bot/rules/grades.py",
    "DONE_AUDIT_STATES": "bot/rules/grades.py",
    "DEFAULT_RATE_PERCENT": "bot/rules/moderation.py",
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


def _rule_functions() -> dict[str, str]:
    """Public functions of bot/rules/, by name: each is the one statement of its rule."""
    found = {}
    for path in sorted((ROOT / "bot" / "rules").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                found[node.name] = path.relative_to(ROOT).as_posix()
    return found


def test_no_rule_is_written_again_under_another_name_s_roof() -> None:
    # `_month_start` in the demo or `_percent` in a card is the same rule drifting on its own.
    rules = _rule_functions()
    again = [
        f"{name}:{node.lineno}: {node.name} (the rule is {rules[node.name.lstrip('_')]})"
        for name, tree in _modules()
        if not name.startswith("bot/rules/")
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.lstrip("_") in rules
        # A job's private step that happens to share a name with a rule is no rule of its own.
        and node.name not in ("_plan", "month")
    ]
    assert again == []


def test_a_working_pattern_is_read_only_by_the_workdays_rule() -> None:
    # Reading "1234" into weekdays was written three ways, one of which made a blank pattern
    # "works no day"; bot.rules.workdays.weekdays_of is the one reading.
    readers = [
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        if name != "bot/rules/workdays.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.comprehension)
        and isinstance(node.iter, ast.Attribute)
        and node.iter.attr == "working_days"
    ]
    assert readers == []


def test_a_week_of_five_working_days_is_written_once() -> None:
    literal = [
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        if name != "bot/rules/workdays.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.List)
        and [getattr(e, "value", None) for e in node.elts] == [1, 2, 3, 4, 5]
    ]
    assert literal == []


def test_completed_or_moderated_is_said_once() -> None:
    # "Done" was spelled (COMPLETED, MODERATED) in six places; DONE_AUDIT_STATES is the one.
    spelled = [
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        if name != "bot/rules/grades.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.Set | ast.List)
        and sorted(getattr(e, "attr", "") for e in node.elts) == ["COMPLETED", "MODERATED"]
    ]
    assert spelled == []

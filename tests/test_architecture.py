"""The house keeps its shape: no import cycles, and every name that routes a button is written once.

`lint-imports` (in `make check` and `make test`) holds the layers, the SDK at the edge and the
features' independence; see docs/architecture.md.
"""

from __future__ import annotations

import ast
import pathlib

import grimp

from cards.names import CardKind, CardVerb

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cards", "storage", "jobs")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_import_graph_has_no_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=False)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for a, b in (("x.a", "x.b"), ("x.b", "x.c"), ("x.c", "x.a"), ("x.c", "x.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["x.a", "x.b", "x.c"]]


def _string_literals() -> dict[str, list[str]]:
    """Every string constant in the product code, with where it is; an audit-log entity's name
    (entity="extension_request") names a table row, not a card, and is left out."""
    where: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            entities = {
                id(k.value)
                for k in ast.walk(tree)
                if isinstance(k, ast.keyword) and k.arg == "entity"
            }
            for node in ast.walk(tree):
                if id(node) in entities:
                    continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    where.setdefault(node.value, []).append(
                        f"{path.relative_to(ROOT)}:{node.lineno}"
                    )
    return where


# Where a name may be spelt: the names module, or the permission rules' verbs it takes its
# action verbs from.
HOMES = ("cards/names.py:", "bot/rules/permissions.py:")


def test_each_card_verb_is_spelt_once() -> None:
    """A button's card and its handler share one member; the string is written in one place."""
    literals = _string_literals()
    for verb in CardVerb:
        places = literals.get(verb.value, [])
        assert len(places) == 1 and places[0].startswith(HOMES), (verb, places)


def test_a_posted_card_is_always_kept_under_a_card_kind_member() -> None:
    """No `kind="..."` typed where a card is posted; each CardKind spelt in cards/names.py."""
    typed = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "kind"
                    and isinstance(node.value, ast.Constant)
                    and node.value.value in set(CardKind)
                ):
                    typed.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    assert typed == []
    names = (ROOT / "cards" / "names.py").read_text()
    assert all(f'"{kind.value}"' in names or "ActionVerb" in names for kind in CardKind)

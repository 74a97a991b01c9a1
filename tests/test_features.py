"""The app is made of an explicit list of features; each button, command, card kind and job has
exactly one owner, and nothing registers itself on import."""

from __future__ import annotations

import dataclasses
import pathlib
import subprocess
import sys

import pytest

from bot.feature import Catalogue, Feature, FeatureClash
from bot.features import CATALOGUE, FEATURES
from bot.features.admin import handlers as admin
from bot.payloads import CardAction, PagePayload
from cards.names import CardKind, CardVerb

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Posted cards that show something that can change, and so must be rebuilt when it does.
REBUILT = {
    CardKind.MY_QA,
    CardKind.ESCALATION,
    CardKind.EXTENSION_REQUEST,
    CardKind.CONFIRM_DONE,
    CardKind.ACTION_ASSIGNED,
    CardKind.AUDIT_RESULT,
    CardKind.AUDIT_ASSIGNED,
    CardKind.AUDIT_ASSIGNED_COPY,
    CardKind.AUDIT_DECLINED,
    CardKind.FEEDBACK_FORM,
    CardKind.INADEQUATE_ALERT,
    CardKind.CHILD_VISIT_DUE,
    CardKind.MODERATION_REQUEST,
    CardKind.EXEMPLAR_REVIEW,
    CardKind.MY_ACTIONS,
    CardKind.TEAM,
    CardKind.MY_AUDITS,
    CardKind.LEAVER_ACTIONS,
}


def test_every_card_verb_is_answered_by_exactly_one_feature() -> None:
    owners = {verb: [f.name for f in FEATURES if verb in f.verbs] for verb in CardVerb}
    assert {verb: names for verb, names in owners.items() if len(names) != 1} == {}
    assert set(CATALOGUE.verbs) == set(CardVerb)


def test_every_changing_card_kind_has_a_rebuilder_and_one_off_notices_have_none() -> None:
    assert set(CATALOGUE.rebuilders) == REBUILT


def test_the_scheduler_runs_the_jobs_the_features_declare() -> None:
    assert sorted(CATALOGUE.jobs) == sorted(j.name for f in FEATURES for j in f.jobs)
    assert len(CATALOGUE.jobs) == 9


@pytest.mark.parametrize(
    "clash",
    [
        Feature("again", "a second help", commands=(admin.HELP,)),
        Feature(
            "again",
            "a second page button",
            verbs={CardVerb.UNREACHABLE_PAGE: CardAction(PagePayload, admin.page_of_unreachable)},
        ),
        Feature("again", "a second rebuilder", rebuilders={CardKind.MY_QA: lambda *a: None}),  # type: ignore[arg-type,return-value]
        Feature("again", "a second job", jobs=(next(iter(CATALOGUE.jobs.values())),)),
    ],
)
def test_two_features_cannot_claim_one_name(clash: Feature) -> None:
    with pytest.raises(FeatureClash):
        Catalogue.of((*FEATURES, clash))


def test_a_command_spelling_used_as_another_commands_alias_clashes() -> None:
    twin = dataclasses.replace(admin.HELP, name="hi", aliases=())
    with pytest.raises(FeatureClash, match="hi"):
        Catalogue.of((*FEATURES, Feature("again", "help by another name", commands=(twin,))))


def test_nothing_registers_itself_on_import_and_nothing_is_imported_by_name() -> None:
    """Importing a feature on its own changes nothing global; no module imports by string."""
    script = (
        "import bot.features.grading as g, bot.services.refresh as r\n"
        "print(sorted(n for n in vars(r) if n.isupper()))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
    sources = [p for d in ("bot", "cards", "storage", "jobs") for p in (ROOT / d).rglob("*.py")]
    assert [p.name for p in sources if "importlib" in p.read_text()] == []

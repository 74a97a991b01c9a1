"""A feature is a unit you can see: its chat commands, the card verbs it answers (verb → payload
model → handler), how its posted cards are rebuilt, and its scheduled jobs, in one object.

The app is built from an explicit list of features (bot.features.FEATURES); nothing registers
itself on import. Help, the manifest's command lists, the invoke router and the scheduler are all
read from the `Catalogue` that joins them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from bot.payloads import CardAction
from bot.settings import Settings
from bot.turn import Command, Rebuilder, Rebuilders
from cards.names import CardKind, CardVerb
from jobs.runs import Job

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    # What it does, in a line, for the architecture page and a newcomer.
    about: str
    commands: tuple[Command, ...] = ()
    verbs: Mapping[CardVerb, CardAction] = field(default_factory=dict)
    rebuilders: Mapping[CardKind, Rebuilder] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()


class FeatureClash(ValueError):
    """Two features claim one command spelling, card verb, card kind or job."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every feature of the running app, joined; built once per process."""

    features: tuple[Feature, ...]
    commands: tuple[Command, ...]
    verbs: Mapping[str, CardAction]
    rebuilders: Mapping[str, Rebuilder]
    jobs: Mapping[str, Job]

    @classmethod
    def of(cls, features: Iterable[Feature]) -> Catalogue:
        features = tuple(features)
        spellings: dict[str, str] = {}
        verbs: dict[str, CardAction] = {}
        rebuilders: dict[str, Rebuilder] = {}
        jobs: dict[str, Job] = {}
        for feature in features:
            for command in feature.commands:
                for spelling in command.spellings:
                    _claim(spellings, spelling, feature.name, "command")
            for verb, action in feature.verbs.items():
                _claim(verbs, verb, action, "card verb", feature.name)
            for kind, rebuild in feature.rebuilders.items():
                _claim(rebuilders, kind, rebuild, "card kind", feature.name)
            for job in feature.jobs:
                _claim(jobs, job.name, job, "job", feature.name)
        return cls(
            features=features,
            commands=tuple(c for f in features for c in f.commands),
            verbs=verbs,
            rebuilders=rebuilders,
            jobs=jobs,
        )

    def redraws(self, settings: Settings) -> Rebuilders:
        """The rebuilders bound to the running bot's settings, for a turn, a job or the CLI."""
        return Rebuilders(self.rebuilders, settings)

    def command(self, name: str) -> Command:
        return next(c for c in self.commands if c.name == name)


def _claim(table: dict[str, T], key: str, value: T, what: str, owner: str = "") -> None:
    if key in table:
        raise FeatureClash(f"the {what} “{key}” is claimed twice ({owner or value})")
    table[key] = value

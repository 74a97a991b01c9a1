"""The app's features, listed: what QA Loop is made of.

A feature is a package here that declares one `Feature` (bot.feature): its commands, card verbs,
card rebuilders and jobs. Adding one is writing its package and a line below. The order is the
order of `help` within each group and of the manifest's command menus.
"""

from __future__ import annotations

from bot.feature import Catalogue, Feature
from bot.features import (
    actions,
    admin,
    allocation,
    briefings,
    calibration,
    channels,
    digests,
    exemplars,
    feedback,
    grading,
    guide,
    inadequate,
    learning,
    moderation,
    own_view,
    people,
    themes,
)

FEATURES: tuple[Feature, ...] = (
    admin.FEATURE,
    actions.FEATURE,
    grading.FEATURE,
    feedback.FEATURE,
    own_view.FEATURE,
    digests.FEATURE,
    themes.FEATURE,
    learning.FEATURE,
    exemplars.FEATURE,
    guide.FEATURE,
    briefings.FEATURE,
    allocation.FEATURE,
    inadequate.FEATURE,
    moderation.FEATURE,
    calibration.FEATURE,
    channels.FEATURE,
    people.FEATURE,
)

CATALOGUE = Catalogue.of(FEATURES)

"""A card press is answered with plain JSON written once (issue 15), byte for byte what
botbuilder's AdaptiveCardInvokeResponse model serialises to."""

from __future__ import annotations

import json

from botbuilder.core import serializer_helper
from botbuilder.schema import AdaptiveCardInvokeResponse

from bot.handler import CARD_CONTENT_TYPE, card_answer, error_answer
from tests.card_samples import samples


def _bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def test_a_card_answer_is_the_sdk_s_invoke_response_for_that_card() -> None:
    for card in samples().values():
        sdk = AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)
        assert _bytes(card_answer(card)) == _bytes(serializer_helper(sdk))


def test_an_error_answer_is_the_sdk_s_invoke_response_for_that_error() -> None:
    message = "Only the action's owner can mark it done."
    sdk = AdaptiveCardInvokeResponse(
        status_code=400,
        type="application/vnd.microsoft.error",
        value={"code": "BadRequest", "message": message},
    )
    assert _bytes(error_answer(message)) == _bytes(serializer_helper(sdk))

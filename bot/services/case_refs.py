"""Free text that others will read (a briefing in staff channels, an exemplar shown with the
learning) must name no case: each word the case-reference pattern matches (bot.rules.cases) is
looked up among the council's cases, so a year or a phone number does not trip it."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.rules.cases import DEFAULT_CASE_REF_PATTERN, case_ref_words
from storage import briefings


async def case_refs_named(
    session: AsyncSession, tenant_id: str, *texts: str, pattern: str = DEFAULT_CASE_REF_PATTERN
) -> list[str]:
    """The council's case references named anywhere in `texts`, sorted."""
    candidates = {word for text in texts for word in case_ref_words(text, pattern)}
    return await briefings.known_case_refs(
        session=session, tenant_id=tenant_id, candidates=candidates
    )

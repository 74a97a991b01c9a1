"""Activity ids this process has taken, for turns that change nothing but the card they answer
with (`my actions`, `help`): Teams' re-delivery of one is caught without a write to the database.

A repeat that reaches another replica, or this one after a restart, is answered twice: a second
list card, which is harmless. A turn that changes something is claimed in the database instead
(storage.inbound), where its claim survives both.
"""

from __future__ import annotations

from collections import OrderedDict

Key = tuple[str, str, str]


class Recent:
    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._taken: OrderedDict[Key, None] = OrderedDict()

    def claim(self, key: Key) -> bool:
        """True the first time `key` is seen here (it is taken now); False for a repeat."""
        if key in self._taken:
            return False
        self._taken[key] = None
        if len(self._taken) > self._limit:
            self._taken.popitem(last=False)  # the oldest: Teams re-delivers within minutes
        return True

    def release(self, key: Key) -> None:
        """Forget a claim whose turn failed, so Teams' retry runs."""
        self._taken.pop(key, None)

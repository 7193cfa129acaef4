"""Traffic from organisations that are not in the topology: counted, never shown as rows.

A broker without per-organisation credentials lets anyone publish under any id; each id
would otherwise become a row of the screen and cost memory. What is kept is bounded: the
count, the first few ids (for the operator to look up) and up to MAX_DISTINCT distinct ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import msgspec

FIRST_SHOWN: Final = 3
MAX_DISTINCT: Final = 1000


class UnknownSnapshot(msgspec.Struct, frozen=True, array_like=True):
    messages: int
    first: list[str]
    distinct: list[str]
    last_at: float | None
    refused: int


@dataclass
class UnknownSenders:
    messages: int = 0
    first: list[str] = field(default_factory=list)
    """The first FIRST_SHOWN ids seen, in order."""
    distinct: set[str] = field(default_factory=set)
    """Up to MAX_DISTINCT ids; beyond that only `messages` grows."""
    last_at: float | None = None
    refused: int = 0
    """Of `messages`, payloads that were refused as well (counted among the rejected)."""

    def snapshot(self) -> UnknownSnapshot:
        return UnknownSnapshot(self.messages, list(self.first), sorted(self.distinct),
                               self.last_at, self.refused)

    @classmethod
    def from_snapshot(cls, snapshot: UnknownSnapshot) -> UnknownSenders:
        return cls(snapshot.messages, list(snapshot.first[:FIRST_SHOWN]),
                   set(snapshot.distinct[:MAX_DISTINCT]), snapshot.last_at, snapshot.refused)

    def add(self, org_id: str, at: float) -> None:
        self.messages += 1
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        if len(self.distinct) < MAX_DISTINCT:
            self.distinct.add(org_id)
        if len(self.first) < FIRST_SHOWN and org_id not in self.first:
            self.first.append(org_id)

    def describe(self) -> str:
        """`12 messages from 3 unknown senders (x, y, z)`; "" when there were none."""
        if not self.messages:
            return ""
        count = len(self.distinct)
        senders = f"{'over ' if count >= MAX_DISTINCT else ''}{count:,} unknown sender" + (
            "s" if count != 1 else "")
        more = ", …" if count > len(self.first) else ""
        return (f"{self.messages:,} message{'s' if self.messages != 1 else ''} from {senders}"
                f" ({', '.join(self.first)}{more})")

"""Invalid readings: payloads that could not be accepted, counted where they came from.

An organisation is named by the topic a payload arrived on (the broker lets it write only
there), never by the payload itself, which is exactly what could not be trusted. What came
on a topic that names no organisation is counted chain-wide, as unattributed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

INVALID_HOLD: Final = 300.0
"""Seconds an organisation stays INVALID after its last invalid reading (or 3 of its
intervals, if longer): long enough to span a slow probe's cadence, so an agent that sends
garbage now and then is one INVALID spell, not a state that flaps with every message."""
MAX_REASON: Final = 200
"""Characters of a reason kept; a hostile payload must not fill the screen."""


@dataclass
class InvalidReadings:
    """What one organisation (or the unattributed bucket) sent that could not be accepted."""

    count: int = 0
    last_reason: str = ""
    last_at: float | None = None
    spell_since: float | None = None
    """When the current spell began: the first invalid reading after a quiet hold."""

    def add(self, reason: str, at: float, hold: float) -> None:
        if self.last_at is None or self.spell_since is None or at - self.last_at > hold:
            self.spell_since = at
        self.count += 1
        self.last_reason = reason[:MAX_REASON]
        # A replay may hand in times out of order: the spell keeps its bounds.
        self.last_at = at if self.last_at is None else max(self.last_at, at)
        self.spell_since = min(self.spell_since, at)

    def active(self, now: float, hold: float) -> bool:
        """True while the last invalid reading is at most `hold` seconds old."""
        return self.last_at is not None and now - self.last_at <= hold

    def describe(self) -> str:
        """`3 invalid readings (last: v: schema version 2 is newer than 1)`."""
        noun = "reading" if self.count == 1 else "readings"
        return f"{self.count} invalid {noun} (last: {self.last_reason})"

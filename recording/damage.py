"""Damaged rows of a recording: what the reader skipped, and the one line that says so.

A row is damaged when the recorder cannot have written it: a `received_at` that is no
moment in the span Ketenwacht works in (text such as 'yesterday', 1e300, NULL), or a topic
that is not UTF-8 text. The reader skips such rows, plays every other one, and counts them
here, so a command can say in one line how many were skipped and why: an exercise leader
handed a damaged file still gets everything in it that can be read, and knows what could
not be.
"""

from __future__ import annotations

from bisect import insort
from pathlib import Path
from typing import Final

from chain.moments import describe_span
from chain.printable import visible

EXAMPLES: Final = 3
"""Damaged rows named in the warning; the rest are counted."""
SHOWN: Final = 40
"""Characters of a damaged value shown."""


def shown(value: object) -> str:
    """A damaged column's value as the warning quotes it, safe on a terminal."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        return f"'{visible(value[:SHOWN])}'" + ("…" if len(value) > SHOWN else "")
    return visible(repr(value)[:SHOWN])


def bad_moment(value: object) -> str:
    return f"received_at {shown(value)} is not a time in {describe_span()}"


BAD_TOPIC: Final = "topic is not UTF-8 text"


class Damage:
    """Rows skipped as damaged, each counted once however often it is read (a player
    seeking back reads rows again)."""

    def __init__(self) -> None:
        self._uncounted_ids = 0
        """Damaged rows counted without their ids (found in one query, at opening)."""
        self._ids: set[int] = set()
        self._examples: list[tuple[int, str]] = []

    def found(self, count: int, examples: list[tuple[int, str]]) -> None:
        """`count` damaged rows that reading never meets (SQLite leaves them out)."""
        self._uncounted_ids += count
        for example in examples:
            self._example(example)

    def skipped(self, row_id: int, why: str) -> None:
        if row_id not in self._ids:
            self._ids.add(row_id)
            self._example((row_id, why))

    def _example(self, example: tuple[int, str]) -> None:
        insort(self._examples, example)
        del self._examples[EXAMPLES:]

    @property
    def count(self) -> int:
        return self._uncounted_ids + len(self._ids)

    def examples(self) -> str:
        """The first damaged rows and why, and how many more."""
        named = "; ".join(f"row {row_id}: {why}" for row_id, why in self._examples)
        more = self.count - len(self._examples)
        return named + (f"; {more} more" if more > 0 else "")

    def note(self, path: Path) -> str | None:
        """One line for the user; None when nothing was skipped."""
        if not self.count:
            return None
        rows = "row" if self.count == 1 else "rows"
        return (f"{path}: {self.count} damaged {rows} skipped ({self.examples()}); every "
                "other row was read")

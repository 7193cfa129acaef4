"""A recording opened for replay: its span, and its rows in arrival order, chunk by chunk.

Read-only and synchronous: replay runs it on the event loop in bounded chunks, so one
connection per reader is all it needs and the recorder stays the only writer.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from chain.errors import ConfigError
from recording.reader import COLUMNS, root_of

ROOT_SAMPLE = 2000
"""Rows looked at to tell which topic root a recording holds."""


class Row(NamedTuple):
    id: int
    received_at: float
    topic: str
    payload: bytes
    retain: bool


class Span(NamedTuple):
    first_id: int
    last_id: int
    first_at: float
    last_at: float


class Recording:
    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise ConfigError(f"{path}: no such recording")
        db = None
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
            if not columns >= COLUMNS:
                raise sqlite3.DatabaseError("no messages table with the recorder's columns")
            found = db.execute("SELECT min(id), max(id) FROM messages").fetchone()
        except sqlite3.Error as error:
            if db is not None:
                db.close()
            raise ConfigError(f"{path}: not a Ketenwacht recording ({error})") from None
        self._db = db
        if found is None or found[0] is None:
            self._db.close()
            raise ConfigError(f"{path}: the recording is empty")
        first_id, last_id = int(found[0]), int(found[1])
        first_at = self._at(first_id)
        last_at = self._at(last_id)
        self.span = Span(first_id, last_id, first_at, max(first_at, last_at))

    def _at(self, row_id: int) -> float:
        found = self._db.execute(
            "SELECT received_at FROM messages WHERE id = ?", (row_id,)
        ).fetchone()
        return float(found[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def identity(self) -> str:
        """Tells this recording from another file at the same path, for its checkpoints."""
        return f"{self.span.first_id}:{self.span.first_at!r}"

    def rows_after(self, after_id: int, limit: int) -> list[Row]:
        try:
            return [
                Row(int(r[0]), float(r[1]), str(r[2]), bytes(r[3]), bool(r[4]))
                for r in self._db.execute(
                    "SELECT id, received_at, topic, payload, retain FROM messages "
                    "WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit),
                )
            ]
        except sqlite3.Error as error:
            raise ConfigError(f"{self.path}: cannot read the recording: {error}") from None

    def refresh(self) -> None:
        """Take in rows recorded since opening (a recording still being written)."""
        found = self._db.execute("SELECT max(id) FROM messages").fetchone()
        last_id = int(found[0])
        if last_id > self.span.last_id:
            self.span = self.span._replace(last_id=last_id,
                                           last_at=max(self.span.last_at, self._at(last_id)))

    def topic_root(self) -> str:
        """The root most of the recording's topics sit under (`keten/v1`, an exercise root)."""
        roots: Counter[str] = Counter()
        for (topic,) in self._db.execute(
            "SELECT topic FROM messages ORDER BY id LIMIT ?", (ROOT_SAMPLE,)
        ):
            root = root_of(str(topic))
            if root is not None:
                roots[root] += 1
        if not roots:
            raise ConfigError(f"{self.path}: no topic in it has the shape of wire contract v1")
        return roots.most_common(1)[0][0]

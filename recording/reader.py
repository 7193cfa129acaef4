"""A recording, opened read-only for a batch job: checked, summed up, and read row by row.

Plain `sqlite3`, not the recorder's aiosqlite: a report is one pass over the file with
nothing else to do meanwhile, and iterating a cursor directly is several times faster than
hopping to a thread per row. The recorder may still be writing: WAL lets us read beside it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final, NamedTuple

from chain.errors import ConfigError
from chain.topics import CONTROL, OPS

COLUMNS: Final = frozenset({"received_at", "topic", "payload", "retain", "problem"})
ORG_LEAVES: Final = frozenset({"status", "heartbeat"})
ORG_BRANCHES: Final = frozenset({"channel", "flow", "backlog"})


class Summary(NamedTuple):
    messages: int
    first_at: float
    last_at: float
    problems: Counter[str]
    """Why the recording monitor rejected rows, and how often."""
    roots: Counter[str]
    """Topic roots and their row counts (rows whose topic fits no v1 shape are left out)."""


class Row(NamedTuple):
    received_at: float
    topic: str
    payload: bytes
    retain: bool


def root_of(topic: str) -> str | None:
    """The root a v1 topic lives under, e.g. `keten-exercise/oefening/v1`; None if the
    topic has none of the v1 shapes."""
    levels = topic.split("/")
    for level in (OPS, CONTROL):
        if level in levels[1:]:
            return "/".join(levels[: levels.index(level, 1)])
    if len(levels) >= 3 and levels[-1] in ORG_LEAVES:
        return "/".join(levels[:-2])
    if len(levels) >= 4 and levels[-2] in ORG_BRANCHES:
        return "/".join(levels[:-3])
    return None


class RecordingReader:
    """`with RecordingReader(path) as rec:` checks that `path` is a recording with rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> RecordingReader:
        if not self.path.exists():
            raise ConfigError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise ConfigError(f"{self.path}: not a file")
        try:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(messages)")}
        except sqlite3.DatabaseError as error:
            self.close()
            raise ConfigError(f"{self.path}: not a readable SQLite database ({error})") from None
        if not columns >= COLUMNS:
            self.close()
            raise ConfigError(f"{self.path}: not a Ketenwacht recording (no messages table "
                              "with the recorder's columns)")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def summary(self) -> Summary:
        """Counts and span, mostly computed by SQLite itself (one scan of the table)."""
        db = self._connection()
        problems: Counter[str] = Counter()
        roots: Counter[str] = Counter()
        try:
            messages, first, last = db.execute(
                "SELECT COUNT(*), MIN(received_at), MAX(received_at) FROM messages").fetchone()
            if not messages:
                raise ConfigError(f"{self.path}: the recording is empty (no messages)")
            for topic, problem, count in db.execute(
                    "SELECT topic, problem, COUNT(*) FROM messages GROUP BY topic, problem"):
                if problem is not None:
                    problems[str(problem)] += count
                root = root_of(str(topic))
                if root is not None:
                    roots[root] += count
        except sqlite3.DatabaseError as error:
            raise ConfigError(f"{self.path}: cannot read the recording: {error}") from None
        return Summary(int(messages), float(first), float(last), problems, roots)

    def rows(self) -> Iterator[Row]:
        """Every row in arrival order, streamed: memory stays flat whatever the size."""
        db = self._connection()
        try:
            for received_at, topic, payload, retain in db.execute(
                    "SELECT received_at, topic, payload, retain FROM messages ORDER BY id"):
                yield Row(received_at, topic, payload, bool(retain))
        except sqlite3.DatabaseError as error:
            raise ConfigError(f"{self.path}: cannot read the recording: {error}") from None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("RecordingReader used outside its `with` block")
        return self._db

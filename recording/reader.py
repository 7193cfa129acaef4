"""A recording opened read-only: checked, summed up, and read row by row or chunk by chunk.

The one reader of what the recorder wrote, for replay, the report and a screen's history.
Plain `sqlite3`, not the recorder's aiosqlite: iterating a cursor directly is several times
faster than hopping to a thread per row, and a chunk of rows costs a few milliseconds. The
recorder may still be writing: WAL lets us read beside it, and the recorder stays the only
writer.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final, NamedTuple

from chain.errors import ConfigError, NoInputError
from chain.topics import CONTROL, OPS

COLUMNS: Final = frozenset({"id", "received_at", "topic", "payload", "qos", "retain", "problem"})
ORG_LEAVES: Final = frozenset({"status", "heartbeat"})
ORG_BRANCHES: Final = frozenset({"channel", "flow", "backlog"})
ROOT_SAMPLE: Final = 2000
"""Rows looked at to tell which topic root a recording holds."""
_SELECT: Final = "SELECT id, received_at, topic, payload, qos, retain, problem FROM messages"


class EmptyRecordingError(ConfigError):
    """A recording without rows: an error for a report, no history for a screen."""


class Row(NamedTuple):
    id: int
    received_at: float
    topic: str
    payload: bytes
    """As received, bad ones included; `deliver` refuses what is not bytes."""
    qos: int
    retain: bool
    problem: str | None
    """Why the recording monitor rejected it, or None."""


class Span(NamedTuple):
    first_id: int
    last_id: int
    first_at: float
    last_at: float


class Summary(NamedTuple):
    messages: int
    first_at: float
    last_at: float
    problems: Counter[str]
    """Why the recording monitor rejected rows, and how often."""
    roots: Counter[str]
    """Topic roots and their row counts (rows whose topic fits no v1 shape are left out)."""


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


def _open(path: Path) -> sqlite3.Connection:
    """A read-only connection to a file with the recorder's table, or a ConfigError saying
    what the file is instead."""
    if not path.exists():
        raise NoInputError(f"{path}: no such recording")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file, so not a recording")
    db = None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
    except sqlite3.DatabaseError as error:
        if db is not None:
            db.close()
        raise ConfigError(f"{path}: not a readable SQLite database, so not a Ketenwacht "
                          f"recording ({error})") from None
    if not columns >= COLUMNS:
        db.close()
        raise ConfigError(f"{path}: not a Ketenwacht recording (no messages table with the "
                          "recorder's columns)")
    return db


class Recording:
    """`with Recording(path) as rec:` checks that `path` is a recording with rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = _open(path)
        try:
            found = self._db.execute("SELECT min(id), max(id) FROM messages").fetchone()
            if found is None or found[0] is None:
                raise EmptyRecordingError(f"{path}: the recording is empty (no messages)")
            first_id, last_id = int(found[0]), int(found[1])
            first_at = self._at(first_id)
            self.span = Span(first_id, last_id, first_at, max(first_at, self._at(last_id)))
        except sqlite3.Error as error:
            self._db.close()
            raise self._unreadable(error) from None
        except ConfigError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def identity(self) -> str:
        """Tells this recording from another file at the same path, for its checkpoints."""
        return f"{self.span.first_id}:{self.span.first_at!r}"

    def refresh(self) -> None:
        """Take in rows recorded since opening (a recording still being written)."""
        try:
            last_id = int(self._db.execute("SELECT max(id) FROM messages").fetchone()[0])
            if last_id > self.span.last_id:
                self.span = self.span._replace(
                    last_id=last_id, last_at=max(self.span.last_at, self._at(last_id)))
        except sqlite3.Error as error:
            raise self._unreadable(error) from None

    # ----------------------------------------------------------------- reading

    def rows(self, *, since: float | None = None) -> Iterator[Row]:
        """Every row in arrival order (those received at or after `since`, if given),
        streamed: memory stays flat whatever the size."""
        query, args = (_SELECT, ()) if since is None else (
            f"{_SELECT} WHERE received_at >= ?", (since,))
        try:
            for row_id, at, topic, payload, qos, retain, problem in self._db.execute(
                    f"{query} ORDER BY id", args):
                yield Row(row_id, at, topic, payload, qos, bool(retain), problem)
        except sqlite3.Error as error:
            raise self._unreadable(error) from None

    def rows_after(self, after_id: int, limit: int) -> list[Row]:
        """The next `limit` rows after the row `after_id`, for a reader that keeps its place."""
        try:
            return [Row(row_id, at, topic, payload, qos, bool(retain), problem)
                    for row_id, at, topic, payload, qos, retain, problem in self._db.execute(
                        f"{_SELECT} WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))]
        except sqlite3.Error as error:
            raise self._unreadable(error) from None

    def summary(self) -> Summary:
        """Counts and span, mostly computed by SQLite itself (one scan of the table)."""
        problems: Counter[str] = Counter()
        roots: Counter[str] = Counter()
        try:
            messages, first, last = self._db.execute(
                "SELECT COUNT(*), MIN(received_at), MAX(received_at) FROM messages").fetchone()
            for topic, problem, count in self._db.execute(
                    "SELECT topic, problem, COUNT(*) FROM messages GROUP BY topic, problem"):
                if problem is not None:
                    problems[str(problem)] += count
                root = root_of(str(topic))
                if root is not None:
                    roots[root] += count
        except sqlite3.Error as error:
            raise self._unreadable(error) from None
        return Summary(int(messages), float(first), float(last), problems, roots)

    def topic_root(self) -> str:
        """The root most of the recording's topics sit under (`keten/v1`, an exercise root),
        judged from its first rows: enough to start a replay without scanning it all."""
        roots: Counter[str] = Counter()
        try:
            for (topic,) in self._db.execute(
                    "SELECT topic FROM messages ORDER BY id LIMIT ?", (ROOT_SAMPLE,)):
                root = root_of(str(topic))
                if root is not None:
                    roots[root] += 1
        except sqlite3.Error as error:
            raise self._unreadable(error) from None
        if not roots:
            raise ConfigError(f"{self.path}: no topic in it has the shape of wire contract v1")
        return roots.most_common(1)[0][0]

    def _at(self, row_id: int) -> float:
        found = self._db.execute(
            "SELECT received_at FROM messages WHERE id = ?", (row_id,)).fetchone()
        return float(found[0])

    def _unreadable(self, error: sqlite3.Error) -> ConfigError:
        return ConfigError(f"{self.path}: cannot read the recording: {error}")

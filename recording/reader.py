"""A recording opened read-only: checked, summed up, and read row by row or chunk by chunk.

The one reader of what the recorder wrote, for replay, the report and a screen's history.
Plain `sqlite3`, not the recorder's aiosqlite: iterating a cursor directly is several times
faster than hopping to a thread per row, and a chunk of rows costs a few milliseconds. The
recorder may still be writing: WAL lets us read beside it, and the recorder stays the only
writer. Older layouts (recording/schema.py) are read as they are; damaged rows are skipped
and counted (recording/damage.py), never played and never fatal.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NamedTuple

from chain.errors import ConfigError, NoInputError
from chain.moments import EARLIEST, LATEST
from chain.topics import CONTROL, OPS
from recording.damage import BAD_TOPIC, Damage, bad_moment
from recording.schema import Layout, UnusableRecordingError, damaged, layout_of

ORG_LEAVES: Final = frozenset({"status", "heartbeat"})
ORG_BRANCHES: Final = frozenset({"channel", "flow", "backlog"})
ROOT_SAMPLE: Final = 2000
"""Rows looked at to tell which topic root a recording holds."""
EDGE_CHUNK: Final = 100
_IN_SPAN: Final = f"+received_at >= {EARLIEST!r} AND +received_at < {LATEST!r}"
"""A row with a moment (text sorts after every number in SQLite). The unary `+` keeps
SQLite reading in id order, as before, instead of through the time index and a sort."""


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


def _topic(value: object) -> str | None:
    """A topic as the recorder wrote it (UTF-8 text); None for a damaged one."""
    if not isinstance(value, bytes):
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def _text(value: object) -> str:
    """A reason: shown, never routed on, so a damaged byte in it is only replaced."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _open(path: Path) -> tuple[sqlite3.Connection, Layout]:
    """A read-only connection to a file with the recorder's table, or an error saying what
    the file is instead."""
    try:
        if not path.exists():
            raise NoInputError(f"{path}: no such recording")
        if not path.is_file():
            raise ConfigError(f"{path}: not a file, so not a recording")
    except OSError as error:
        raise NoInputError(f"{path}: cannot open the recording: {error.strerror}") from None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise NoInputError(f"{path}: cannot open the recording: {error}") from None
    try:
        layout = layout_of(db, path)
    except sqlite3.Error as error:
        db.close()
        if damaged(error):
            raise UnusableRecordingError(f"{path}: not a readable SQLite database, so not a "
                                         f"Ketenwacht recording ({error})") from None
        raise NoInputError(f"{path}: cannot open the recording: {error}") from None
    except ConfigError:
        db.close()
        raise
    if layout is None:
        db.close()
        raise UnusableRecordingError(f"{path}: not a Ketenwacht recording (no messages table "
                                     "with the recorder's columns)")
    # Text as bytes: a topic that is not UTF-8 is then one damaged row, not an error that
    # ends the whole read.
    db.text_factory = bytes
    return db, layout


class Recording:
    """`with Recording(path) as rec:` checks that `path` is a recording with rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.damage = Damage()
        self._db, layout = _open(path)
        self.unknown_columns = layout.unknown
        # Version 0 had no `problem` column at first: such rows were never flagged.
        self._problem = "problem" if layout.has_problem else "NULL"
        self._select = (f"SELECT id, received_at, topic, payload, qos, retain, {self._problem} "
                        "FROM messages")
        try:
            if self._db.execute("SELECT 1 FROM messages LIMIT 1").fetchone() is None:
                raise EmptyRecordingError(f"{path}: the recording is empty (no messages)")
            self._count_bad_moments()
            first, last = self._edge(first=True), self._edge(first=False)
            if first is None or last is None:
                raise UnusableRecordingError(f"{path}: every row of the recording is damaged "
                                             f"({self.damage.examples()})")
            self.span = Span(first.id, last.id, first.received_at,
                             max(first.received_at, last.received_at, self._latest()))
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

    def warnings(self) -> list[str]:
        """What a user should know about what was read: damaged rows skipped so far,
        columns ignored. One line each."""
        found = []
        if self.unknown_columns:
            found.append(f"{self.path}: columns this Ketenwacht does not know are ignored "
                         f"({', '.join(self.unknown_columns)})")
        if (note := self.damage.note(self.path)) is not None:
            found.append(note)
        return found

    def refresh(self) -> None:
        """Take in rows recorded since opening (a recording still being written)."""
        try:
            last = self._edge(first=False)
            latest = self._latest()
        except sqlite3.Error as error:
            raise self._unreadable(error) from None
        if last is not None and last.id > self.span.last_id:
            self.span = self.span._replace(
                last_id=last.id, last_at=max(self.span.last_at, last.received_at, latest))

    # ----------------------------------------------------------------- reading

    def rows(self, *, since: float | None = None) -> Iterator[Row]:
        """Every row in arrival order (those received at or after `since`, if given),
        streamed: memory stays flat whatever the size."""
        query, args = (f"{self._select} WHERE {_IN_SPAN}", ()) if since is None else (
            f"{self._select} WHERE received_at >= ? AND {_IN_SPAN}", (since,))
        try:
            yield from self._checked(self._db.execute(f"{query} ORDER BY id", args))
        except sqlite3.Error as error:
            raise self._unreadable(error) from None

    def rows_after(self, after_id: int, limit: int) -> list[Row]:
        """The next `limit` rows after the row `after_id`, for a reader that keeps its place;
        fewer only at the end of the recording."""
        found: list[Row] = []
        try:
            while len(found) < limit:
                chunk = self._db.execute(
                    f"{self._select} WHERE id > ? AND {_IN_SPAN} ORDER BY id LIMIT ?",
                    (after_id, limit - len(found))).fetchall()
                if not chunk:
                    break
                found += self._checked(chunk)
                after_id = chunk[-1][0]
        except sqlite3.Error as error:
            raise self._unreadable(error) from None
        return found

    def summary(self) -> Summary:
        """Counts and span, mostly computed by SQLite itself (one scan of the table)."""
        problems: Counter[str] = Counter()
        roots: Counter[str] = Counter()
        try:
            messages, first, last = self._db.execute(
                "SELECT COUNT(*), MIN(received_at), MAX(received_at) FROM messages "
                "WHERE received_at >= ? AND received_at < ?", (EARLIEST, LATEST)).fetchone()
            for raw, reason, count in self._db.execute(
                    f"SELECT topic, {self._problem}, COUNT(*) FROM messages WHERE {_IN_SPAN} "
                    "GROUP BY topic, 2"):
                topic = _topic(raw)
                if topic is None:
                    messages -= count  # damaged: rows() skips and counts them
                    continue
                if reason is not None:
                    problems[_text(reason)] += count
                root = root_of(topic)
                if root is not None:
                    roots[root] += count
        except sqlite3.Error as error:
            raise self._unreadable(error) from None
        return Summary(int(messages), float(first), float(last), problems, roots)

    def topic_root(self) -> str:
        """The root most of the recording's topics sit under (`keten/v1`, an exercise root),
        judged from its first rows: enough to start a replay without scanning it all."""
        roots: Counter[str] = Counter()
        for row in self.rows_after(self.span.first_id - 1, ROOT_SAMPLE):
            root = root_of(row.topic)
            if root is not None:
                roots[root] += 1
        if not roots:
            raise ConfigError(f"{self.path}: no topic in it has the shape of wire contract v1")
        return roots.most_common(1)[0][0]

    # ------------------------------------------------------------------ damage

    def _checked(self, found: Iterable[tuple[Any, ...]]) -> Iterator[Row]:
        """Rows whose topic is text, the others counted as damaged (SQLite has already
        left out the rows without a moment)."""
        for row_id, at, raw, payload, qos, retain, problem in found:
            topic = _topic(raw)
            if topic is None:
                self.damage.skipped(row_id, BAD_TOPIC)
                continue
            yield Row(row_id, at, topic, payload, qos, bool(retain),
                      None if problem is None else _text(problem))

    def _count_bad_moments(self) -> None:
        """Rows without a moment are left out by every query; counted once, here, through
        the time index (text and blobs sort after every number, NULL before)."""
        where = ("received_at IS NULL", "received_at < ?", "received_at >= ?")
        bounds: tuple[tuple[float, ...], ...] = ((), (EARLIEST,), (LATEST,))
        count, examples = 0, []
        for condition, args in zip(where, bounds, strict=True):
            count += self._db.execute(
                f"SELECT count(*) FROM messages WHERE {condition}", args).fetchone()[0]
            examples += [(int(row_id), bad_moment(at)) for row_id, at in self._db.execute(
                f"SELECT id, received_at FROM messages WHERE {condition} ORDER BY id LIMIT 3",
                args)]
        self.damage.found(count, examples)

    def _latest(self) -> float:
        """The latest moment recorded, through the time index. The span ends there, not at
        the last row's moment: a player stops at the span's end, and a row dated after the
        last one (a clock stepped back, a hand-edited time) would otherwise hold back every
        row after it, unplayed and unsaid."""
        latest = self._db.execute(
            "SELECT MAX(received_at) FROM messages WHERE received_at >= ? AND received_at < ?",
            (EARLIEST, LATEST)).fetchone()[0]
        return float(latest)

    def _edge(self, *, first: bool) -> Row | None:
        """The first (or last) row that is not damaged."""
        order = "" if first else " DESC"
        cursor = self._db.execute(f"{self._select} WHERE {_IN_SPAN} ORDER BY id{order}")
        try:
            while chunk := cursor.fetchmany(EDGE_CHUNK):
                for row in self._checked(chunk):
                    return row
            return None
        finally:
            cursor.close()

    def _unreadable(self, error: sqlite3.Error) -> ConfigError:
        kind = UnusableRecordingError if damaged(error) else ConfigError
        return kind(f"{self.path}: cannot read the recording: {error}")

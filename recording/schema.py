"""The recording's layout and its versions, for the recorder that writes it and the reader.

A recording carries its layout's version in SQLite's `PRAGMA user_version`. Version 0 is
every file made before it did: the first of those lack the `problem` column (added when the
recorder began to flag rejected payloads), the later ones have version 1's layout. The
recorder brings an older file up to date when it opens it for writing; the reader, which
never writes, reads an older layout as it is. A newer version is refused by both: its
columns may mean what this Ketenwacht does not know.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final, NamedTuple

from chain.errors import ConfigError

VERSION: Final = 1
REQUIRED: Final = ("id", "received_at", "topic", "payload", "qos", "retain")
"""The columns of every version."""
PROBLEM: Final = "problem"
"""Added in version 1 (optional in version 0): why the monitor rejected the row."""
KNOWN: Final = frozenset({*REQUIRED, PROBLEM})
SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    problem TEXT
);
CREATE INDEX IF NOT EXISTS messages_received_at ON messages (received_at);
PRAGMA user_version = {VERSION};
"""
"""A new recording, in an empty database."""


class UnusableRecordingError(ConfigError):
    """The file's content is no recording this Ketenwacht can use: not SQLite, damaged,
    other tables, or a newer layout. (A file that cannot be opened at all is not this.)"""


class Layout(NamedTuple):
    version: int
    has_problem: bool
    unknown: tuple[str, ...]
    """Columns no version of ours has: someone else's additions."""


def layout_of(db: sqlite3.Connection, path: Path) -> Layout | None:
    """The recording's layout, checked; None for a database without a messages table."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    columns = {str(row[1]) for row in db.execute("PRAGMA table_info(messages)")}
    if version > VERSION:
        raise UnusableRecordingError(
            f"{path}: recording schema version {version} is newer than this Ketenwacht "
            f"reads ({VERSION}); upgrade")
    if not columns:
        return None
    missing = [c for c in (*REQUIRED, *([PROBLEM] if version >= 1 else [])) if c not in columns]
    if missing:
        raise UnusableRecordingError(
            f"{path}: not a Ketenwacht recording (no messages table with the recorder's "
            f"columns: {', '.join(missing)} missing)")
    return Layout(version, PROBLEM in columns, tuple(sorted(columns - KNOWN)))


def bring_up_to_date(db: sqlite3.Connection, path: Path) -> None:
    """Make `db` a recording of this version for the recorder: a new one in an empty
    database, an older one migrated in place. Refuses what it would have to guess about."""
    layout = layout_of(db, path)
    if layout is None:
        if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise UnusableRecordingError(
                f"{path}: not a Ketenwacht recording (a database with other tables); "
                "record into a new file")
        db.executescript(SCHEMA)
        return
    if layout.unknown:
        # Rows written without them would leave another program's columns empty, or fail
        # on every batch if they are NOT NULL: the recorder writes only a layout it knows.
        raise UnusableRecordingError(
            f"{path}: the recording has columns this Ketenwacht does not know "
            f"({', '.join(layout.unknown)}); record into a new file")
    if layout.version < VERSION:
        add = "" if layout.has_problem else f"ALTER TABLE messages ADD COLUMN {PROBLEM} TEXT;"
        # One transaction: a crash leaves the old version whole, never a half-migrated one.
        db.executescript(
            f"BEGIN IMMEDIATE; {add} "
            "CREATE INDEX IF NOT EXISTS messages_received_at ON messages (received_at); "
            f"PRAGMA user_version = {VERSION}; COMMIT;")


def damaged(error: sqlite3.Error) -> bool:
    """Whether SQLite found the file's content damaged (or no database at all), as opposed
    to a file it could not open or write."""
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))

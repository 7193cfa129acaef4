"""The recorder: every message under the root, as received, into SQLite (read back by
recording/reader.py, laid out as recording/schema.py says).

One writer task owns the database (WAL, batched transactions); `record` only queues, so the
monitor's message loop never waits on the disk. Payloads are stored as they came, bad ones
included: what was received is the evidence. (Those over the wire's size limit reach it
already cut by ketenwacht/oversized.py, which every recorder records through.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Final

import aiosqlite

from chain.errors import ConfigError
from recording.schema import SCHEMA, UnusableRecordingError, bring_up_to_date, damaged

log = logging.getLogger("ketenwacht.recorder")

BATCH: Final = 1000
FLUSH_EVERY: Final = 0.5
PRUNE_EVERY: Final = 60.0
"""Seconds of recorded time between retention passes."""


def _create_whole(path: Path) -> None:
    """A new recording appears with its table, never as an empty file: a reader that opens
    it a moment after it appears (the report, a replay, a test) finds a recording."""
    building = path.with_name(f".{path.name}.new")
    building.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(building)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.commit()
    os.replace(building, path)


def _open_for_writing(path: Path) -> sqlite3.Connection:
    """The recording at `path`, made or brought up to date (recording/schema.py), open for
    the writer thread. Plain sqlite3, in a worker thread: every way opening can fail fails
    here, before aiosqlite has a thread that could outlive the event loop."""
    if not path.exists():
        _create_whole(path)
    elif not path.is_file():
        raise ConfigError(f"{path}: not a file, so not a recording")
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        bring_up_to_date(db, path)  # first: a file refused is left as it was
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        db.close()
        raise
    return db


Row = tuple[float, str, bytes, int, bool, str | None]
"""What `record` queues: plain tuples, the cheapest thing to build per message."""


class Recorder:
    def __init__(self, path: Path, *, keep: float | None = None) -> None:
        """`keep`: seconds of recording to keep (older rows are pruned as new ones arrive)."""
        self.path = path
        self.keep = keep
        self._pruned_at = 0.0
        self._pending: list[Row] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None
        self._db: aiosqlite.Connection | None = None
        self.written = 0

    async def __aenter__(self) -> Recorder:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await asyncio.to_thread(_open_for_writing, self.path)
        except sqlite3.Error as error:
            kind = UnusableRecordingError if damaged(error) else ConfigError
            raise kind(f"{self.path}: cannot open the recording: {error}") from None
        except OSError as error:
            raise ConfigError(f"{self.path}: cannot open the recording: "
                              f"{error.strerror or error}") from None
        # aiosqlite's own `connect` opens the file in its worker thread. When that fails, the
        # thread is left to post its stop to the event loop, and if `asyncio.run` has closed
        # the loop by then (a one-line error, and out), it dies with "Event loop is closed"
        # after that line. Handed the connection already open, the thread cannot fail to
        # start, and `close` waits for it to end.
        self._db = await aiosqlite.Connection(lambda: db, iter_chunk_size=64)
        self._writer = asyncio.create_task(self._write_forever(), name="recorder")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self._db is not None:
            await self._db.close()

    def record(self, received_at: float, topic: str, payload: bytes, qos: int,
               retain: bool, problem: str | None = None) -> None:
        # A plain list, not a queue: recording must cost the message loop next to nothing.
        self._pending.append((received_at, topic, payload, qos, retain, problem))
        if len(self._pending) >= BATCH:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def _write_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_EVERY)
            self._wake.clear()
            backlog, self._pending = self._pending, []
            # One transaction per BATCH rows: a crash loses at most one batch.
            for start in range(0, len(backlog), BATCH):
                await self._write(backlog[start:start + BATCH])
            if self._closing and not self._pending:
                return

    async def _write(self, batch: list[Row]) -> None:
        assert self._db is not None
        try:
            await self._db.executemany(
                "INSERT INTO messages (received_at, topic, payload, qos, retain, problem) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
            newest = batch[-1][0]
            if self.keep is not None and newest - self._pruned_at >= PRUNE_EVERY:
                await self._db.execute(
                    "DELETE FROM messages WHERE received_at < ?", (newest - self.keep,)
                )
                self._pruned_at = newest
            await self._db.commit()
            self.written += len(batch)
        except aiosqlite.Error as error:
            # Nothing of a failed batch stays half-written in the open transaction, so
            # "not kept" is exact and the next batch starts clean.
            with contextlib.suppress(aiosqlite.Error):
                await self._db.rollback()
            log.error("recording to %s failed, %d messages not kept: %s%s",
                      self.path, len(batch), error, _hint(error))


def _hint(error: aiosqlite.Error) -> str:
    """What a user can do about a failed write; a full disk shows as either code."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR_WRITE"):
        return " (disk full or file size limit reached? free space, or record with --keep-days)"
    return ""


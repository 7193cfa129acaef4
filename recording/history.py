"""Persistent history: fold a recording into a fresh engine, so trends never start empty.

The history file is the screen's own: when it is damaged (not SQLite, not a recording, a
newer layout, columns we do not know), it is set aside beside itself and the screen starts
without it. A crisis room needs the live screen now; the old file stays for whoever wants
to look at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Final

from chain.engine import ChainEngine
from chain.errors import ConfigError, NoInputError
from chain.topics import Topics
from recording.fold import HISTORY, Fold
from recording.reader import EmptyRecordingError, Recording
from recording.recorder import Recorder
from recording.schema import UnusableRecordingError

CHUNK: Final = 500
"""Rows folded between two yields to the event loop: a day of the whole chain takes many
seconds to fold, and a demo's agents share the loop meanwhile. Measured on 24 h: the loop
waits at most 20-30 ms (2 000 rows a chunk: 110 ms), for no loss of rate."""
SQLITE_COMPANIONS: Final = ("-wal", "-shm")
"""Files SQLite keeps beside a database, found by name: they move with it, or a new file
at the old name would take up the old one's write-ahead log."""

log = logging.getLogger("ketenwacht.history")
Warn = Callable[[str], None]


async def load_history(engine: ChainEngine, topics: Topics, path: Path, since: float, *,
                       warn: Warn = log.warning) -> int:
    """Replay what `path` recorded since `since` into `engine`; returns how many messages.

    Ends with the monitor marked disconnected at the last recorded moment: between then and
    the live connection the screen shows UNKNOWN, which is the truth. No file, or an empty
    one, is no history; a damaged one is set aside (what was folded before the damage
    showed is kept). Each thing to tell the user is one line through `warn`.
    """
    fold = Fold(engine, topics, HISTORY)
    try:
        recording = Recording(path)
    except (NoInputError, EmptyRecordingError):
        return 0
    except UnusableRecordingError as error:
        warn(set_aside(path, error))
        return 0
    try:
        with recording:
            # Read on the loop, not in a thread: reading a chunk is a twentieth of folding it.
            rows = recording.rows(since=since)
            while chunk := list(islice(rows, CHUNK)):
                fold.feed(chunk)
                await asyncio.sleep(0)
            # Not `warnings()`: columns we do not know are the recorder's to refuse, and
            # `keep_history` says so, setting the file aside once its history is shown.
            if (note := recording.damage.note(path)) is not None:
                warn(note)
    except UnusableRecordingError as error:  # damaged further in
        warn(set_aside(path, error))
    if fold.finish() is not None and fold.last_at is not None:
        fold.recorder_lost(fold.last_at)
    return fold.folded


async def keep_history(stack: contextlib.AsyncExitStack, path: Path, *,
                       warn: Warn = log.warning) -> Recorder:
    """The recorder of the screen's history, entered on `stack`; a file it cannot append
    to for what is in it is set aside and begun anew."""
    try:
        return await stack.enter_async_context(Recorder(path))
    except UnusableRecordingError as error:
        warn(set_aside(path, error))
        return await stack.enter_async_context(Recorder(path))


def set_aside(path: Path, why: ConfigError) -> str:
    """Rename the damaged `path` (and SQLite's files beside it) to `NAME.damaged-<time>`;
    returns the line saying so."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for n in range(2, 100):
        if not any(_beside(aside, c).exists() for c in ("", *SQLITE_COMPANIONS)):
            break
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")  # never over an older one
    try:
        path.rename(aside)
        for companion in SQLITE_COMPANIONS:
            if _beside(path, companion).exists():
                _beside(path, companion).rename(_beside(aside, companion))
    except OSError as error:
        raise ConfigError(f"{why}; cannot set it aside ({error.strerror}): move it away, "
                          "or start with --history-hours 0") from None
    return f"{why}; set aside as {aside.name}, the screen starts without that history"


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)

"""Persistent history: fold a recording into a fresh engine, so trends never start empty."""

from __future__ import annotations

import asyncio
from itertools import islice
from pathlib import Path
from typing import Final

from chain.engine import ChainEngine
from chain.errors import NoInputError
from chain.topics import Topics
from recording.fold import HISTORY, Fold
from recording.reader import EmptyRecordingError, Recording

CHUNK: Final = 500
"""Rows folded between two yields to the event loop: a day of the whole chain takes many
seconds to fold, and a demo's agents share the loop meanwhile. Measured on 24 h: the loop
waits at most 20-30 ms (2 000 rows a chunk: 110 ms), for no loss of rate."""


async def load_history(engine: ChainEngine, topics: Topics, path: Path, since: float) -> int:
    """Replay what `path` recorded since `since` into `engine`; returns how many messages.

    Ends with the monitor marked disconnected at the last recorded moment: between then and
    the live connection the screen shows UNKNOWN, which is the truth. No file, or an empty
    one, is no history.
    """
    fold = Fold(engine, topics, HISTORY)
    try:
        recording = Recording(path)
    except (NoInputError, EmptyRecordingError):
        return 0
    with recording:
        # Read on the loop, not in a thread: reading a chunk is a twentieth of folding it.
        rows = recording.rows(since=since)
        while chunk := list(islice(rows, CHUNK)):
            fold.feed(chunk)
            await asyncio.sleep(0)
    if fold.finish() is not None and fold.last_at is not None:
        fold.recorder_lost(fold.last_at)
    return fold.folded

"""Persistent history: fold a recording into a fresh engine, so trends never start empty."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from chain.engine import ChainEngine
from chain.inbox import EngineSink, deliver
from chain.topics import Topics
from recording.recorder import read_since

EVALUATE_EVERY: Final = 300.0
"""Seconds of recorded time between evaluations, which rebuild the crisis log as it was."""


async def load_history(engine: ChainEngine, topics: Topics, path: Path, since: float) -> int:
    """Replay what `path` recorded since `since` into `engine`; returns how many messages.

    Ends with the monitor marked disconnected at the last recorded moment: between then and
    the live connection the screen shows UNKNOWN, which is the truth.
    """
    sink = EngineSink(engine)
    replayed = 0
    first: float | None = None
    evaluated = 0.0
    last = 0.0
    async for row in read_since(path, since):
        if first is None:
            first = evaluated = row.received_at
            engine.monitor_connected(first)
        deliver(topics, sink, row.topic, row.payload, row.retain, row.received_at)
        replayed += 1
        last = row.received_at
        if last - evaluated >= EVALUATE_EVERY:
            engine.evaluate(last)
            evaluated = last
    if first is not None:
        engine.evaluate(last)
        engine.monitor_disconnected(last)
        engine.evaluate(last)
    return replayed

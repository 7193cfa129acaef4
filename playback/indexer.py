"""Indexing: play a recording once, as fast as possible, keeping a checkpoint every EVERY
seconds of it, so that any later replay seeks anywhere at once. Resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable

from chain.engine import ChainEngine
from chain.topics import Topics
from chain.topology import Topology
from playback.player import CHUNK, Player
from recording.checkpoints import EVERY, CheckpointStore
from recording.reader import Recording

Progress = Callable[[float, int], None]
"""(fraction of the recording's span done, messages played)."""


def build_index(recording: Recording, topology: Topology, topics: Topics,
                progress: Progress | None = None) -> int:
    """Checkpoint the whole recording; returns how many messages had to be played."""
    store = CheckpointStore(recording.path, recording.identity, topology, writable=True)
    try:
        player = Player(recording, ChainEngine(topology), topics, store=store,
                        on_checkpoint=lambda *checkpoint: store.add(*checkpoint))
        latest = store.latest_slot()
        if latest is not None:
            player.seek(latest * EVERY)
        first, last = recording.span.first_at, recording.span.last_at
        while player.advance(last, limit=20 * CHUNK):
            if progress is not None:
                progress((player.position - first) / max(last - first, 1e-9), player.applied)
        return player.applied
    finally:
        store.close()


def index_needed(recording: Recording, store: CheckpointStore) -> bool:
    """True when the last checkpoint lies more than one interval before the recording's end."""
    latest = store.latest_slot()
    return int(recording.span.last_at // EVERY) - (latest or 0) > 1

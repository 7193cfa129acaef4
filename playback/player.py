"""The player: a recording folded into a state engine on the recording's own clock.

Playing and seeking give the same engine: the fold (recording/fold.py) decides where to
evaluate from the rows alone, whatever path led there, and a checkpoint holds exactly the
rows before its moment, with the fold's memory of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

from chain.engine import ChainEngine
from chain.topics import Topics
from recording.checkpoints import EVERY, CheckpointStore, freeze, thaw
from recording.fold import REPLAY, EvaluationPolicy, Fold
from recording.reader import Recording, Row

CHUNK: Final = 5000
RECENT: Final = 16
"""Checkpoints the player keeps of what it played itself, for seeking back a little."""

OnCheckpoint = Callable[[int, int, bytes, bytes], None]
"""(slot, after_id, the fold's memory, frozen engine): a checkpoint was passed."""


class Player:
    def __init__(
        self,
        recording: Recording,
        engine: ChainEngine,
        topics: Topics,
        *,
        store: CheckpointStore | None = None,
        policy: EvaluationPolicy = REPLAY,
        on_checkpoint: OnCheckpoint | None = None,
    ) -> None:
        """`policy`: the report's (REPLAY), so the report says what this screen shows."""
        self.recording = recording
        self.engine = engine
        self.topics = topics
        self.policy = policy
        self._store = store
        self._on_checkpoint = on_checkpoint
        self._recent: dict[int, tuple[int, bytes, bytes]] = {}
        self._rewind()

    def _rewind(self) -> None:
        self.engine.take_state_of(ChainEngine(self.engine.topology))
        # The recorder was connected when it recorded; the screen may look before the first row.
        self._fold = Fold(self.engine, self.topics, self.policy,
                          connected_at=self.recording.span.first_at)
        self._after_id = self.recording.span.first_id - 1
        self._checkpoint_slot = int(self.recording.span.first_at // EVERY)
        self._buffer: deque[Row] = deque()
        self.position = self.recording.span.first_at
        self.applied = 0

    @property
    def started(self) -> bool:
        return self._after_id >= self.recording.span.first_id

    @property
    def at_end(self) -> bool:
        return self._after_id >= self.recording.span.last_id

    # ----------------------------------------------------------------- playing

    def advance(self, until: float, *, limit: int = 1 << 62) -> int:
        """Apply the rows received up to `until`, at most `limit` of them; returns how many."""
        applied = 0
        buffer = self._buffer
        while applied < limit:
            if not buffer:
                buffer.extend(self.recording.rows_after(self._after_id, CHUNK))
                if not buffer:
                    break
            if buffer[0].received_at > until:
                self._fold.ahead(buffer[0])
                break
            self._apply(buffer.popleft())
            applied += 1
        self.applied += applied
        if applied < limit:
            self.position = max(self.position, min(until, self.recording.span.last_at))
        return applied

    def _apply(self, row: Row) -> None:
        at = row.received_at
        slot = int(at // EVERY)
        if slot > self._checkpoint_slot:
            if self.started:
                self._checkpoint(slot)
            self._checkpoint_slot = slot
        self._fold.take(row)
        self._after_id = row.id
        self.position = at

    def _checkpoint(self, slot: int) -> None:
        memory, state = self._fold.memory(), freeze(self.engine)
        self._recent[slot] = (self._after_id, memory, state)
        if len(self._recent) > RECENT:
            del self._recent[min(self._recent)]
        if self._on_checkpoint is not None:
            self._on_checkpoint(slot, self._after_id, memory, state)

    # ----------------------------------------------------------------- seeking

    def seek(self, at: float) -> None:
        """Be exactly where playing from the start up to `at` would be."""
        at = self.jump_near(at)
        self.advance(at)
        self.position = at

    def jump_near(self, at: float) -> float:
        """Restore the best checkpoint for reaching `at` (or rewind), without playing on;
        `advance(at)` finishes the seek. Returns `at` kept within the recording."""
        at = min(max(at, self.recording.span.first_at), self.recording.span.last_at)
        if self.position <= at <= self.position + EVERY:
            return at
        best = self._best_checkpoint(at)
        if best is not None and (best[0] * EVERY > self.position or at < self.position):
            self._restore(*best)
        elif at < self.position:
            self._rewind()
        return at

    def _best_checkpoint(self, at: float) -> tuple[int, int, bytes, ChainEngine] | None:
        wanted = int(at // EVERY)
        mine = max((s for s in self._recent if s <= wanted), default=None)
        stored = self._store.at_or_before(at) if self._store is not None else None
        if stored is not None and not self._fold.fits(stored.fold):
            stored = None  # kept by a fold of another policy: its decisions are not ours
        if stored is not None and (mine is None or stored.slot >= mine):
            return stored.slot, stored.after_id, stored.fold, stored.engine
        if mine is not None:
            after_id, memory, state = self._recent[mine]
            return mine, after_id, memory, thaw(state, self.engine.topology)
        return None

    def _restore(self, slot: int, after_id: int, memory: bytes, engine: ChainEngine) -> None:
        self.engine.take_state_of(engine)
        self._fold.recall(memory)
        self._after_id = after_id
        self._checkpoint_slot = slot
        self._buffer.clear()
        self.position = slot * EVERY

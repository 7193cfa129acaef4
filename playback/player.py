"""The player: a recording folded into a state engine on the recording's own clock.

Playing and seeking give the same engine: evaluations happen at fixed points of recorded
time, whatever path led there, and a checkpoint holds exactly the rows before its moment.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Final

from chain.engine import ChainEngine
from chain.inbox import EngineSink, deliver
from chain.topics import Topics
from recording.checkpoints import EVERY, CheckpointStore, freeze, thaw
from recording.rows import Recording, Row

EVALUATE_EVERY: Final = 5.0
"""Recorded seconds between evaluations, which write state changes into the crisis log."""
CHUNK: Final = 5000
RECENT: Final = 16
"""Checkpoints the player keeps of what it played itself, for seeking back a little."""

OnCheckpoint = Callable[[int, int, int, bytes], None]
"""(slot, after_id, evaluated_slot, frozen engine): a checkpoint was passed."""


class Player:
    def __init__(
        self,
        recording: Recording,
        engine: ChainEngine,
        topics: Topics,
        *,
        store: CheckpointStore | None = None,
        evaluate_every: float = EVALUATE_EVERY,
        on_checkpoint: OnCheckpoint | None = None,
    ) -> None:
        self.recording = recording
        self.engine = engine
        self.topics = topics
        # An exercise is dated by its driver's clock, as the leader's screen dated it.
        self._sink = EngineSink(engine, dated_by_sender=topics.is_exercise)
        self._store = store
        self._step = evaluate_every
        self._on_checkpoint = on_checkpoint
        self._recent: dict[int, tuple[int, int, bytes]] = {}
        self._rewind()

    def _rewind(self) -> None:
        self.engine.take_state_of(ChainEngine(self.engine.topology))
        # The recorder was connected when it recorded; the screen may look before the first row.
        self.engine.monitor_connected(self.recording.span.first_at)
        self._after_id = self.recording.span.first_id - 1
        self._evaluated_slot = -1
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
        deliver(self.topics, self._sink, row.topic, row.payload, row.retain, at)
        self._after_id = row.id
        self.position = at
        evaluated = int(at // self._step) if self._step > 0 else row.id
        if evaluated != self._evaluated_slot:
            self.engine.evaluate(at)
            self._evaluated_slot = evaluated

    def _checkpoint(self, slot: int) -> None:
        state = freeze(self.engine)
        self._recent[slot] = (self._after_id, self._evaluated_slot, state)
        if len(self._recent) > RECENT:
            del self._recent[min(self._recent)]
        if self._on_checkpoint is not None:
            self._on_checkpoint(slot, self._after_id, self._evaluated_slot, state)

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

    def _best_checkpoint(self, at: float) -> tuple[int, int, int, ChainEngine] | None:
        wanted = int(at // EVERY)
        mine = max((s for s in self._recent if s <= wanted), default=None)
        stored = self._store.at_or_before(at) if self._store is not None else None
        if stored is not None and (mine is None or stored.slot >= mine):
            return stored.slot, stored.after_id, stored.evaluated_slot, stored.engine
        if mine is not None:
            after_id, evaluated_slot, state = self._recent[mine]
            return mine, after_id, evaluated_slot, thaw(state)
        return None

    def _restore(self, slot: int, after_id: int, evaluated_slot: int,
                 engine: ChainEngine) -> None:
        self.engine.take_state_of(engine)
        self._after_id = after_id
        self._evaluated_slot = evaluated_slot
        self._checkpoint_slot = slot
        self._buffer.clear()
        self.position = slot * EVERY

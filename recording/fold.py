"""The one fold of a recording into a state engine: every row routed by `chain.inbox.deliver`,
as the live monitor routes it, and the engine evaluated where an EvaluationPolicy says.

A screen's history, the player and the after-action report all fold through here, so a
replayed screen and the report judge the same rows alike and date the same changes at the
same moments. Evaluating is what writes the crisis log, so the policy decides what the log
says: a time-driven change (an organisation going STALE) is dated by the first evaluation
that sees it, a message-driven one by its message when the policy evaluates around it.

Every decision depends only on the rows folded so far, never on how they were split into
chunks; and what it depends on beyond the engine travels with a checkpoint (`memory`), so a
player that seeks is exactly where one that played there is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Final, Protocol

from chain.engine import STALE_AFTER_INTERVALS, ChainEngine
from chain.inbox import dated, deliver
from chain.topics import Topics
from chain.views import ChainView
from chain.wire import (
    ChannelReading,
    Control,
    ExerciseInject,
    Heartbeat,
    ManualReport,
    Message,
    Op,
    Status,
)
from recording.reader import Row


@dataclass(frozen=True)
class EvaluationPolicy:
    """When a fold evaluates the engine."""

    every: float
    """Seconds of recorded time per slot, counted from the epoch (so from whatever row a
    fold starts, the slots fall alike): the first row folded in a slot other than the last
    evaluated one is evaluated at its moment, once applied. 0: after every row."""
    around_changes: bool = True
    """Also evaluate just before and just after each message that can change a state (a
    status, a channel going up or down, an operator action, a rejected payload, the first
    heartbeat after a silence long enough to be STALE): the change is dated by its message,
    and a state that lasted less than a slot still shows."""
    settle: bool = True
    """Evaluate nothing until the retained messages of the recorder's first subscription
    are in (the first live row): the first evaluation is the starting point, not news."""


RESUBSCRIBE_GAP: Final = 0.25
"""Seconds of recorded time from the last live row to a retained one for that to be a fresh
subscription after an outage: losing the broker, noticing it and subscribing again take
longer than that, while a first subscription's retained copies can come among the first
live messages within milliseconds."""

REPLAY: Final = EvaluationPolicy(every=10.0)
"""The player's and the report's, so the report says what the replayed screen showed. An
evaluation of the whole chain costs about 0.3 ms, as much as folding 50 messages: every
10 s that is a fifth of the fold at the chain's 20 messages a second. Every 5 s (the
player's cadence before) doubles that, to date a STALE at most 5 s late instead of 10; a
change a message makes is dated by it either way."""
HISTORY: Final = REPLAY
"""A screen's warm-up, so it logs what a replay of the same hours logs: 24 h of the whole
chain (1.8 million rows) fold in 17-19 s; every 300 s without evaluating around changes,
in 14.5 s, but missing the short spells (2 155 log entries instead of 3 411)."""
EVERY_ROW: Final = EvaluationPolicy(every=0.0, around_changes=False, settle=False)
"""After each message and only then, as a screen that evaluates at every message does."""


class FoldHook(Protocol):
    """What a pass over a whole recording adds to the fold (the report's extras). A hook's
    own state is not in a checkpoint: a player, which restores them, folds without one."""

    def message(self, message: Message, at: float) -> None:
        """A message, at the moment the fold dates it."""

    def op(self, op: Op, at: float) -> None: ...

    def control(self, control: Control, at: float) -> None: ...

    def evaluated(self, view: ChainView) -> None:
        """Every evaluation: what a screen looking then would have shown."""


class Fold:
    """Folds rows under `topics.root` into `engine`; also the sink `deliver` hands them to."""

    def __init__(self, engine: ChainEngine, topics: Topics, policy: EvaluationPolicy, *,
                 hook: FoldHook | None = None, connected_at: float | None = None) -> None:
        """`connected_at`: when the recorder was connected, if known before its first row
        (a screen may look at a replay before the first row is played)."""
        self.engine = engine
        self.topics = topics
        self.policy = policy
        self._hook = hook
        self._prefix = topics.root + "/"
        # An exercise is dated by its driver's clock, as the leader's screen dated it: on a
        # fast clock, transit would turn milliseconds into minutes.
        self._dated_by_sender = topics.is_exercise
        self._around = policy.around_changes
        self.folded = 0
        """Rows folded under the root (in this pass: not restored with a checkpoint)."""
        self.first: ChainView | None = None
        """The chain at the first evaluation, once settled (in this pass)."""
        self._connected = False
        self._started = not policy.settle
        self._evaluated_slot = -1
        self.last_at: float | None = None
        """When the last row folded was received."""
        self._alive: dict[str, float] = {}
        """When each organisation's last live heartbeat arrived."""
        self._up: dict[tuple[str, str], bool] = {}
        """Each channel's last reading, up or down."""
        self._previous: tuple[float, bool] | None = None
        """The last row's arrival and whether it was a retained copy."""
        self.gaps: list[tuple[float, float]] = []
        """Spans in which the recorder had lost the broker (in this pass)."""
        self._away_since: float | None = None
        """Set while a replay waits before a gap's end (see `ahead`)."""
        if connected_at is not None:
            self.connect(connected_at)

    # ----------------------------------------------------------------- folding

    def feed(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self.take(row)

    def take(self, row: Row) -> None:
        if not row.topic.startswith(self._prefix):
            return  # another root (an exercise beside the live chain): another screen's
        at = row.received_at
        if not self._connected:
            self.connect(at)
        previous, self._previous = self._previous, (at, row.retain)
        if previous is not None and row.retain and not previous[1] and (
            at - previous[0] >= RESUBSCRIBE_GAP
        ):
            # A burst of retained messages after live ones: the recorder subscribed afresh,
            # so it had lost the broker somewhere after the last message before it. Every
            # screen, replay and report sees the monitor disconnected then, not every
            # organisation going STALE while nobody was listening.
            self.gaps.append((previous[0], at))
            self.recorder_lost(previous[0], at)
        self._away_since = None
        if not self._started and not row.retain:
            self._start(at if self.last_at is None else self.last_at)
        deliver(self.topics, self, row.topic, row.payload, row.retain, at)
        self.folded += 1
        self.last_at = at
        if self._started:
            every = self.policy.every
            if every <= 0:
                self._evaluate(at)
                return
            slot = int(at // every)
            if slot != self._evaluated_slot:
                self._evaluated_slot = slot
                self._evaluate(at)

    def ahead(self, row: Row) -> None:
        """`row` is next but not yet due (a replay stopped before it): if it begins a fresh
        subscription's burst, the recorder is away from the last row on, and a screen now
        shows that, as the report (which has seen the burst) does."""
        previous = self._previous
        if previous is None or previous[1] or not row.retain or self._away_since is not None:
            return
        if row.received_at - previous[0] < RESUBSCRIBE_GAP:
            return
        if row.topic.startswith(self._prefix):
            self._away_since = previous[0]
            self.recorder_lost(previous[0])

    def finish(self) -> ChainView | None:
        """The chain as of the last row folded, evaluated; None if no row was."""
        if self.last_at is None:
            return None
        if not self._started:
            self._start(self.last_at)
        return self._evaluate(self.last_at)

    def _evaluate(self, at: float) -> ChainView:
        view = self.engine.evaluate(at)
        if self._hook is not None:
            self._hook.evaluated(view)
        return view

    def connect(self, at: float) -> None:
        self.engine.monitor_connected(at)
        self._connected = True

    def recorder_lost(self, lost_after: float, back_at: float | None = None) -> None:
        """The recorder lost the broker after `lost_after` (and subscribed again at
        `back_at`): the monitor was disconnected, not every organisation quiet."""
        if self._started:
            self._evaluate(lost_after)
        self.engine.monitor_disconnected(lost_after)
        if self._started:
            self._evaluate(lost_after)
        if back_at is not None:
            self.engine.monitor_connected(back_at)

    def _start(self, at: float) -> None:
        self._started = True
        if self.policy.every > 0:
            self._evaluated_slot = int(at // self.policy.every)
        self.first = self._evaluate(at)

    def _around_change(self, at: float) -> None:
        if self._started:
            self._evaluate(at)

    def _changes(self, message: Message, at: float, retained: bool) -> bool:
        """Whether `message` can change a state; keeps what telling that needs."""
        match message:
            case Status():
                return True
            case Heartbeat(org=org, interval=interval) if not (message.hist or retained):
                previous = self._alive.get(org, at)
                self._alive[org] = at
                return at - previous > STALE_AFTER_INTERVALS * interval
            case ChannelReading(org=org, channel=channel, up=up) if not message.hist:
                return self._channel_read(org, channel, up)
            case _:
                return False

    def _channel_read(self, org: str, channel: str, up: bool) -> bool:
        """True when the reading changes the channel, or is its first."""
        if self._up.get((org, channel)) == up:
            return False
        self._up[(org, channel)] = up
        return True

    # ----------------------------------------------------------- checkpoints

    def memory(self) -> bytes:
        """What this fold's decisions depend on beyond the engine, for a checkpoint."""
        return json.dumps({
            "policy": asdict(self.policy), "connected": self._connected,
            "started": self._started, "evaluated_slot": self._evaluated_slot,
            "last_at": self.last_at, "alive": self._alive,
            "up": [[org, channel, up] for (org, channel), up in self._up.items()],
            "previous": self._previous,
        }).encode()

    def fits(self, memory: bytes) -> bool:
        """Whether `memory` is whole and was kept by a fold of this policy (another one's
        checkpoints cannot be continued from)."""
        try:
            return _recalled(memory)[0] == asdict(self.policy)
        except (ValueError, KeyError, TypeError, AttributeError):
            return False

    def recall(self, memory: bytes) -> None:
        """Be the fold that kept `memory` (with the engine restored beside it)."""
        (_, self._connected, self._started, self._evaluated_slot, self.last_at, self._alive,
         self._up, self._previous) = _recalled(memory)

    # ------------------------------------------------------------ MonitorSink

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        received_at = dated(message, received_at, retained=retained,
                            by_sender=self._dated_by_sender)
        if self._hook is not None:
            self._hook.message(message, received_at)
        if not (self._around and self._changes(message, received_at, retained)):
            self.engine.apply(message, received_at=received_at, retained=retained)
            return
        self._around_change(received_at)
        self.engine.apply(message, received_at=received_at, retained=retained)
        self._around_change(received_at)

    def op_received(self, op: Op, *, received_at: float) -> None:
        if self._around:
            self._around_change(received_at)
        self.engine.apply_op(op, received_at=received_at)
        if self._around and isinstance(op, ManualReport) and op.channel is not None and (
                op.up is not None):
            self._channel_read(op.org, op.channel, op.up)  # as good as a reading
        if self._hook is not None:
            self._hook.op(op, received_at)
        if self._around:
            self._around_change(received_at)

    def control_received(self, control: Control, *, received_at: float) -> None:
        if isinstance(control, ExerciseInject):
            self.engine.log.record_inject(control)
        if self._hook is not None:
            self._hook.control(control, received_at)

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        # Evaluated around it like any change: an INVALID spell is a change of state.
        if self._around:
            self._around_change(received_at)
        self.engine.reject(org, reason, received_at)
        if self._around:
            self._around_change(received_at)

    def connection_changed(self, connected: bool, at: float) -> None:
        """Part of the sink's protocol; `deliver` never calls it (a row is no connection
        event: the recorder's outages are told by `recorder_lost`)."""
        if connected:
            self.connect(at)
        else:
            self.engine.monitor_disconnected(at)


def _recalled(memory: bytes) -> tuple[object, bool, bool, int, float | None,
                                      dict[str, float], dict[tuple[str, str], bool],
                                      tuple[float, bool] | None]:
    """The parts of a fold's memory, checked: a damaged one raises (ValueError, KeyError,
    TypeError, AttributeError)."""
    kept = json.loads(memory)
    last_at = kept["last_at"]
    return (kept["policy"], bool(kept["connected"]), bool(kept["started"]),
            int(kept["evaluated_slot"]), None if last_at is None else float(last_at),
            {str(org): float(at) for org, at in kept["alive"].items()},
            {(str(org), str(channel)): bool(up) for org, channel, up in kept["up"]},
            None if kept["previous"] is None else (float(kept["previous"][0]),
                                                   bool(kept["previous"][1])))

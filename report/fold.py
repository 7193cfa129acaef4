"""Fold a whole recording into an engine and a report builder: the after-action report.

Like `history.load_history`, every row goes through the monitor's own `deliver` into a
fresh engine, so the report judges exactly as the crisis-room screen did. Unlike it:

- the engine is evaluated far more often (every EVALUATE_EVERY seconds of recorded time,
  and before and after every message that can change a state: a status, a channel going
  up or down, an operator action, the first heartbeat after a silence), so a short outage
  shows and every change is dated to the message that made it;
- the recorder's own outages are found and shown as the monitor being disconnected (after
  one, a fresh subscription brings a burst of retained messages), instead of every
  organisation going STALE while nobody was listening;
- it ends with the chain as last recorded, not with the monitor disconnected.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

from chain.crisislog import CrisisLog
from chain.engine import STALE_AFTER_INTERVALS, ChainEngine
from chain.errors import ConfigError
from chain.inbox import deliver
from chain.topics import Topics
from chain.topology import Topology
from chain.views import ChainView
from chain.wire import (
    BacklogGauge,
    ChannelReading,
    Control,
    ExerciseInject,
    Heartbeat,
    ManualReport,
    Message,
    Op,
    Status,
)
from recording.reader import RecordingReader, Row, Summary
from report.model import AfterActionReport, RecordingFacts, ReportBuilder

EVALUATE_EVERY: Final = 10.0
"""Seconds of recorded time between evaluations (about 0.1 ms each). A change no message
causes (a link's recovery) is dated to the evaluation that sees it."""
MAX_EVALUATIONS: Final = 100_000
"""...but no more than this many over a recording: an exercise covering weeks of scenario
time in an hour would otherwise cost minutes of evaluations for nothing."""
LOG_LIMIT: Final = 200_000
TOP_REASONS: Final = 5


def fold_recording(path: Path, topology: Topology, *, root: str | None = None
                   ) -> AfterActionReport:
    """The report of the recording at `path`, under `root` (default: its most common root)."""
    with RecordingReader(path) as recording:
        summary = recording.summary()
        root = root or _main_root(path, summary)
        fold = _Fold(topology, Topics(root), summary.first_at, summary.last_at)
        fold.run(recording.rows())
    if fold.folded == 0:
        found = ", ".join(f"{name} ({count})" for name, count in summary.roots.most_common(3))
        raise ConfigError(f"{path}: no messages under the root {root!r}"
                          + (f"; found {found}" if found else ""))
    facts = RecordingFacts(
        source=str(path), messages=summary.messages, first_at=summary.first_at,
        last_at=summary.last_at, rejected=summary.problems.total(),
        reasons=tuple(summary.problems.most_common(TOP_REASONS)),
        roots=tuple(summary.roots.most_common()), root=root, folded=fold.folded,
        gaps=tuple(fold.gaps), exercise=fold.exercise,
    )
    return fold.build(facts)


def _main_root(path: Path, summary: Summary) -> str:
    if not summary.roots:
        raise ConfigError(f"{path}: no topic in the recording has the shape of wire contract "
                          "v1 (<root>/<org>/heartbeat, ...); give the root with --root")
    return summary.roots.most_common(1)[0][0]


class _Fold:
    """The monitor sink of the fold, and the clock that decides when to evaluate."""

    def __init__(self, topology: Topology, topics: Topics, start: float, end: float) -> None:
        self.engine = ChainEngine(topology, log=CrisisLog(limit=LOG_LIMIT))
        self.builder = ReportBuilder(topology, start=start, end=end)
        self.topics = topics
        self.every = max(EVALUATE_EVERY, (end - start) / MAX_EVALUATIONS)
        self.exercise = ""
        """The exercise's name and title, from its clock, when the recording is of one."""
        self.folded = 0
        self.gaps: list[tuple[float, float]] = []
        self._started = False
        """Evaluating: the retained messages of the first subscription are in."""
        self._evaluated = start
        self._alive: dict[str, float] = {}
        """When each organisation's last live heartbeat arrived."""
        self._first: ChainView | None = None
        self._last: ChainView | None = None

    def run(self, rows: Iterable[Row]) -> None:
        prefix = self.topics.root + "/"
        previous: Row | None = None
        for row in rows:
            if not row.topic.startswith(prefix):
                continue  # another root: an exercise beside the live chain, say
            if previous is None:
                self.engine.monitor_connected(row.received_at)
            elif row.retain and not previous.retain:
                self._resubscribed(previous.received_at, row.received_at)
            if not self._started and not row.retain:
                self._start(previous.received_at if previous else row.received_at)
            elif self._started and row.received_at - self._evaluated >= self.every:
                self._evaluate(row.received_at)
            deliver(self.topics, self, row.topic, row.payload, row.retain, row.received_at)
            self.folded += 1
            previous = row
        if previous is not None:
            if not self._started:
                self._start(previous.received_at)
            self._last = self._evaluate(previous.received_at)

    def build(self, facts: RecordingFacts) -> AfterActionReport:
        assert self._first is not None and self._last is not None
        log = self.engine.log
        return self.builder.build(facts, log.entries, log_dropped=log.dropped,
                                  first=self._first, last=self._last)

    def _start(self, at: float) -> None:
        # The first evaluation is the starting point: what it finds is not news.
        self._started = True
        self._first = self._evaluate(at)

    def _evaluate(self, at: float) -> ChainView:
        self._evaluated = max(self._evaluated, at)
        return self.engine.evaluate(at)

    def _resubscribed(self, lost_after: float, back_at: float) -> None:
        """A burst of retained messages after live ones: the recorder subscribed afresh, so
        it had lost the broker somewhere after the last message before it."""
        self.gaps.append((lost_after, back_at))
        if self._started:
            self._evaluate(lost_after)
        self.engine.monitor_disconnected(lost_after)
        if self._started:
            self._evaluate(lost_after)
        self.engine.monitor_connected(back_at)

    def _evaluate_change(self, at: float) -> None:
        if self._started:
            self._evaluate(at)

    # ------------------------------------------------------------- MonitorSink

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        if self.topics.is_exercise and not retained:
            # As the leader's screen does: on an exercise's fast clock, transit would turn
            # milliseconds into minutes; the scripted chain's own clock is the exercise's.
            received_at = message.ts.timestamp()
        changes = isinstance(message, Status)
        match message:
            case Heartbeat(org=org, interval=interval) if not (message.hist or retained):
                # After a silence long enough to have made it STALE, this one revives it.
                previous = self._alive.get(org, received_at)
                self._alive[org] = received_at
                changes = received_at - previous > STALE_AFTER_INTERVALS * interval
            case ChannelReading(org=org, channel=channel, up=up, detail=detail) if not message.hist:
                changes = self.builder.channel(org, channel, up, detail, received_at)
            case BacklogGauge(org=org, process=process, items=items):
                # A buffered reading is dated by the agent's clock: it fills the outage.
                at = message.ts.timestamp() if message.hist else received_at
                self.builder.backlog(org, process, items, at)
            case _:
                pass
        if not changes:
            self.engine.apply(message, received_at=received_at, retained=retained)
            return
        # Evaluated just before and just after a change, so it is dated and none is missed.
        self._evaluate_change(received_at)
        self.engine.apply(message, received_at=received_at, retained=retained)
        self._evaluate_change(received_at)

    def op_received(self, op: Op, *, received_at: float) -> None:
        self._evaluate_change(received_at)
        self.engine.apply_op(op, received_at=received_at)
        if isinstance(op, ManualReport) and op.channel is not None and op.up is not None:
            self.builder.channel(op.org, op.channel, op.up,
                                 f"reported by {op.author}: {op.text}", received_at)
        self._evaluate_change(received_at)

    def control_received(self, control: Control, *, received_at: float) -> None:
        if isinstance(control, ExerciseInject):
            self.engine.log.record_inject(control)
        else:
            self.exercise = control.name + (f": {control.title}" if control.title else "")

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        # Evaluated around it like any message: an INVALID spell is a change of state.
        self._evaluate_change(received_at)
        self.engine.reject(org, reason, received_at)
        self._evaluate_change(received_at)

    def connection_changed(self, connected: bool, at: float) -> None:
        """Part of the sink's protocol; a recording carries no connection events."""

"""Fold a whole recording into an engine and a report builder: the after-action report.

The rows go through the one fold (recording/fold.py) with the player's own policy, REPLAY,
so the report judges and dates exactly as the replayed screen does: evaluated every 10 s of
recorded time and just before and after every message that can change a state, from the
moment the first subscription's retained messages are in. What the report adds rides on
that loop as a hook:

- channel readings and backlog gauges for the timelines and charts (a buffered reading is
  dated by the agent's clock: it fills the outage);
- every subject's state at each evaluation, for the JSON report's timelines;
- every problem, when it was new and when and by whom acknowledged (report/attention.py);
- the exercise's name and title, from its clock.

It ends with the chain as last recorded, not with the monitor disconnected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from chain.crisislog import CrisisLog
from chain.engine import ChainEngine
from chain.errors import ConfigError, NoInputError
from chain.topics import Topics
from chain.topology import Topology
from chain.views import ChainView
from chain.wire import (
    BacklogGauge,
    ChannelReading,
    Control,
    ExerciseInject,
    ManualReport,
    Message,
    Op,
)
from recording.fold import REPLAY, Fold
from recording.reader import Recording, Summary
from report.attention import AttentionTracker
from report.model import AfterActionReport, RecordingFacts, ReportBuilder
from report.states import StateTracker

LOG_LIMIT: Final = 200_000
TOP_REASONS: Final = 5


def fold_recording(path: Path, topology: Topology, *, root: str | None = None
                   ) -> AfterActionReport:
    """The report of the recording at `path`, under `root` (default: its most common root)."""
    if not path.exists():
        # The report's own wording, which its users and tests know: it names files.
        raise NoInputError(f"{path}: no such file")
    with Recording(path) as recording:
        summary = recording.summary()
        root = root or _main_root(path, summary)
        engine = ChainEngine(topology, log=CrisisLog(limit=LOG_LIMIT))
        extras = _Extras(ReportBuilder(topology, start=summary.first_at, end=summary.last_at))
        fold = Fold(engine, Topics(root), REPLAY, hook=extras)
        fold.feed(recording.rows())
        last = fold.finish()
    if last is None or fold.first is None:
        found = ", ".join(f"{name} ({count})" for name, count in summary.roots.most_common(3))
        raise ConfigError(f"{path}: no messages under the root {root!r}"
                          + (f"; found {found}" if found else ""))
    facts = RecordingFacts(
        source=str(path), messages=summary.messages, first_at=summary.first_at,
        last_at=summary.last_at, rejected=summary.problems.total(),
        reasons=tuple(summary.problems.most_common(TOP_REASONS)),
        roots=tuple(summary.roots.most_common()), root=root, folded=fold.folded,
        gaps=tuple(fold.gaps), exercise=extras.exercise, warnings=tuple(recording.warnings()),
    )
    return extras.builder.build(facts, engine.log.entries, log_dropped=engine.log.dropped,
                                first=fold.first, last=last, states=extras.states.timelines(),
                                problems=extras.attention.histories(fold.last_at or last.at),
                                problems_dropped=extras.attention.dropped)


def _main_root(path: Path, summary: Summary) -> str:
    if not summary.roots:
        raise ConfigError(f"{path}: no topic in the recording has the shape of wire contract "
                          "v1 (<root>/<org>/heartbeat, ...); give the root with --root")
    return summary.roots.most_common(1)[0][0]


class _Extras:
    """The report's hook on the fold: readings for the builder, gaps, the exercise."""

    def __init__(self, builder: ReportBuilder) -> None:
        self.builder = builder
        self.exercise = ""
        """The exercise's name and title, from its clock, when the recording is of one."""
        self.states = StateTracker()
        self.attention = AttentionTracker()

    def evaluated(self, view: ChainView) -> None:
        self.states.evaluated(view)
        self.attention.evaluated(view)

    def message(self, message: Message, at: float) -> None:
        match message:
            case ChannelReading(org=org, channel=channel, up=up, detail=detail) if not message.hist:
                self.builder.channel(org, channel, up, detail, at)
            case BacklogGauge(org=org, process=process, items=items):
                # A buffered reading is dated by the agent's clock: it fills the outage.
                self.builder.backlog(org, process, items,
                                     message.ts.timestamp() if message.hist else at)
            case _:
                pass

    def op(self, op: Op, at: float) -> None:
        if isinstance(op, ManualReport) and op.channel is not None and op.up is not None:
            self.builder.channel(op.org, op.channel, op.up,
                                 f"reported by {op.author}: {op.text}", at)

    def control(self, control: Control, at: float) -> None:
        if not isinstance(control, ExerciseInject):
            self.exercise = control.name + (f": {control.title}" if control.title else "")

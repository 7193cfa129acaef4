"""The crisis log: every change of state that held, and everything the operators did, in
time order.

A change of a link or a process enters the log once it has held for HOLD (a state that
comes and goes within that is not news); a run of back-and-forth of one link or process
within FLAPPING_WINDOW is one entry, rewritten with the latest state and how often it
changed. An organisation's states are confirmed by their own rules (STALE after three
intervals, OFFLINE on a confirmed Will) and each is logged at once, on its own.
"""

from __future__ import annotations

import enum
from bisect import insort
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

import msgspec

from chain.views import ChainView
from chain.wire import Acknowledgement, Annotation, ExerciseInject, Isolation, ManualReport, Op

MAX_ENTRIES: Final = 20_000
HOLD: Final = 300.0
"""Seconds a link's or a process's new state must hold before it is logged (an
organisation's states are confirmed by their own rules: STALE after three intervals,
OFFLINE on a confirmed Will, so they are logged at once)."""
FLAPPING_WINDOW: Final = 1800.0
"""Changes of one subject less than this apart (s) are one run: one entry."""


class EntryKind(enum.StrEnum):
    ORG = "org"
    LINK = "link"
    PROCESS = "process"
    ANNOTATION = "annotation"
    ACK = "ack"
    REPORT = "report"
    ISOLATION = "isolation"
    MONITOR = "monitor"
    INJECT = "inject"


class LogEntry(msgspec.Struct, frozen=True, kw_only=True, order=True):
    at: float
    kind: EntryKind
    subject: str
    """The organisation, link or process it concerns ("" for a general annotation)."""
    text: str
    author: str = ""
    state: str = ""
    """The new state (`OrgState`, `LinkState` or `ProcessState` value) of a state change."""
    changes: int = 1
    """How many changes of its subject this entry stands for (a run of back-and-forth)."""
    last_at: float | None = None
    """When the latest of those changes happened, if more than one."""
    until: float | None = None
    """An acknowledgement's end, if it was given one (docs/attention.md)."""


class RunSnapshot(msgspec.Struct, frozen=True, array_like=True):
    kind: EntryKind
    subject: str
    index: int | None
    """Where its entry is among the log's entries, if still kept."""
    entry: LogEntry
    states: list[str]
    latest: float


class LogSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[LogEntry]
    limit: int
    dropped: int
    last: list[tuple[EntryKind, str, str]]
    logged_at: list[tuple[EntryKind, str, float]]
    pending: list[tuple[EntryKind, str, str, float]]
    runs: list[RunSnapshot]
    seen_ops: list[str]
    monitor_up: bool | None
    fresh_injects: list[ExerciseInject]


class _Run:
    """A subject's changes in quick succession, shown as one entry."""

    __slots__ = ("entry", "latest", "states")

    def __init__(self, *, entry: LogEntry, states: set[str], latest: float) -> None:
        self.entry = entry
        self.states = states
        self.latest = latest


class CrisisLog:
    """Entries kept in time order; the oldest go beyond `limit` (counted in `dropped`)."""

    def __init__(self, *, limit: int = MAX_ENTRIES) -> None:
        self.entries: list[LogEntry] = []
        self.limit = limit
        self.dropped = 0
        self._last: dict[tuple[EntryKind, str], str] = {}
        self._logged_at: dict[tuple[EntryKind, str], float] = {}
        self._pending: dict[tuple[EntryKind, str], tuple[str, float]] = {}
        """A new state not yet held for HOLD: (state, since when)."""
        self._runs: dict[tuple[EntryKind, str], _Run] = {}
        """Each subject's latest entry, to extend while its changes come in a run."""
        self._seen_ops: set[str] = set()
        self._monitor_up: bool | None = None
        self._fresh_injects: list[ExerciseInject] = []
        """Injects logged since the engine last took them (`take_injects`)."""

    def snapshot(self) -> LogSnapshot:
        return LogSnapshot(
            entries=list(self.entries), limit=self.limit, dropped=self.dropped,
            last=[(kind, subject, state) for (kind, subject), state in self._last.items()],
            logged_at=[(kind, subject, at) for (kind, subject), at in self._logged_at.items()],
            pending=[(kind, subject, state, since)
                     for (kind, subject), (state, since) in self._pending.items()],
            runs=[RunSnapshot(kind, subject, self._index_of(run.entry), run.entry,
                              sorted(run.states), run.latest)
                  for (kind, subject), run in self._runs.items()],
            seen_ops=sorted(self._seen_ops), monitor_up=self._monitor_up,
            fresh_injects=list(self._fresh_injects),
        )

    @classmethod
    def from_snapshot(cls, snapshot: LogSnapshot) -> CrisisLog:
        log = cls(limit=snapshot.limit)
        log.entries = sorted(snapshot.entries, key=_at)
        log.dropped = snapshot.dropped
        log._last = {(kind, subject): state for kind, subject, state in snapshot.last}
        log._logged_at = {(kind, subject): at for kind, subject, at in snapshot.logged_at}
        log._pending = {(kind, subject): (state, since)
                        for kind, subject, state, since in snapshot.pending}
        for run in snapshot.runs:
            # A run rewrites its entry in place, found by identity: the very object again.
            kept = run.index is not None and 0 <= run.index < len(log.entries) \
                and log.entries[run.index] == run.entry
            entry = log.entries[run.index] if kept and run.index is not None else run.entry
            log._runs[(run.kind, run.subject)] = _Run(entry=entry, states=set(run.states),
                                                      latest=run.latest)
        log._seen_ops = set(snapshot.seen_ops)
        log._monitor_up = snapshot.monitor_up
        log._fresh_injects = list(snapshot.fresh_injects)
        return log

    def held(self, kind: EntryKind, subject: str) -> tuple[str, float | None]:
        """A subject's state as the log has it (a change enters the log once it held) and
        when that state began; the starting point has no time."""
        key = (kind, subject)
        return self._last.get(key, "unknown"), self._logged_at.get(key)

    def seen(self, op_id: str) -> bool:
        """Whether the operator action `op_id` is in the log already."""
        return op_id in self._seen_ops

    def record_changes(self, view: ChainView) -> list[LogEntry]:
        """Compare a fresh view with the states last seen; log every change at its `since`."""
        changes: list[LogEntry] = []
        if not view.monitor_connected:
            # Our own broker link is down: that is one entry, not one per organisation;
            # their last states are kept, so reconnecting logs only what really changed.
            if self._monitor_up and view.monitor_since is not None:
                self._add(LogEntry(at=view.monitor_since, kind=EntryKind.MONITOR,
                                   subject="", text="MONITOR DISCONNECTED from the broker"))
            self._monitor_up = False
            return changes
        if self._monitor_up is False and view.monitor_since is not None:
            self._add(LogEntry(at=view.monitor_since, kind=EntryKind.MONITOR, subject="",
                               text="monitor connected again"))
        self._monitor_up = True
        subjects: Iterable[tuple[EntryKind, str, str, float | None, str]] = [
            *((EntryKind.ORG, o.id, o.state.value, o.since, o.cause) for o in view.orgs),
            *((EntryKind.LINK, k.id, k.state.value, k.since, k.cause) for k in view.links),
            *((EntryKind.PROCESS, p.id, p.state.value, p.since, "; ".join(p.causes))
              for p in view.processes),
        ]
        for kind, subject, state, since, cause in subjects:
            key = (kind, subject)
            if self._last.get(key) == state:
                self._pending.pop(key, None)  # back before it held: nothing happened
                continue
            # Until a subject's first news, coming out of "unknown" is where it starts, not a
            # change: so a screen that looked before the first message logs what one that
            # looked after it logs.
            first = key not in self._logged_at and self._last.get(key, "unknown") == "unknown"
            if first and state in ("unknown", "ok", "flowing", "online"):
                self._last[key] = state
                continue  # the starting point is not news
            # A state's `since` dates the change, unless it predates the previous change
            # (back ONLINE keeps its first online time): then it is dated when first seen.
            previous = self._logged_at.get(key, float("-inf"))
            dated = since if since is not None and previous <= since <= view.at else None
            at = dated if dated is not None else self._first_seen(key, state, view.at)
            if kind is not EntryKind.ORG and view.at - at < HOLD:
                continue
            self._pending.pop(key, None)
            before = self._last.get(key, "unknown")
            self._last[key] = state
            text = state.upper().replace("_", " ") + (f": {cause}" if cause else "")
            self._logged_at[key] = at
            entry = LogEntry(at=at, kind=kind, subject=subject, text=text, state=state)
            changes.append(entry)
            self._add_change(entry, before)
        return changes

    def _first_seen(self, key: tuple[EntryKind, str], state: str, now: float) -> float:
        """When `state` was first seen for `key` in the evaluations since it last changed."""
        pending = self._pending.get(key)
        if pending is None or pending[0] != state:
            pending = self._pending[key] = (state, now)
        return pending[1]

    def _add_change(self, entry: LogEntry, before: str) -> None:
        """Log a change, or fold it into its subject's run: a change back to a state the run
        has been in (`before` it began included), within FLAPPING_WINDOW of its latest."""
        key = (entry.kind, entry.subject)
        run = self._runs.get(key)
        index = self._index_of(run.entry) if run is not None else None
        if entry.kind is EntryKind.ORG or run is None or index is None \
                or entry.at - run.latest >= FLAPPING_WINDOW or entry.state not in run.states:
            self._runs[key] = _Run(entry=entry, states={before, entry.state}, latest=entry.at)
            self._add(entry)
            return
        changes = run.entry.changes + 1
        first_text = run.entry.text.split("; now ", 1)[0]
        run.entry = msgspec.structs.replace(
            run.entry, text=f"{first_text}; now {entry.text} ({changes} changes)",
            state=entry.state, changes=changes, last_at=entry.at)
        run.latest = entry.at
        self.entries[index] = run.entry

    def _index_of(self, entry: LogEntry) -> int | None:
        """Where `entry` is (a recent one: searched from the end), if still kept."""
        for index in range(len(self.entries) - 1, -1, -1):
            if self.entries[index] is entry:
                return index
            if self.entries[index].at < entry.at:
                return None
        return None

    def record_op(self, op: Op, received_at: float, *, marked: str = "",
                  unmarked: str = "no problem") -> LogEntry | None:
        """Log an operator action once. For an acknowledgement, `marked` is the state of the
        problem it marked, or "" when it marked nothing, for the reason `unmarked`."""
        if op.id in self._seen_ops:
            return None
        self._seen_ops.add(op.id)
        match op:
            case Annotation():
                entry = LogEntry(at=received_at, kind=EntryKind.ANNOTATION, subject=op.org or "",
                                 text=op.text, author=op.author)
            case Acknowledgement():
                entry = LogEntry(at=received_at, kind=EntryKind.ACK, subject=op.subject,
                                 text=_acknowledged(op, marked, unmarked), author=op.author,
                                 until=None if op.until is None else op.until.timestamp())
            case ManualReport():
                entry = LogEntry(at=op.observed_at.timestamp(), kind=EntryKind.REPORT,
                                 subject=op.org, text=op.text, author=op.author)
            case Isolation():
                what = "declared ISOLATED" if op.isolated else "isolation lifted"
                entry = LogEntry(at=received_at, kind=EntryKind.ISOLATION, subject=op.org,
                                 text=what + (f": {op.reason}" if op.reason else ""),
                                 author=op.author)
        self._add(entry)
        return entry

    def record_inject(self, inject: ExerciseInject) -> LogEntry | None:
        """An exercise inject, dated at its moment in the scenario; each one once."""
        if f"inject:{inject.id}" in self._seen_ops:
            return None
        self._seen_ops.add(f"inject:{inject.id}")
        self._fresh_injects.append(inject)
        entry = LogEntry(at=inject.at.timestamp(), kind=EntryKind.INJECT, subject="",
                         text=inject.text, author="exercise")
        self._add(entry)
        return entry

    def take_injects(self) -> list[ExerciseInject]:
        """The injects logged since the last call, oldest first (the engine's attention
        takes them at each evaluation)."""
        taken, self._fresh_injects = self._fresh_injects, []
        return taken

    def note(self, entry: LogEntry) -> None:
        """Add an entry the engine made (an acknowledgement that expired)."""
        self._add(entry)

    def _add(self, entry: LogEntry) -> None:
        if self.entries and entry.at < self.entries[-1].at:
            insort(self.entries, entry, key=_at)
        else:
            self.entries.append(entry)
        if len(self.entries) > self.limit:
            excess = len(self.entries) - self.limit
            del self.entries[:excess]
            self.dropped += excess

    def filtered(self, *, subject: str | None = None,
                 kinds: Iterable[EntryKind] | None = None) -> list[LogEntry]:
        wanted = set(kinds) if kinds is not None else None
        return [
            e for e in self.entries
            if (subject is None or e.subject == subject or e.subject.endswith(f":{subject}"))
            and (wanted is None or e.kind in wanted)
        ]


def _acknowledged(ack: Acknowledgement, marked: str, unmarked: str) -> str:
    """`acknowledged OFFLINE until 2025-07-17 14:30:00 UTC: calling them`, or, for a
    subject without a problem, `acknowledged (no problem: nothing marked)`."""
    what = f" {marked.upper().replace('_', ' ')}" if marked else ""
    until = f" until {utc(ack.until.timestamp())}" if ack.until is not None else ""
    nothing = "" if marked else f" ({unmarked}: nothing marked)"
    return f"acknowledged{what}{until}{nothing}" + (f": {ack.text}" if ack.text else "")


def utc(at: float) -> str:
    """`2025-07-17 14:30:00 UTC`: a moment in a log text, the same on every screen."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _at(entry: LogEntry) -> float:
    """Entries are ordered by time alone; at one moment, in the order they came."""
    return entry.at

"""The crisis log: every change of state, and everything the operators did, in time order."""

from __future__ import annotations

import enum
from bisect import insort
from collections.abc import Iterable
from typing import Final

import msgspec

from chain.views import ChainView
from chain.wire import Acknowledgement, Annotation, ExerciseInject, Isolation, ManualReport, Op

MAX_ENTRIES: Final = 20_000


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


class CrisisLog:
    """Entries kept in time order; the oldest go beyond `limit` (counted in `dropped`)."""

    def __init__(self, *, limit: int = MAX_ENTRIES) -> None:
        self.entries: list[LogEntry] = []
        self.limit = limit
        self.dropped = 0
        self._last: dict[tuple[EntryKind, str], str] = {}
        self._logged_at: dict[tuple[EntryKind, str], float] = {}
        self._seen_ops: set[str] = set()
        self._monitor_up: bool | None = None

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
            if self._last.get((kind, subject)) == state:
                continue
            # Until a subject's first news, coming out of "unknown" is where it starts, not a
            # change: so a screen that looked before the first message logs what one that
            # looked after it logs.
            first = (kind, subject) not in self._logged_at and (
                self._last.get((kind, subject), "unknown") == "unknown"
            )
            self._last[(kind, subject)] = state
            if first and state in ("unknown", "ok", "flowing", "online"):
                continue  # the starting point is not news
            text = state.upper().replace("_", " ") + (f": {cause}" if cause else "")
            # A state's `since` dates the change, unless it predates the previous change
            # (back ONLINE keeps its first online time): then the change is dated now.
            previous = self._logged_at.get((kind, subject), float("-inf"))
            at = since if since is not None and previous <= since <= view.at else view.at
            self._logged_at[(kind, subject)] = at
            changes.append(LogEntry(at=at, kind=kind, subject=subject, text=text, state=state))
        for entry in changes:
            self._add(entry)
        return changes

    def record_op(self, op: Op, received_at: float) -> LogEntry | None:
        if op.id in self._seen_ops:
            return None
        self._seen_ops.add(op.id)
        match op:
            case Annotation():
                entry = LogEntry(at=received_at, kind=EntryKind.ANNOTATION, subject=op.org or "",
                                 text=op.text, author=op.author)
            case Acknowledgement():
                text = "acknowledged" + (f": {op.text}" if op.text else "")
                entry = LogEntry(at=received_at, kind=EntryKind.ACK, subject=op.subject,
                                 text=text, author=op.author)
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
        entry = LogEntry(at=inject.at.timestamp(), kind=EntryKind.INJECT, subject="",
                         text=inject.text, author="exercise")
        self._add(entry)
        return entry

    def _add(self, entry: LogEntry) -> None:
        if self.entries and entry.at < self.entries[-1].at:
            insort(self.entries, entry)
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

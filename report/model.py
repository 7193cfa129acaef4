"""The after-action report's content: what happened, per organisation and per backlog.

Pure: built from what a fold of a recording produced (crisis-log entries, channel readings,
backlog readings, the chain as it stood at the start and at the end). Reading the recording
is `broker/`'s business, rendering it the command's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final, Literal

import msgspec

from chain.backlog_series import MAX_POINTS, BacklogSeries, ChartPoint, Sample
from chain.crisislog import EntryKind, LogEntry
from chain.topology import Topology
from chain.views import ChainView, LinkState
from report.attention import ProblemHistory
from report.states import StateChange, SubjectStates

MAX_CHANNEL_CHANGES: Final = 200_000
"""Channel changes kept for the timelines; a channel flapping for weeks is cut off here."""
FLAP_EPISODE: Final = 300.0
FLAP_CHANGES: Final = 4
"""A timeline shows this many changes or more back and forth between two states, each
lasting under FLAP_EPISODE seconds, as one row: the room needs "flapping from 11:01 to
11:15", not thirty rows of it. The crisis log keeps every one."""


class RecordingFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the recording file itself says, before any of it is judged."""

    source: str
    messages: int
    first_at: float
    last_at: float
    rejected: int
    """Rows the recording monitor flagged with a problem (rejected payloads)."""
    reasons: tuple[tuple[str, int], ...]
    """The most common problems, most frequent first."""
    roots: tuple[tuple[str, int], ...]
    """Topic roots found in the recording and their row counts, most rows first."""
    root: str
    """The root this report is about."""
    folded: int = 0
    """Rows under `root`, each folded into the engine."""
    gaps: tuple[tuple[float, float], ...] = ()
    """Spans in which the recorder had lost the broker: nothing arrived, then a fresh
    subscription brought the retained messages again."""
    exercise: str = ""
    """The exercise's name and title when the recording is of one."""
    warnings: tuple[str, ...] = ()
    """What reading the file left out or ignored (damaged rows skipped, columns unknown),
    one line each: the command says them, and a report should too."""


class ChannelChange(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    org: str
    channel: str
    up: bool
    detail: str


class LogLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the crisis log; equal changes at the same moment (every link of an
    organisation going DOWN with it) share a line."""

    at: float
    kind: EntryKind
    subjects: tuple[str, ...]
    text: str
    author: str = ""
    state: str = ""
    until: float | None = None
    """An acknowledgement's end, if it was given one."""


class TimelineRow(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    kind: Literal["start", "state", "flapping", "channel"]
    text: str
    """A state and its cause ("offline: lost"), or a channel ("email down: no banner")."""
    state: str = ""
    up: bool | None = None
    lasted: float | None = None
    """Seconds until the next change (None for a channel coming back up)."""
    to_end: bool = False
    """It still held when the recording ended."""
    between: tuple[str, str] = ("", "")
    """Flapping: the two states it went back and forth between."""
    changes: int = 0
    """Flapping: how many changes the row stands for."""


class OrgTimeline(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    start_state: str
    end_state: str
    end_cause: str
    rows: tuple[TimelineRow, ...]
    time_in: tuple[tuple[str, float], ...]
    """Seconds spent in each state other than online, longest first."""

    @property
    def changed(self) -> bool:
        return any(row.kind != "start" for row in self.rows)


class BacklogSummary(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    process: str
    name: str
    first: Sample
    lowest: Sample
    highest: Sample
    last: Sample
    samples: int
    points: tuple[ChartPoint, ...]


class AfterActionReport(msgspec.Struct, frozen=True, kw_only=True):
    facts: RecordingFacts
    log: tuple[LogLine, ...]
    log_dropped: int
    """The earliest crisis-log entries lost to the log's limit (0: the log is complete)."""
    timelines: tuple[OrgTimeline, ...]
    channel_changes_dropped: int
    backlogs: tuple[BacklogSummary, ...]
    start_counts: tuple[tuple[str, int], ...]
    end_counts: tuple[tuple[str, int], ...]
    states: tuple[SubjectStates, ...] = ()
    """Every organisation's, link's and process's state as each evaluation saw it."""
    channel_changes: tuple[ChannelChange, ...] = ()
    """Every channel going up or down (its first reading included), in time order."""
    problems: tuple[ProblemHistory, ...] = ()
    """Every problem, in the order they began: when new, when and by whom acknowledged."""
    problems_dropped: int = 0
    """Problems beyond the report's limit, left out (0: complete)."""


class ReportBuilder:
    """Collects channel and backlog readings during a fold; `build` makes the report."""

    def __init__(self, topology: Topology, *, start: float, end: float,
                 chart_points: int = MAX_POINTS) -> None:
        self._topology = topology
        self._start, self._end, self._points = start, end, chart_points
        self._up: dict[tuple[str, str], bool] = {}
        self._changes: list[ChannelChange] = []
        self._changes_dropped = 0
        self._backlogs: dict[tuple[str, str], BacklogSeries] = {}

    def channel(self, org: str, channel: str, up: bool, detail: str, at: float) -> bool:
        """A channel reading; True when it changed the channel (or is its first)."""
        key = (org, channel)
        if self._up.get(key) == up:
            return False
        self._up[key] = up
        if len(self._changes) < MAX_CHANNEL_CHANGES:
            self._changes.append(ChannelChange(at=at, org=org, channel=channel, up=up,
                                               detail=detail))
        else:
            self._changes_dropped += 1
        return True

    def backlog(self, org: str, process: str, items: int, at: float) -> None:
        series = self._backlogs.get((org, process))
        if series is None:
            series = self._backlogs[(org, process)] = BacklogSeries(
                self._start, self._end, points=self._points)
        series.add(at, items)

    def build(self, facts: RecordingFacts, entries: Sequence[LogEntry], *, log_dropped: int,
              first: ChainView, last: ChainView,
              states: tuple[SubjectStates, ...] = (),
              problems: tuple[ProblemHistory, ...] = (),
              problems_dropped: int = 0) -> AfterActionReport:
        """`first`: the chain once the recording's retained messages were in (its starting
        point); `last`: the chain at the recording's last message."""
        kept = _news(entries, first)
        return AfterActionReport(
            facts=facts,
            log=tuple(_lines(kept)),
            log_dropped=log_dropped,
            timelines=tuple(self._timelines(facts, kept, first, last, states)),
            channel_changes_dropped=self._changes_dropped,
            backlogs=tuple(self._summaries()),
            start_counts=_counts(first),
            end_counts=_counts(last),
            states=states,
            channel_changes=tuple(self._changes),
            problems=problems,
            problems_dropped=problems_dropped,
        )

    def _timelines(self, facts: RecordingFacts, entries: Sequence[LogEntry],
                   first: ChainView, last: ChainView,
                   states: Sequence[SubjectStates]) -> Iterable[OrgTimeline]:
        by_org: dict[str, list[LogEntry]] = {}
        for entry in entries:
            if entry.kind is EntryKind.ORG:
                by_org.setdefault(entry.subject, []).append(entry)
        changes: dict[str, list[ChannelChange]] = {}
        for change in self._changes:
            changes.setdefault(change.org, []).append(change)
        at_start = {org.id: org for org in first.orgs}
        evaluated = {s.id: s.changes for s in states if s.kind == "org" and s.changes}
        for end in last.orgs:
            start = at_start.get(end.id, end)
            if end.id in evaluated:
                rows = _evaluated_rows(evaluated[end.id], facts.first_at, facts.last_at)
            else:
                rows = _state_rows(start.state.value, start.cause, by_org.get(end.id, []),
                                   facts.first_at, facts.last_at)
            time_in: dict[str, float] = {}
            for row in rows:
                if row.state != "online" and row.lasted is not None:
                    time_in[row.state] = time_in.get(row.state, 0.0) + row.lasted
            rows = _without_flapping(rows)
            rows += _channel_rows(changes.get(end.id, []), facts.first_at, facts.last_at)
            rows.sort(key=lambda row: (row.at, row.kind != "start"))
            yield OrgTimeline(
                id=end.id, name=end.name, start_state=start.state.value,
                end_state=end.state.value, end_cause=end.cause, rows=tuple(rows),
                time_in=tuple(sorted(time_in.items(), key=lambda item: -item[1])),
            )

    def _summaries(self) -> Iterable[BacklogSummary]:
        names = {(b.org, b.id): b.name for b in self._topology.backlogs}
        for (org, process), series in sorted(self._backlogs.items()):
            assert series.first and series.lowest and series.highest and series.last
            yield BacklogSummary(
                org=org, process=process, name=names.get((org, process), process),
                first=series.first, lowest=series.lowest, highest=series.highest,
                last=series.last, samples=series.samples, points=series.points(),
            )


def _news(entries: Sequence[LogEntry], first: ChainView) -> list[LogEntry]:
    """Entries minus a link's first movement: UNKNOWN to FLOWING is its starting point, not
    news (the crisis log treats a first state the same way)."""
    link_state = {link.id: link.state.value for link in first.links}
    kept: list[LogEntry] = []
    for entry in entries:
        if entry.kind is EntryKind.LINK:
            before = link_state.get(entry.subject, LinkState.UNKNOWN.value)
            link_state[entry.subject] = entry.state
            if before == LinkState.UNKNOWN and entry.state == LinkState.FLOWING:
                continue
        kept.append(entry)
    return kept


def _lines(entries: Sequence[LogEntry]) -> Iterable[LogLine]:
    line: LogLine | None = None
    for entry in entries:
        if (line is not None and entry.kind in (EntryKind.LINK, EntryKind.PROCESS)
                and (entry.at, entry.kind, entry.text) == (line.at, line.kind, line.text)):
            if entry.subject not in line.subjects:  # each subject once per line
                line = msgspec.structs.replace(line, subjects=(*line.subjects, entry.subject))
            continue
        if line is not None:
            yield line
        line = LogLine(at=entry.at, kind=entry.kind, subjects=(entry.subject,) if entry.subject
                       else (), text=entry.text, author=entry.author, state=entry.state,
                       until=entry.until)
    if line is not None:
        yield line


def _state_rows(state: str, cause: str, entries: Sequence[LogEntry], start: float,
                end: float) -> list[TimelineRow]:
    """An organisation's states from its crisis-log entries (a report built without the
    fold's evaluations)."""
    opened: list[tuple[float, str, str, str]] = [(start, "start", state, cause)]
    for entry in entries:
        if entry.state != opened[-1][2]:
            _, _, cause = entry.text.partition(": ")
            _open(opened, max(entry.at, start), entry.state, cause)
    return _rows(opened, end)


def _evaluated_rows(changes: Sequence[StateChange], start: float,
                    end: float) -> list[TimelineRow]:
    """An organisation's states as the fold's evaluations saw them, so the report says what
    a replayed screen showed; each dated by its `since` where that falls after the previous
    change (a STALE is dated when it began, not when an evaluation first saw it)."""
    first = changes[0]
    opened: list[tuple[float, str, str, str]] = [(start, "start", first.state, first.cause)]
    for change in changes[1:]:
        previous = opened[-1][0]
        at = change.since if change.since is not None and previous <= change.since <= (
            change.at) else change.at
        _open(opened, at, change.state, change.cause)
    return _rows(opened, end)


def _open(opened: list[tuple[float, str, str, str]], at: float, state: str,
          cause: str) -> None:
    if opened[-1][1] == "state" and opened[-1][0] == at:
        opened.pop()  # held for no time (an unconfirmed Will, confirmed): one row
    if state != opened[-1][2]:
        opened.append((at, "state", state, cause))


def _rows(opened: list[tuple[float, str, str, str]], end: float) -> list[TimelineRow]:
    rows: list[TimelineRow] = []
    for index, (at, kind, state, cause) in enumerate(opened):
        until = opened[index + 1][0] if index + 1 < len(opened) else end
        rows.append(TimelineRow(
            at=at, kind="start" if kind == "start" else "state", state=state,
            text=state + (f": {cause}" if cause else ""), lasted=max(0.0, until - at),
            to_end=index + 1 == len(opened),
        ))
    return rows


def _without_flapping(rows: list[TimelineRow]) -> list[TimelineRow]:
    kept: list[TimelineRow] = []
    run: list[TimelineRow] = []

    def close() -> None:
        if len(run) >= FLAP_CHANGES:
            kept.append(TimelineRow(
                at=run[0].at, kind="flapping", text="", between=(run[0].state, run[1].state),
                changes=len(run), lasted=sum(row.lasted or 0.0 for row in run),
            ))
        else:
            kept.extend(run)
        run.clear()

    for row in rows:
        short = row.kind == "state" and not row.to_end and (row.lasted or 0.0) < FLAP_EPISODE
        alternates = len(run) < 2 or row.state == run[-2].state
        if not (short and alternates):
            close()
        if short:
            run.append(row)
        else:
            kept.append(row)
    close()
    return kept


def _channel_rows(changes: Sequence[ChannelChange], start: float,
                  end: float) -> list[TimelineRow]:
    # Walk backwards once, so each change knows when its channel changed next.
    following: dict[str, float] = {}
    back: list[float | None] = []
    for change in reversed(changes):
        back.append(following.get(change.channel))
        following[change.channel] = change.at
    back.reverse()
    rows: list[TimelineRow] = []
    seen: set[str] = set()
    for change, next_at in zip(changes, back, strict=True):
        first = change.channel not in seen
        seen.add(change.channel)
        if change.up and first:
            continue  # a channel that is up when first heard of is its starting point
        text = f"{change.channel} {'up' if change.up else 'down'}" + (
            f": {change.detail}" if change.detail and not change.up else "")
        lasted = None if change.up else max(
            0.0, (end if next_at is None else next_at) - max(change.at, start))
        rows.append(TimelineRow(at=change.at, kind="channel", text=text, up=change.up,
                                lasted=lasted, to_end=not change.up and next_at is None))
    return rows


def _counts(view: ChainView) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(o.state.value for o in view.orgs).most_common())

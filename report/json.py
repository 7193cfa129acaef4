"""The after-action report as JSON, for after-action tooling and for checking exercises
automatically: `ketenwacht report REC --format json`. docs/report-json.md describes it;
`version` goes up whenever a field changes meaning or goes away (new fields may appear).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal

import msgspec

from chain.printable import inert_json
from report.model import AfterActionReport
from report.states import Kind

VERSION: Final = 1


class Change(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    state: str
    since: datetime | None
    cause: str


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    kind: Kind
    id: str
    states: tuple[Change, ...]


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: str
    subjects: tuple[str, ...]
    text: str
    author: str
    state: str
    until: datetime | None = None
    """An acknowledgement's end, if it was given one."""


class Acknowledged(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    by: str
    until: datetime | None
    note: str


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    """`org:om`, `link:om-justid`, `process:vog`, `inject:<id>`."""
    kind: str
    id: str
    states: tuple[str, ...]
    since: datetime
    text: str
    ended: datetime | None
    """When it recovered; null: it lasted to the end of the recording."""
    group: str
    new_at: tuple[datetime, ...]
    acknowledgements: tuple[Acknowledged, ...]
    time_to_acknowledge: float | None
    """Seconds from when it first became new to its first acknowledgement."""
    unacknowledged: float
    """Seconds it was new, all told."""


class ChannelChange(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    org: str
    channel: str
    up: bool
    detail: str
    """The agent's reason, or "reported by …: …" for an operator's report."""


class Point(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    items: int


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    org: str
    process: str
    name: str
    points: tuple[Point, ...]
    """Evenly thinned over the recording, first and last readings included."""


class Recording(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    root: str
    exercise: str
    messages: int
    folded: int
    rejected: int
    first_at: datetime
    last_at: datetime
    gaps: tuple[tuple[datetime, datetime], ...]
    """When the recorder had lost the broker (nothing recorded in between)."""


class Document(msgspec.Struct, frozen=True, kw_only=True):
    format: Literal["ketenwacht-after-action"] = "ketenwacht-after-action"
    version: int = VERSION
    recording: Recording
    subjects: tuple[Subject, ...]
    log: tuple[Entry, ...]
    log_dropped: int
    channels: tuple[ChannelChange, ...]
    channels_dropped: int
    backlogs: tuple[Backlog, ...]
    problems: tuple[Problem, ...] = ()
    problems_dropped: int = 0


def document(report: AfterActionReport) -> Document:
    facts = report.facts
    return Document(
        recording=Recording(
            source=facts.source, root=facts.root, exercise=facts.exercise,
            messages=facts.messages, folded=facts.folded, rejected=facts.rejected,
            first_at=_time(facts.first_at), last_at=_time(facts.last_at),
            gaps=tuple((_time(a), _time(b)) for a, b in facts.gaps),
        ),
        subjects=tuple(
            Subject(kind=s.kind, id=s.id, states=tuple(
                Change(at=_time(c.at), state=c.state,
                       since=None if c.since is None else _time(c.since), cause=c.cause)
                for c in s.changes))
            for s in report.states
        ),
        log=tuple(Entry(at=_time(line.at), kind=line.kind.value, subjects=line.subjects,
                        text=line.text, author=line.author, state=line.state,
                        until=_maybe(line.until))
                  for line in report.log),
        log_dropped=report.log_dropped,
        channels=tuple(ChannelChange(at=_time(c.at), org=c.org, channel=c.channel, up=c.up,
                                     detail=c.detail) for c in report.channel_changes),
        channels_dropped=report.channel_changes_dropped,
        backlogs=tuple(
            Backlog(org=b.org, process=b.process, name=b.name,
                    points=tuple(Point(at=_time(p.at), items=p.items) for p in b.points))
            for b in report.backlogs
        ),
        problems=tuple(
            Problem(subject=p.subject, kind=p.kind, id=p.id, states=p.states,
                    since=_time(p.since), text=p.text, ended=_maybe(p.ended), group=p.group,
                    new_at=tuple(_time(at) for at in p.new_at),
                    acknowledgements=tuple(
                        Acknowledged(at=_time(a.at), by=a.by, until=_maybe(a.until),
                                     note=a.note) for a in p.acknowledgements),
                    time_to_acknowledge=p.time_to_acknowledge,
                    unacknowledged=p.unacknowledged)
            for p in report.problems
        ),
        problems_dropped=report.problems_dropped,
    )


def render(report: AfterActionReport) -> str:
    """The recording's strings exactly (a JSON reader gets them back raw), written so that
    `--out -` sends a terminal no control or bidi character it would obey."""
    encoded = msgspec.json.encode(document(report)).decode()
    return inert_json(msgspec.json.format(encoded, indent=1)) + "\n"


def _time(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _maybe(at: float | None) -> datetime | None:
    return None if at is None else _time(at)

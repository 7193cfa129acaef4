"""Read-only snapshots of chain state at one instant, for the TUI, `status --json` and tests."""

from __future__ import annotations

import enum
from typing import Final, Literal

import msgspec


class OrgState(enum.StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    STALE = "stale"
    OFFLINE = "offline"
    UNKNOWN = "unknown"
    ISOLATED = "isolated"
    """Declared by an operator: deliberately disconnected."""
    INVALID = "invalid"
    """What it sends cannot be accepted (bad JSON, wrong types, newer schema, wrong org...)."""


class LinkState(enum.StrEnum):
    FLOWING = "flowing"
    SLOW = "slow"
    """Moving, but improbably far under the rate expected at this hour (docs/alarms.md)."""
    STALLED = "stalled"
    """No movement at either end for a silence improbable at its expected rate."""
    STUCK = "stuck"
    """The sender counts up, the receiver stays silent as improbably long."""
    DOWN = "down"
    """An end is offline or isolated."""
    UNKNOWN = "unknown"


class ProcessState(enum.StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    """Working on stale data: a flow it depends on has stopped."""
    BLOCKED = "blocked"
    """Its own organisation is offline or isolated."""


class ChannelView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    up: bool
    latency_ms: float | None
    detail: str
    age: float
    """Seconds since the reading arrived."""
    current: bool = True
    """Whether it is recent enough to say anything now (as a heartbeat would be): an old
    "up" is no news, never health."""


class BacklogView(msgspec.Struct, frozen=True, kw_only=True):
    process: str
    items: int
    age: float
    per_hour: float | None = None
    """Growth over the last hour (negative: shrinking), once there is an hour of history."""
    per_day: float | None = None
    clears_in: float | None = None
    """Seconds until empty at the current rate of shrinking; None when not shrinking."""
    history: tuple[int, ...] = ()
    """Recent values, oldest first, for a sparkline."""


class OrgView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    state: OrgState
    since: float | None
    """Receiver-clock time (epoch seconds) at which the current state began, if known."""
    cause: str
    heartbeat_age: float | None
    interval: float | None
    session: int | None
    channels: tuple[ChannelView, ...]
    backlogs: tuple[BacklogView, ...]
    clock_skew: float | None = None
    """Agent clock minus ours, seconds, from its latest live message (only shown, never used)."""
    buffered: int
    """Messages waiting in the agent's store-and-forward buffer (from its heartbeat)."""
    dropped: int
    """Messages the agent's full buffer discarded, ever."""
    seq_gaps: int
    duplicates: int
    invalid: int = 0
    """Payloads that came on its topics and could not be accepted, ever."""
    last_invalid: str = ""
    """Why the latest of them was refused."""
    invalid_at: float | None = None
    """When the latest of them arrived (receiver clock)."""
    new: bool = False
    """It has a problem nobody has acknowledged yet (docs/attention.md)."""
    acknowledged_by: str = ""
    """Who acknowledged its current problem ("" if nobody, or no problem)."""

    @property
    def backlog_total(self) -> int | None:
        return sum(b.items for b in self.backlogs) if self.backlogs else None

    def channel(self, name: str) -> ChannelView | None:
        return next((c for c in self.channels if c.name == name), None)


class LinkView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    sender: str
    receiver: str
    sent_total: int | None
    received_total: int | None
    sent_per_hour: float | None
    received_per_hour: float | None
    state: LinkState = LinkState.UNKNOWN
    since: float | None = None
    cause: str = ""
    last_movement: float | None = None
    usual_per_hour: float | None = None
    new: bool = False
    """It has a problem nobody has acknowledged yet (docs/attention.md)."""
    acknowledged_by: str = ""


class ProcessView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    org: str
    name: str
    state: ProcessState
    since: float | None
    data_as_of: float | None
    """The newest data it can have: when the earliest stopped flow last moved."""
    causes: tuple[str, ...]
    """Why, from the nearest link outward, e.g. "om-justid down: om offline (lost)"."""
    new: bool = False
    """It has a problem nobody has acknowledged yet (docs/attention.md)."""
    acknowledged_by: str = ""


ProblemKind = Literal["org", "link", "process", "inject"]
CALM: Final = 99
"""The severity a subject without a problem sorts by: after every problem."""


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """Something the crisis room must look at, and whether someone has (docs/attention.md)."""

    subject: str
    """`org:om`, `link:om-justid`, `process:vog` or `inject:<id>`: what an Acknowledgement
    names."""
    kind: ProblemKind
    id: str
    state: str
    """The subject's state (an OrgState, LinkState or ProcessState value), `inject` for an
    exercise inject."""
    severity: int
    """0 is the most severe (OFFLINE), then BLOCKED, STALLED and STUCK, STALE, INVALID, and
    injects (5): chain.attention.SEVERITY."""
    since: float
    """When the problem began, as the crisis log dates it; kept while it comes and goes."""
    text: str
    """What it is, for a notification: `OFFLINE: lost`, or the inject's text."""
    new: bool
    """Nobody has acknowledged it (or their acknowledgement has expired, or it got worse)."""
    alert: int
    """A number that goes up each time a problem becomes new, over every problem of the
    engine (0: it never was): a screen rings once for each number."""
    new_at: float | None
    """When it last became new, by the rules, not by when a screen looked: when it held (its
    `since`; a link's plus the crisis log's HOLD), when an acknowledgement expired (its
    `acknowledged_until`), when it got worse; never before this monitor connected. None if
    it never was (acknowledged before it held)."""
    acknowledged_by: str = ""
    acknowledged_at: float | None = None
    acknowledged_until: float | None = None
    """The acknowledgement's end, if it was given one: the problem is new again then."""
    acknowledgement: str = ""
    """The note the operator gave with it."""
    recovering_since: float | None = None
    """Out of trouble since then: it ends (and its acknowledgement with it) once that has
    lasted chain.attention.RECOVERY, unless it comes back first."""
    group: str = ""
    """The subject whose problem this one follows from and shares (a BLOCKED process: its
    organisation's): marked, acknowledged and rung for together, counted once."""

    @property
    def sort_key(self) -> tuple[int, float, str]:
        """Most severe first, then the most recent."""
        return (self.severity, -self.since, self.subject)


class ChainView(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    monitor_connected: bool
    monitor_since: float | None
    orgs: tuple[OrgView, ...]
    links: tuple[LinkView, ...]
    processes: tuple[ProcessView, ...] = ()
    rejected: int
    """Payloads that could not be decoded or did not fit the topic: every organisation's
    invalid readings and the unattributed ones together."""
    unattributed: int = 0
    """Rejected payloads whose topic named no organisation (wildcards, too long, `_ops`...)."""
    last_unattributed: str = ""
    unknown_senders: str = ""
    """What came from organisations that are not in the topology, in one line ("" if
    nothing): `12 messages from 3 unknown senders (x, y, z)`."""
    problems: tuple[Problem, ...] = ()
    """Every current problem, most severe first, then the most recent (`Problem.sort_key`)."""
    new_problems: int = 0
    """Problems nobody has acknowledged, a group once: the header's "3 new"."""
    recovered: tuple[Problem, ...] = ()
    """Problems that ended at this evaluation (out of trouble since `recovering_since`), as
    they were last; only from an evaluation, never in a plain view."""

    def problem(self, subject: str) -> Problem | None:
        """The current problem of `subject` (`org:om`, ...), if it has one."""
        return next((p for p in self.problems if p.subject == subject), None)

    def sort_key(self, subject: str) -> tuple[int, float, str]:
        """For sorting rows by severity, then recency: a subject without a problem last."""
        found = self.problem(subject)
        return found.sort_key if found is not None else (CALM, 0.0, subject)

    def org(self, org_id: str) -> OrgView:
        return next(o for o in self.orgs if o.id == org_id)

    def link(self, link_id: str) -> LinkView:
        return next(link for link in self.links if link.id == link_id)

    def process(self, process_id: str) -> ProcessView:
        return next(p for p in self.processes if p.id == process_id)

    def count(self, state: OrgState) -> int:
        return sum(1 for o in self.orgs if o.state is state)

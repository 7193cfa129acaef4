"""Read-only snapshots of chain state at one instant, for the TUI, `status --json` and tests."""

from __future__ import annotations

import enum

import msgspec


class OrgState(enum.StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    STALE = "stale"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class ChannelView(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    up: bool
    latency_ms: float | None
    detail: str
    age: float
    """Seconds since the reading arrived."""


class BacklogView(msgspec.Struct, frozen=True, kw_only=True):
    process: str
    items: int
    age: float


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
    buffered: int
    """Messages waiting in the agent's store-and-forward buffer (from its heartbeat)."""
    dropped: int
    """Messages the agent's full buffer discarded, ever."""
    seq_gaps: int
    duplicates: int

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


class ChainView(msgspec.Struct, frozen=True, kw_only=True):
    at: float
    monitor_connected: bool
    monitor_since: float | None
    orgs: tuple[OrgView, ...]
    links: tuple[LinkView, ...]
    rejected: int
    """Payloads that could not be decoded or did not fit the topic."""

    def org(self, org_id: str) -> OrgView:
        return next(o for o in self.orgs if o.id == org_id)

    def link(self, link_id: str) -> LinkView:
        return next(link for link in self.links if link.id == link_id)

    def count(self, state: OrgState) -> int:
        return sum(1 for o in self.orgs if o.state is state)

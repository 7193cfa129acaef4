"""What the engine knows of one organisation, and how it judges its state at `now`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Final

import msgspec

from chain.invalid import INVALID_HOLD, InvalidReadings
from chain.sequence import SeqSnapshot, SeqTracker
from chain.trends import DAY, HOUR, BacklogHistory
from chain.views import BacklogView, ChannelView, OrgState, OrgView
from chain.wire import ChannelReading, Seconds

STALE_AFTER_INTERVALS: Final = 3.0
WILL_UNCONFIRMED: Final = "connection lost (Last Will); OFFLINE unless it returns"
DEFAULT_INTERVAL: Final = 5.0
SESSION_BACK_SHOWN: Final = 3600.0
"""Seconds an organisation whose session went back says so (it is ONLINE: a warning, not a
state): long enough for an operator to see it, short enough not to become wallpaper."""


@dataclass
class Channel:
    up: bool
    latency_ms: float | None
    detail: str
    received_at: float
    changed_at: float
    """When the channel last went from up to down or back."""

    @classmethod
    def of(cls, reading: ChannelReading, at: float, previous: Channel | None) -> Channel:
        changed = previous is None or previous.up != reading.up
        return cls(
            up=reading.up, latency_ms=reading.latency_ms, detail=reading.detail,
            received_at=at, changed_at=at if changed or previous is None else previous.changed_at,
        )


@dataclass
class Backlog:
    items: int
    received_at: float
    history: BacklogHistory = field(default_factory=BacklogHistory)


class BacklogSnapshot(msgspec.Struct, frozen=True, array_like=True):
    items: int
    received_at: float
    history: list[tuple[float, int]]


@dataclass
class MonitorLink:
    """The monitor's own connection, which decides UNKNOWN for everyone."""

    connected: bool = False
    since: float | None = None


@dataclass
class OrgRecord:
    session: int | None = None
    interval: float = DEFAULT_INTERVAL
    offline_since: float | None = None
    offline_cause: str = ""
    will_at: float | None = None
    """A Last Will of the current session, not yet confirmed (see `judge`)."""
    online_since: float | None = None
    last_alive: float | None = None
    isolated_since: float | None = None
    isolation_reason: str = ""
    seqs: SeqTracker = field(default_factory=SeqTracker)
    applied_seq: int = 0
    """Highest seq applied to live state; an older live message arriving late is not applied."""
    earlier_gaps: int = 0
    earlier_duplicates: int = 0
    buffered: int = 0
    dropped: int = 0
    clock_skew: float | None = None
    channels: dict[str, Channel] = field(default_factory=dict)
    backlogs: dict[str, Backlog] = field(default_factory=dict)
    invalid: InvalidReadings = field(default_factory=InvalidReadings)
    session_back: tuple[int, int, float] | None = None
    """(from, to, when) of the latest session that went back instead of up."""

    def snapshot(self) -> OrgSnapshot:
        plain = {f.name: getattr(self, f.name) for f in fields(self)}
        return OrgSnapshot(**{
            **plain,
            "seqs": self.seqs.snapshot(),
            "channels": {name: replace(ch) for name, ch in self.channels.items()},
            "backlogs": {process: BacklogSnapshot(b.items, b.received_at, b.history.snapshot())
                         for process, b in self.backlogs.items()},
            "invalid": replace(self.invalid),
        })

    @classmethod
    def from_snapshot(cls, snapshot: OrgSnapshot) -> OrgRecord:
        plain = {f.name: getattr(snapshot, f.name) for f in fields(cls)}
        return cls(**{
            **plain,
            "seqs": SeqTracker.from_snapshot(snapshot.seqs),
            "channels": dict(snapshot.channels),
            "backlogs": {process: Backlog(b.items, b.received_at,
                                          BacklogHistory.from_snapshot(b.history))
                         for process, b in snapshot.backlogs.items()},
        })

    @property
    def invalid_hold(self) -> float:
        return max(INVALID_HOLD, STALE_AFTER_INTERVALS * self.interval)

    def refuse(self, reason: str, at: float) -> None:
        """A payload on one of its topics could not be accepted."""
        self.invalid.add(reason, at, self.invalid_hold)

    def come_online(self, at: float) -> None:
        self.offline_since = None
        self.offline_cause = ""
        self.will_at = None
        self.online_since = at

    def spoke(self, at: float) -> None:
        """A live heartbeat of the current session: a Will before it was not its last word
        (the broker ended a connection the agent has since made again)."""
        self.will_at = None
        self.last_alive = at

    def new_session(self, session: int) -> None:
        self.earlier_gaps += self.seqs.gaps
        self.earlier_duplicates += self.seqs.duplicates
        self.session = session
        self.seqs = SeqTracker()
        self.applied_seq = 0

    def go_back_to(self, session: int, at: float) -> None:
        """A live agent speaks in a lower session than the one known: its counter was lost
        (a reinstalled host) or its clock set back. Believed, and shown, not ignored: an agent
        that is alive must never look dead."""
        if self.session is not None:
            self.session_back = (self.session, session, at)
        self.new_session(session)
        self.online_since = None

    def silent(self, now: float) -> bool:
        """No sign of life of the current session for as long as makes it STALE."""
        return self.last_alive is None or (
            now - self.last_alive > STALE_AFTER_INTERVALS * self.interval)

    def set_backlog(self, process: str, items: int, at: float) -> None:
        backlog = self.backlogs.get(process)
        if backlog is None:
            backlog = self.backlogs[process] = Backlog(items, at)
        backlog.items, backlog.received_at = items, at
        backlog.history.add(at, items)

    def judge(self, monitor: MonitorLink, now: float) -> tuple[OrgState, float | None, str]:
        if self.isolated_since is not None:
            return OrgState.ISOLATED, self.isolated_since, self.isolation_reason
        if not monitor.connected:
            if monitor.since is None:
                return OrgState.UNKNOWN, None, "monitor not connected yet"
            return OrgState.UNKNOWN, monitor.since, "monitor disconnected"
        if self.offline_since is not None:
            return OrgState.OFFLINE, self.offline_since, self.offline_cause
        if self.will_at is not None:
            # A broker also sends a Will when it ends a connection itself (a cluster node in
            # trouble, a take-over): believed once the agent has been silent as long as a
            # STALE one is, which a Will after a keepalive timeout already has.
            alive = self.last_alive if self.last_alive is not None else self.will_at
            confirmed = max(self.will_at, alive + STALE_AFTER_INTERVALS * self.interval)
            if now >= confirmed:
                return OrgState.OFFLINE, self.will_at, "lost"
            return OrgState.STALE, self.will_at, WILL_UNCONFIRMED
        invalid = self.invalid.active(now, self.invalid_hold)
        if self.last_alive is None:
            if invalid:
                return (OrgState.INVALID, self.invalid.spell_since,
                        "nothing valid received; " + self.invalid.describe())
            return OrgState.UNKNOWN, monitor.since, "nothing received yet"
        # After the monitor (re)connects, every agent gets a full grace period again.
        alive = max(self.last_alive, monitor.since or self.last_alive)
        deadline = alive + STALE_AFTER_INTERVALS * self.interval
        if now > deadline:
            return OrgState.STALE, deadline, f"no heartbeat for {now - self.last_alive:.0f}s"
        # A down channel counts until a reading says otherwise: probes run on their own
        # schedule (a minute, say), far slower than heartbeats, and must not flap the state.
        down = [n for n, ch in sorted(self.channels.items()) if not ch.up]
        if invalid:
            # Above DEGRADED: while readings are refused, a channel may be down unseen.
            also = "; " + " and ".join(down) + " down" if down else ""
            return OrgState.INVALID, self.invalid.spell_since, self.invalid.describe() + also
        if down:
            since = max(self.channels[name].changed_at for name in down)
            fresh = STALE_AFTER_INTERVALS * self.interval
            oldest = min(self.channels[name].received_at for name in down)
            note = f" (last checked {now - oldest:.0f}s ago)" if now - oldest > fresh else ""
            return OrgState.DEGRADED, since, " and ".join(down) + " down" + note
        return OrgState.ONLINE, self.online_since or self.last_alive, self._warning(now)

    def _warning(self, now: float) -> str:
        back = self.session_back
        if back is None or not 0 <= now - back[2] <= SESSION_BACK_SHOWN:
            return ""
        return f"session went back from {back[0]} to {back[1]}"

    def view(self, org_id: str, name: str, monitor: MonitorLink, now: float) -> OrgView:
        state, since, cause = self.judge(monitor, now)
        return OrgView(
            id=org_id,
            name=name,
            state=state,
            since=since,
            cause=cause,
            heartbeat_age=None if self.last_alive is None else max(0.0, now - self.last_alive),
            interval=self.interval if self.session is not None else None,
            session=self.session,
            channels=tuple(
                ChannelView(name=channel, up=ch.up, latency_ms=ch.latency_ms, detail=ch.detail,
                            age=max(0.0, now - ch.received_at),
                            current=now - ch.received_at <= STALE_AFTER_INTERVALS * self.interval)
                for channel, ch in sorted(self.channels.items())
            ),
            backlogs=tuple(
                BacklogView(
                    process=process,
                    items=b.items,
                    age=max(0.0, now - b.received_at),
                    per_hour=b.history.growth(HOUR),
                    per_day=b.history.growth(DAY),
                    clears_in=b.history.clears_in(b.items),
                    history=b.history.recent(),
                )
                for process, b in sorted(self.backlogs.items())
            ),
            clock_skew=self.clock_skew,
            buffered=self.buffered,
            dropped=self.dropped,
            seq_gaps=self.earlier_gaps + self.seqs.gaps,
            duplicates=self.earlier_duplicates + self.seqs.duplicates,
            invalid=self.invalid.count,
            last_invalid=self.invalid.last_reason,
            invalid_at=self.invalid.last_at,
        )


class OrgSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """An OrgRecord as typed data: its plain fields as they are, the rest as snapshots."""

    session: int | None
    interval: Seconds
    offline_since: float | None
    offline_cause: str
    will_at: float | None
    online_since: float | None
    last_alive: float | None
    isolated_since: float | None
    isolation_reason: str
    seqs: SeqSnapshot
    applied_seq: int
    earlier_gaps: int
    earlier_duplicates: int
    buffered: int
    dropped: int
    clock_skew: float | None
    channels: dict[str, Channel]
    backlogs: dict[str, BacklogSnapshot]
    invalid: InvalidReadings
    session_back: tuple[int, int, float] | None

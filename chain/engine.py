"""The state engine: folds wire messages into chain state and judges health at a given `now`.

Pure: the caller supplies receive times and `now` (wall clock live, virtual time in replay).
Freshness is judged on the receiver's clock only; the agent's `ts` never decides it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from chain.counters import CumulativeCounter
from chain.sequence import SeqTracker
from chain.topology import Topology
from chain.views import BacklogView, ChainView, ChannelView, LinkView, OrgState, OrgView
from chain.wire import (
    BacklogGauge,
    ChannelReading,
    FlowCounter,
    Heartbeat,
    Message,
    Status,
)

STALE_AFTER_INTERVALS: Final = 3.0
DEFAULT_INTERVAL: Final = 5.0
WILL_SEQ: Final = 0
"""A Last Will is composed at connect time, before any seq is known; it always carries 0."""


@dataclass
class _Channel:
    reading: ChannelReading
    received_at: float
    changed_at: float
    """When the channel last went from up to down or back."""


@dataclass
class _Org:
    session: int | None = None
    interval: float = DEFAULT_INTERVAL
    offline_since: float | None = None
    offline_cause: str = ""
    online_since: float | None = None
    last_alive: float | None = None
    seqs: SeqTracker = field(default_factory=SeqTracker)
    applied_seq: int = 0
    """Highest seq applied to live state; an older live message arriving late is not applied."""
    earlier_gaps: int = 0
    earlier_duplicates: int = 0
    buffered: int = 0
    dropped: int = 0
    stale_statuses: int = 0
    channels: dict[str, _Channel] = field(default_factory=dict)
    backlogs: dict[str, tuple[int, float]] = field(default_factory=dict)


class ChainEngine:
    def __init__(self, topology: Topology) -> None:
        self._topology = topology
        self._orgs: dict[str, _Org] = {org_id: _Org() for org_id in topology.org_ids}
        self._counters: dict[tuple[str, str], CumulativeCounter] = {}
        self._monitor_connected = False
        self._monitor_since: float | None = None
        self.rejected = 0

    @property
    def topology(self) -> Topology:
        return self._topology

    # ------------------------------------------------------------------ inputs

    def monitor_connected(self, at: float) -> None:
        self._monitor_connected = True
        self._monitor_since = at

    def monitor_disconnected(self, at: float) -> None:
        self._monitor_connected = False
        self._monitor_since = at

    def reject(self) -> None:
        """Count a payload that could not be accepted (bad JSON, wrong topic, ...)."""
        self.rejected += 1

    def apply(self, message: Message, *, received_at: float, retained: bool = False) -> None:
        org = self._orgs.setdefault(message.org, _Org())
        if isinstance(message, Status):
            self._apply_status(org, message, received_at, retained)
            return
        # Buffered (`hist`) and late readings never count as current; retained ones are the
        # last known values but say nothing about liveness and make no rate sample.
        if not self._accept_sequence(org, message, retained):
            return
        match message:
            case Heartbeat(interval=interval, buffered=buffered, dropped=dropped):
                org.interval = interval
                org.buffered, org.dropped = buffered, dropped
                if not retained:
                    org.last_alive = received_at
                    if org.offline_since is not None:
                        self._come_online(org, received_at)
            case ChannelReading(channel=channel, up=up):
                previous = org.channels.get(channel)
                changed = previous is None or previous.reading.up != up
                changed_at = received_at if changed or previous is None else previous.changed_at
                org.channels[channel] = _Channel(message, received_at, changed_at)
            case FlowCounter(link=link, direction=direction):
                counter = self._counters.setdefault((link, direction), CumulativeCounter())
                counter.add(received_at, message.count, message.session, sample=not retained)
            case BacklogGauge(process=process, items=items):
                org.backlogs[process] = (items, received_at)
            case _:
                pass

    def _apply_status(self, org: _Org, status: Status, at: float, retained: bool) -> None:
        if org.session is not None and status.session < org.session:
            # A late Will or stop from an earlier run must not kill a restarted agent.
            org.stale_statuses += 1
            return
        if org.session != status.session:
            self._new_session(org, status.session)
        if not retained and status.seq != WILL_SEQ and not org.seqs.add(status.seq):
            return
        if status.interval is not None:
            org.interval = status.interval
        if status.state == "online":
            self._come_online(org, at)
            org.last_alive = at
        else:
            org.offline_since = at
            org.offline_cause = status.cause or "stopped"

    @staticmethod
    def _come_online(org: _Org, at: float) -> None:
        org.offline_since = None
        org.offline_cause = ""
        org.online_since = at

    @staticmethod
    def _new_session(org: _Org, session: int) -> None:
        org.earlier_gaps += org.seqs.gaps
        org.earlier_duplicates += org.seqs.duplicates
        org.session = session
        org.seqs = SeqTracker()
        org.applied_seq = 0

    def _accept_sequence(self, org: _Org, message: Message, retained: bool) -> bool:
        """Account seq per (org, session); True if the message may change live state."""
        if org.session is None or message.session > org.session:
            self._new_session(org, message.session)
            org.online_since = None
        elif message.session < org.session:
            return False
        if retained:
            return True
        if not org.seqs.add(message.seq):
            return False
        if message.hist or message.seq < org.applied_seq:
            return False
        org.applied_seq = message.seq
        return True

    # ------------------------------------------------------------------ outputs

    def view(self, now: float) -> ChainView:
        orgs = tuple(self._org_view(org_id, org, now) for org_id, org in self._orgs.items())
        links = tuple(
            LinkView(
                id=link.id,
                sender=link.sender,
                receiver=link.receiver,
                sent_total=self._latest(link.id, "sent"),
                received_total=self._latest(link.id, "received"),
                sent_per_hour=self._rate(link.id, "sent", now),
                received_per_hour=self._rate(link.id, "received", now),
            )
            for link in self._topology.links
        )
        return ChainView(
            at=now,
            monitor_connected=self._monitor_connected,
            monitor_since=self._monitor_since,
            orgs=orgs,
            links=links,
            rejected=self.rejected,
        )

    def _latest(self, link: str, direction: str) -> int | None:
        counter = self._counters.get((link, direction))
        return counter.latest if counter else None

    def _rate(self, link: str, direction: str, now: float) -> float | None:
        counter = self._counters.get((link, direction))
        return counter.per_hour(now) if counter else None

    def _org_view(self, org_id: str, org: _Org, now: float) -> OrgView:
        state, since, cause = self._judge(org, now)
        known = self._topology.by_org.get(org_id)
        heartbeat_age = None if org.last_alive is None else max(0.0, now - org.last_alive)
        return OrgView(
            id=org_id,
            name=known.name if known else org_id,
            state=state,
            since=since,
            cause=cause,
            heartbeat_age=heartbeat_age,
            interval=org.interval if org.session is not None else None,
            session=org.session,
            channels=tuple(
                ChannelView(
                    name=name,
                    up=ch.reading.up,
                    latency_ms=ch.reading.latency_ms,
                    detail=ch.reading.detail,
                    age=max(0.0, now - ch.received_at),
                )
                for name, ch in sorted(org.channels.items())
            ),
            backlogs=tuple(
                BacklogView(process=name, items=items, age=max(0.0, now - at))
                for name, (items, at) in sorted(org.backlogs.items())
            ),
            buffered=org.buffered,
            dropped=org.dropped,
            seq_gaps=org.earlier_gaps + org.seqs.gaps,
            duplicates=org.earlier_duplicates + org.seqs.duplicates,
        )

    def _judge(self, org: _Org, now: float) -> tuple[OrgState, float | None, str]:
        if not self._monitor_connected:
            if self._monitor_since is None:
                return OrgState.UNKNOWN, None, "monitor not connected yet"
            return OrgState.UNKNOWN, self._monitor_since, "monitor disconnected"
        if org.offline_since is not None:
            return OrgState.OFFLINE, org.offline_since, org.offline_cause
        if org.last_alive is None:
            return OrgState.UNKNOWN, self._monitor_since, "nothing received yet"
        # After the monitor (re)connects, every agent gets a full grace period again.
        alive = max(org.last_alive, self._monitor_since or org.last_alive)
        deadline = alive + STALE_AFTER_INTERVALS * org.interval
        if now > deadline:
            return OrgState.STALE, deadline, f"no heartbeat for {now - org.last_alive:.0f}s"
        down = [
            name
            for name, ch in sorted(org.channels.items())
            if not ch.reading.up and now - ch.received_at <= STALE_AFTER_INTERVALS * org.interval
        ]
        if down:
            since = max(org.channels[name].changed_at for name in down)
            return OrgState.DEGRADED, since, " and ".join(down) + " down"
        return OrgState.ONLINE, org.online_since or org.last_alive, ""

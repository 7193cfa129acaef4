"""The state engine: folds wire messages into chain state and judges health at a given `now`.

Pure: the caller supplies receive times and `now` (wall clock live, virtual time in replay).
Freshness is judged on the receiver's clock only; the agent's `ts` never decides it.
"""

from __future__ import annotations

from typing import Final

import msgspec

from chain.attention import Attention, AttentionSnapshot
from chain.counters import CounterSnapshot, CumulativeCounter
from chain.crisislog import CrisisLog, LogSnapshot
from chain.expectation import Expectation
from chain.flows import judge_link, stall_level
from chain.impact import judge_process
from chain.invalid import InvalidReadings
from chain.orgs import (
    DEFAULT_INTERVAL,
    STALE_AFTER_INTERVALS,
    Channel,
    MonitorLink,
    OrgRecord,
    OrgSnapshot,
)
from chain.strangers import UnknownSenders, UnknownSnapshot
from chain.topology import Topology
from chain.views import ChainView
from chain.wire import (
    WILL_SEQ,
    Acknowledgement,
    BacklogGauge,
    ChannelReading,
    FlowCounter,
    Heartbeat,
    Isolation,
    ManualReport,
    Message,
    Op,
    Status,
)

__all__ = ["DEFAULT_INTERVAL", "STALE_AFTER_INTERVALS", "ChainEngine"]


SNAPSHOT_VERSION: Final = 2
"""2: with the attention (chain/attention.py) and the log's injects not yet taken."""


class EngineSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the engine has folded, as typed data: decoding one builds nothing but
    these fields, so a tampered snapshot can be wrong, never code. The topology is not in
    it: it is restored into the caller's."""

    version: int
    orgs: dict[str, OrgSnapshot]
    counters: list[tuple[str, str, CounterSnapshot]]
    monitor: MonitorLink
    log: LogSnapshot
    unattributed: InvalidReadings
    unknown: UnknownSnapshot
    attention: AttentionSnapshot


class ChainEngine:
    def __init__(self, topology: Topology, *, log: CrisisLog | None = None) -> None:
        self._topology = topology
        self._orgs: dict[str, OrgRecord] = {org_id: OrgRecord() for org_id in topology.org_ids}
        self._counters: dict[tuple[str, str], CumulativeCounter] = {}
        self._links = {link.id: link for link in topology.links}
        self._backlogs = {(backlog.org, backlog.id) for backlog in topology.backlogs}
        self._stall_level = stall_level(topology.messages_per_year)
        self._monitor = MonitorLink()
        self.log = log if log is not None else CrisisLog()
        self.unattributed = InvalidReadings()
        """Rejected payloads whose topic named no organisation."""
        self.unknown = UnknownSenders()
        """What came from organisations that are not in the topology: never a row."""
        self.attention = Attention()
        """Which problems are new and which acknowledged (docs/attention.md)."""

    @property
    def topology(self) -> Topology:
        return self._topology

    def snapshot(self) -> EngineSnapshot:
        return EngineSnapshot(
            version=SNAPSHOT_VERSION,
            orgs={org_id: org.snapshot() for org_id, org in self._orgs.items()},
            counters=[(link, direction, counter.snapshot())
                      for (link, direction), counter in self._counters.items()],
            monitor=MonitorLink(self._monitor.connected, self._monitor.since),
            log=self.log.snapshot(),
            unattributed=InvalidReadings(**vars(self.unattributed)),
            unknown=self.unknown.snapshot(),
            attention=self.attention.snapshot(),
        )

    @classmethod
    def from_snapshot(cls, topology: Topology, snapshot: EngineSnapshot) -> ChainEngine:
        """Raises ValueError for a snapshot of another version or that does not fit."""
        if snapshot.version != SNAPSHOT_VERSION:
            raise ValueError(f"snapshot version {snapshot.version}, not {SNAPSHOT_VERSION}")
        engine = cls(topology, log=CrisisLog.from_snapshot(snapshot.log))
        if not set(snapshot.orgs) <= set(engine._orgs):
            raise ValueError("organisations that are not in the topology")
        engine._orgs.update((org_id, OrgRecord.from_snapshot(org))
                            for org_id, org in snapshot.orgs.items())
        for link_id, direction, counter in snapshot.counters:
            link = engine._links.get(link_id)
            if link is None or direction not in ("sent", "received"):
                raise ValueError(f"counter of {link_id!r} {direction!r}: not in the topology")
            expectation = Expectation.from_snapshot(
                topology.expected_per_hour(link), topology.timezone, counter.expectation)
            engine._counters[(link_id, direction)] = CumulativeCounter.from_snapshot(
                expectation, counter, stall_level=engine._stall_level)
        engine._monitor = snapshot.monitor
        engine.unattributed = snapshot.unattributed
        engine.unknown = UnknownSenders.from_snapshot(snapshot.unknown)
        engine.attention = Attention.from_snapshot(snapshot.attention)
        return engine

    def take_state_of(self, other: ChainEngine) -> None:
        """Become `other` (a checkpoint being restored) while staying this object, which
        screens and sinks keep hold of."""
        self.__dict__.update(vars(other))

    # ------------------------------------------------------------------ inputs

    def monitor_connected(self, at: float) -> None:
        self._monitor = MonitorLink(connected=True, since=at)

    def monitor_disconnected(self, at: float) -> None:
        self._monitor = MonitorLink(connected=False, since=at)

    def reject(self, org_id: str | None, reason: str, at: float) -> None:
        """Count a payload that could not be accepted (bad JSON, wrong topic, ...) as an
        invalid reading of `org_id`, the organisation its topic names; None when the topic
        names none (the monitor decides that, from the topic alone)."""
        if org_id is None:
            self.unattributed.add(reason, at, hold=0.0)
        elif (org := self._orgs.get(org_id)) is None:
            self.unknown.add(org_id, at)
            self.unknown.refused += 1
        else:
            org.refuse(reason, at)

    @property
    def rejected(self) -> int:
        """Every payload refused: each organisation's invalid readings, the unattributed and
        those of unknown senders."""
        return self.unattributed.count + self.unknown.refused + sum(
            org.invalid.count for org in self._orgs.values())

    def apply(self, message: Message, *, received_at: float, retained: bool = False) -> None:
        org = self._orgs.get(message.org)
        if org is None:
            self.unknown.add(message.org, received_at)
            return
        if isinstance(message, Status):
            self._apply_status(org, message, received_at, retained)
            return
        # Buffered (`hist`) and late readings never count as current; retained ones are the
        # last known values but say nothing about liveness and make no rate sample.
        accepted = self._accept_sequence(org, message, retained, received_at)
        if isinstance(message, Heartbeat) and not retained and not message.hist \
                and message.session == org.session:
            # Alive whatever its seq: forged or repeated numbers on the organisation's topic
            # may hide readings, never the heartbeats of an agent that is there.
            org.spoke(received_at)
            if org.offline_since is not None:
                org.come_online(received_at)
        if not accepted:
            return
        if not retained:
            org.clock_skew = message.ts.timestamp() - received_at
        match message:
            case Heartbeat(interval=interval, buffered=buffered, dropped=dropped):
                org.interval = interval
                org.buffered, org.dropped = buffered, dropped
            case ChannelReading(channel=channel):
                org.channels[channel] = Channel.of(message, received_at, org.channels.get(channel))
            case FlowCounter(link=link_id, direction=direction):
                counter = self._counter(message.org, link_id, direction)
                if counter is None:
                    end = "sender" if direction == "sent" else "receiver"
                    org.refuse(f"link: {link_id!r} is not a link of the topology with "
                               f"{message.org} as its {end}", received_at)
                    return
                counter.add(received_at, message.count, message.session, sample=not retained)
            case BacklogGauge(process=process, items=items):
                if (message.org, process) not in self._backlogs:
                    org.refuse(f"process: {process!r} is not a backlog of {message.org} in the "
                               "topology", received_at)
                    return
                org.set_backlog(process, items, received_at)

    def _counter(self, org_id: str, link_id: str, direction: str) -> CumulativeCounter | None:
        """The counter of `org_id`'s end of a link of the topology; None for a link it does
        not have, or whose other end it is (one organisation never counts for another)."""
        link = self._links.get(link_id)
        if link is None or org_id != (link.sender if direction == "sent" else link.receiver):
            return None
        counter = self._counters.get((link_id, direction))
        if counter is None:
            expectation = Expectation(self._topology.expected_per_hour(link),
                                      self._topology.timezone)
            counter = self._counters[(link_id, direction)] = CumulativeCounter(
                expectation, stall_level=self._stall_level)
        return counter

    def apply_op(self, op: Op, *, received_at: float) -> None:
        """An operator action from `_ops/`: logged; isolations and reports change state, and
        acknowledgements mark problems (docs/attention.md)."""
        if isinstance(op, Acknowledgement):
            if not self.log.seen(op.id):
                marked, unmarked = self.attention.acknowledge(
                    op, received_at, self._judged(received_at), self.log)
                self.log.record_op(op, received_at, marked=marked, unmarked=unmarked)
            return
        if self.log.record_op(op, received_at) is None and not isinstance(op, Isolation):
            return  # seen before
        match op:
            case Isolation(org=org_id, isolated=isolated, reason=reason):
                org = self._orgs.get(org_id)
                if org is not None and not isolated:
                    org.isolated_since, org.isolation_reason = None, ""
                elif org is not None and org.isolated_since is None:
                    org.isolated_since, org.isolation_reason = received_at, reason
            case ManualReport(org=org_id, channel=channel, up=up) if channel and up is not None:
                org = self._orgs.get(org_id)
                if org is not None:
                    reading = ChannelReading(
                        org=org_id, session=0, seq=0, ts=op.observed_at, channel=channel,
                        up=up, detail=f"reported by {op.author}: {op.text}"[:200],
                    )
                    org.channels[channel] = Channel.of(
                        reading, received_at, org.channels.get(channel)
                    )
            case _:
                pass

    def _apply_status(self, org: OrgRecord, status: Status, at: float, retained: bool) -> None:
        if org.session is not None and status.session < org.session:
            if status.state != "online":
                return  # a late Will or stop from an earlier run must not kill a restarted agent
            org.go_back_to(status.session, at)  # a birth: an agent connected just now
        elif org.session != status.session:
            org.new_session(status.session)
        elif status.seq == WILL_SEQ and org.offline_cause == "stopped" and (
            org.offline_since is not None
        ):
            return  # the session's planned stop was its last word; its Will adds nothing
        if not retained and status.seq != WILL_SEQ and not org.seqs.add(status.seq):
            return
        if status.interval is not None:
            org.interval = status.interval
        if status.state == "online":
            org.come_online(at)
            org.last_alive = at
        elif status.seq == WILL_SEQ and not retained:
            if org.offline_since is None and org.will_at is None:
                org.will_at = at
        else:
            org.will_at = None
            org.offline_since = at
            org.offline_cause = status.cause or "stopped"

    @staticmethod
    def _accept_sequence(org: OrgRecord, message: Message, retained: bool, at: float) -> bool:
        """Account seq per (org, session); True if the message may change live state."""
        if org.session is None or message.session > org.session:
            org.new_session(message.session)
            org.online_since = None
        elif message.session < org.session:
            # Live heartbeats of a lower session while the known one is silent: the agent
            # started again without its counter (or a forged session was higher).
            if not (isinstance(message, Heartbeat) and not retained and not message.hist
                    and org.silent(at)):
                return False
            org.go_back_to(message.session, at)
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
        """The chain at `now`, with the problems as the last evaluation left them."""
        return self.attention.shown(self._judged(now))

    def _judged(self, now: float) -> ChainView:
        by_org = self._topology.by_org
        orgs = {
            org_id: org.view(org_id, by_org[org_id].name if org_id in by_org else org_id,
                             self._monitor, now)
            for org_id, org in self._orgs.items()
        }
        links = {
            link.id: judge_link(
                link,
                self._counters.get((link.id, "sent")),
                self._counters.get((link.id, "received")),
                (orgs.get(link.sender), orgs.get(link.receiver)),
                now,
                self._stall_level,
            )
            for link in self._topology.links
        }
        processes = tuple(judge_process(p, links, orgs) for p in self._topology.processes)
        return ChainView(
            at=now,
            monitor_connected=self._monitor.connected,
            monitor_since=self._monitor.since,
            orgs=tuple(orgs.values()),
            links=tuple(links.values()),
            processes=processes,
            rejected=self.rejected,
            unattributed=self.unattributed.count,
            last_unattributed=self.unattributed.last_reason,
            unknown_senders=self.unknown.describe(),
        )

    def evaluate(self, now: float) -> ChainView:
        """The view at `now`, with every change since the last evaluation put in the log and
        the problems brought up to date."""
        view = self._judged(now)
        self.log.record_changes(view)
        expired, recovered = self.attention.update(self.log, view, now)
        for entry in expired:
            self.log.note(entry)
        return self.attention.shown(view, recovered)

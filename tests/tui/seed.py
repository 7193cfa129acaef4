"""A fixed, seeded chain for snapshots: two hours of traffic, then the OM's Last Will.

At `END`: om OFFLINE (lost), justis DEGRADED (email down), dji ISOLATED by an operator,
ind INVALID (a newer schema, after valid traffic; acknowledged by the duty officer), ecris
INVALID (nothing valid ever). New: om (and its BLOCKED process) and ecris, so "2 new"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from agents.simulator import TRANSIT_SECONDS
from agents.traffic import count
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.wire import (
    Acknowledgement,
    BacklogGauge,
    ChannelReading,
    Direction,
    FlowCounter,
    Heartbeat,
    Isolation,
    Status,
)
from ketenwacht.startup import load_topology
from tui.app import KetenwachtApp

T0 = datetime(2025, 7, 17, 8, 0, tzinfo=UTC).timestamp()
END = T0 + 2 * 3600
INTERVAL = 60.0
SILENT = "ecris"
"""Never sends a valid message: only the invalid readings at the end."""


class Envelope(TypedDict):
    org: str
    session: int
    seq: int
    ts: datetime


def seeded_engine() -> ChainEngine:
    topology = load_topology(None)
    engine = ChainEngine(topology)
    engine.monitor_connected(T0)
    seq = dict.fromkeys(topology.org_ids, 0)

    def stamp(org: str, at: float) -> Envelope:
        seq[org] += 1
        return Envelope(org=org, session=1, seq=seq[org], ts=datetime.fromtimestamp(at, UTC))

    speaking = [org for org in topology.org_ids if org != SILENT]
    for org in speaking:
        engine.apply(Status(**stamp(org, T0), state="online", interval=INTERVAL),
                     received_at=T0)
    engine.evaluate(T0)
    at = T0
    while at <= END:
        minutes = (at - T0) / 60
        for org in speaking:
            if org == "om" and at > END - 600:
                continue  # the OM falls silent ten minutes before the end
            engine.apply(Heartbeat(**stamp(org, at), interval=INTERVAL), received_at=at)
            for channel in topology.by_org[org].channels:
                up = not (org == "justis" and channel == "email" and minutes > 100)
                engine.apply(ChannelReading(**stamp(org, at), channel=channel, up=up,
                                            latency_ms=40.0 if up else None), received_at=at)
            for link in topology.links_of(org):
                # The simulator's traffic: each link's profile, with its irregularity.
                direction: Direction = "sent" if link.sender == org else "received"
                counted = count(topology, link, at if direction == "sent"
                                else at - TRANSIT_SECONDS)
                engine.apply(FlowCounter(**stamp(org, at), link=link.id,
                                         direction=direction, count=counted),
                             received_at=at)
            for backlog in topology.backlogs_of(org):
                items = backlog.typical + int(minutes * (3 if org == "om" else -1))
                engine.apply(BacklogGauge(**stamp(org, at), process=backlog.id,
                                          items=max(0, items)), received_at=at)
        engine.evaluate(at)
        at += INTERVAL
    engine.apply(Status(org="om", session=1, seq=0, ts=datetime.fromtimestamp(T0, UTC),
                        state="offline", cause="lost"), received_at=END - 300)
    engine.apply_op(Isolation(id="seed-isolation", author="duty officer",
                              ts=datetime.fromtimestamp(END - 1800, UTC), org="dji",
                              isolated=True, reason="cut off on purpose: ransomware at a supplier"),
                    received_at=END - 1800)
    for at in (END - 180, END - 120):
        engine.reject("ind", "v: schema version 2 is newer than 1", at)
        engine.reject(SILENT, "not valid JSON: unexpected character at line 1 column 2", at)
    engine.evaluate(END - 60)
    engine.apply_op(Acknowledgement(id="seed-ack", author="duty officer",
                                    ts=datetime.fromtimestamp(END - 60, UTC), subject="org:ind",
                                    text="schema upgrade at IND, they roll back"),
                    received_at=END - 60)
    engine.evaluate(END)
    return engine


async def connected(sink: MonitorSink) -> None:
    """The feed of a seeded app: the broker connection, and nothing more ever arrives."""
    sink.connection_changed(True, END - 7200)


def seeded_app() -> KetenwachtApp:
    """The seeded chain on a screen whose clock stands at `END`."""
    return KetenwachtApp(
        seeded_engine(), connected, broker_url="mqtt://broker.test:1883",
        subtitle="snapshot", clock=lambda: END, author="snapshot",
    )

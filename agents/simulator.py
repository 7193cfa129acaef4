"""Plausible readings for any organisation of the chain, for the demo and exercises.

Every figure is a deterministic function of the moment, so the two ends of a link, running
in different agents or processes, agree on their counts without talking. Magnitudes come
from `seeds/chain.toml` (each marked there as derived or placeholder).

Flows follow their link's profile at the hours of the clock, as a screen expects them to,
`pace` times as busy, with Poisson-like irregularity (`agents.traffic`): a screen given
`as_simulated(topology, pace)` expects exactly what they carry, so a healthy link never
looks stalled and a stalled one is declared `pace` times sooner than on the real chain
(docs/alarms.md). Channels and backlogs live in simulated time, `pace` times as fast as the
clock: a backlog swings through its day in 24 minutes at 60x.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final, TypedDict

import msgspec

from agents.traffic import ANCHOR, counted, expected
from chain.topology import Link, Topology
from chain.wire import BacklogGauge, ChannelReading, FlowCounter, Message

__all__ = ["ANCHOR", "OUTAGE_BLOCK", "OUTAGE_CHANCE", "TRANSIT_SECONDS", "Reached",
           "SimulatedOrg", "as_simulated"]

TRANSIT_SECONDS: Final = 45.0
"""Simulated delay between a message leaving the sender and the receiver counting it."""
OUTAGE_BLOCK: Final = 20 * 60.0
OUTAGE_CHANCE: Final = 0.03
"""Placeholder: chance that a channel is down during one 20-minute block of simulated time."""

Reached = Callable[[str, float], float]
"""(link id, moment) -> the moment up to which the link has carried by then: the moment
itself, or, while something holds the link up, when that began."""


class _Envelope(TypedDict):
    org: str
    session: int
    seq: int
    ts: datetime


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for the given key."""
    return zlib.crc32("/".join(map(str, parts)).encode()) / 2**32


def _flowing(link: str, at: float) -> float:
    return at


def as_simulated(topology: Topology, pace: float) -> Topology:
    """The topology as a simulated chain at `pace` keeps it: every link `pace` times as busy.
    Given to the screen that watches that chain, so that it expects what the links carry."""
    links = tuple(
        msgspec.structs.replace(link, per_hour=link.per_hour * pace,
                                per_hour_basis=f"{link.per_hour_basis}; x{pace:g} simulated")
        for link in topology.links
    )
    return msgspec.structs.replace(topology, links=links)


class SimulatedOrg:
    """Readings for one organisation; `pace` > 1 runs it busier and faster than the real one.

    `outages`: channels go down now and then by themselves (a few per cent of the time).
    `reached`: what holds a link up (agents.faults stalls one), as both ends must agree."""

    def __init__(
        self, topology: Topology, org: str, *, pace: float = 1.0, outages: bool = True,
        reached: Reached = _flowing,
    ) -> None:
        self.topology = topology
        self.org = org
        self.pace = pace
        self.outages = outages
        self._reached = reached
        self._channels = topology.by_org[org].channels
        self._links = topology.links_of(org)
        self._backlogs = topology.backlogs_of(org)

    def simulated_time(self, now: float) -> float:
        return ANCHOR + (now - ANCHOR) * self.pace

    def carried(self, link: Link, at: float, *, transit: float = 0.0) -> int:
        """What the link has carried by `at`: its sender's count, or with `transit` the
        receiver's. A link held up stops at both ends at once, and moves again at once."""
        moment = self._reached(link.id, at) - transit
        return counted(link.id, self.pace * expected(self.topology, link, moment))

    async def read(self, now: float) -> Sequence[Message]:
        return self.readings(now)

    def readings(self, now: float) -> list[Message]:
        t = self.simulated_time(now)
        stamp = datetime.fromtimestamp(now, UTC)
        envelope = _Envelope(org=self.org, session=0, seq=0, ts=stamp)
        readings: list[Message] = []
        for channel in self._channels:
            down = self.outages and _unit(self.org, channel, int(t // OUTAGE_BLOCK)) < OUTAGE_CHANCE
            readings.append(
                ChannelReading(
                    **envelope,
                    channel=channel,
                    up=not down,
                    latency_ms=None if down else round(15 + 60 * _unit(self.org, channel, t), 1),
                    detail="no answer (simulated)" if down else "",
                )
            )
        for link in self._links:
            if link.sender == self.org:
                readings.append(
                    FlowCounter(
                        **envelope, link=link.id, direction="sent",
                        count=self.carried(link, now),
                    )
                )
            if link.receiver == self.org:
                received = self.carried(link, now, transit=TRANSIT_SECONDS / self.pace)
                readings.append(
                    FlowCounter(**envelope, link=link.id, direction="received", count=received)
                )
        for backlog in self._backlogs:
            phase = 2 * math.pi * _unit(backlog.id)
            swing = 1 + 0.15 * math.sin(2 * math.pi * t / 86_400 + phase)
            readings.append(
                BacklogGauge(**envelope, process=backlog.id, items=round(backlog.typical * swing))
            )
        return readings

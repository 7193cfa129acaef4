"""Plausible readings for any organisation of the chain, for the demo and exercises.

Every figure is a deterministic function of simulated time, so the two ends of a link,
running in different agents or processes, agree on their counts without talking.
Magnitudes come from `seeds/chain.toml` (each marked there as derived or placeholder); flows
follow their link's profile with Poisson-like irregularity (`agents.traffic`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final, TypedDict

from agents.traffic import ANCHOR, count
from chain.topology import Topology
from chain.wire import BacklogGauge, ChannelReading, FlowCounter, Message

__all__ = ["ANCHOR", "OUTAGE_BLOCK", "OUTAGE_CHANCE", "TRANSIT_SECONDS", "SimulatedOrg"]

TRANSIT_SECONDS: Final = 45.0
"""Simulated delay between a message leaving the sender and the receiver counting it."""
OUTAGE_BLOCK: Final = 20 * 60.0
OUTAGE_CHANCE: Final = 0.03
"""Placeholder: chance that a channel is down during one 20-minute block of simulated time."""


class _Envelope(TypedDict):
    org: str
    session: int
    seq: int
    ts: datetime


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for the given key."""
    return zlib.crc32("/".join(map(str, parts)).encode()) / 2**32


class SimulatedOrg:
    """Readings for one organisation; `pace` > 1 runs simulated time faster than wall time."""

    def __init__(self, topology: Topology, org: str, *, pace: float = 1.0) -> None:
        self.topology = topology
        self.org = org
        self.pace = pace
        self._channels = topology.by_org[org].channels
        self._links = topology.links_of(org)
        self._backlogs = topology.backlogs_of(org)

    def simulated_time(self, now: float) -> float:
        return ANCHOR + (now - ANCHOR) * self.pace

    async def read(self, now: float) -> Sequence[Message]:
        return self.readings(now)

    def readings(self, now: float) -> list[Message]:
        t = self.simulated_time(now)
        stamp = datetime.fromtimestamp(now, UTC)
        envelope = _Envelope(org=self.org, session=0, seq=0, ts=stamp)
        readings: list[Message] = []
        for channel in self._channels:
            down = _unit(self.org, channel, int(t // OUTAGE_BLOCK)) < OUTAGE_CHANCE
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
                        count=count(self.topology, link, t),
                    )
                )
            if link.receiver == self.org:
                received = count(self.topology, link, t - TRANSIT_SECONDS)
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


"""What the demo's incidents (`agents.incidents`) do to a simulated agent: real faults.

All but one act where a real agent's would, in its source of readings: a hung probe holds
the agent's round (its heartbeats stop, its connection stays up), a stalled flow stops the
counters at both ends, a channel stops answering, a probe reads garbage the screen must
refuse. A lost organisation is its network: its relay (`agents.relay`) cuts the connection
and refuses it until the incident ends, and the broker publishes the agent's Last Will.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import msgspec

from agents.incidents import Incident, Kind, Schedule
from agents.relay import Relay
from agents.simulator import SimulatedOrg
from chain.wire import BacklogGauge, ChannelReading, FlowCounter, Message

log = logging.getLogger("ketenwacht.incidents")
Sleep = Callable[[float], Awaitable[None]]
TICK = 0.5
"""Seconds between two looks at the schedule, for what no reading round does."""


class FaultySource:
    """A simulated organisation's readings, with its incidents in them."""

    def __init__(self, org: SimulatedOrg, schedule: Schedule, *,
                 sleep: Sleep = asyncio.sleep) -> None:
        """`org` must be made with `reached=schedule.reached`, so that its stalled links stop
        at both ends; `sleep` is the agent's."""
        self.org = org
        self.schedule = schedule
        self._sleep = sleep

    async def read(self, now: float) -> Sequence[Message]:
        for hang in self._active(now, Kind.HANG):
            # Holding the round as a hung probe does: no heartbeat goes until it returns.
            until = self.schedule.origin + hang.end
            await self._sleep(until - now)
            now = max(now, until)
        readings = self.org.readings(now)
        down = {i.target for i in self._active(now, Kind.CHANNEL)}
        readings = [_down(r) if isinstance(r, ChannelReading) and r.channel in down else r
                    for r in readings]
        if self._active(now, Kind.INVALID):
            readings += [_garbled(r) for r in readings[-1:]]
        return readings

    def _active(self, now: float, kind: Kind) -> list[Incident]:
        return [i for i in self.schedule.active(now, self.org.org) if i.kind is kind]


def _down(reading: ChannelReading) -> ChannelReading:
    return msgspec.structs.replace(reading, up=False, latency_ms=None,
                                   detail="no answer (simulated incident)")


def _garbled(reading: Message) -> Message:
    """The reading as a probe reading garbage would send it: a negative number, which the
    wire refuses (constraints are checked when decoding, not when building)."""
    match reading:
        case FlowCounter():
            return msgspec.structs.replace(reading, count=-1)
        case BacklogGauge():
            return msgspec.structs.replace(reading, items=-1)
        case ChannelReading():
            return msgspec.structs.replace(reading, latency_ms=-1.0)
        case _:
            return reading


async def cut_while_lost(schedule: Schedule, org: str, relay: Relay, *,
                         clock: Callable[[], float] = time.time, sleep: Sleep = asyncio.sleep,
                         tick: float = TICK) -> None:
    """Keep `org`'s relay cut while a LOST incident of it goes on; until cancelled."""
    said = False
    while True:
        lost = any(i.kind is Kind.LOST for i in schedule.active(clock(), org))
        if lost and not relay.cut_off:
            await relay.cut()
        elif not lost and relay.cut_off:
            try:
                await relay.restore()
                said = False
            except OSError as error:  # its port taken meanwhile: tried again next tick
                if not said:
                    log.warning("%s cannot connect again yet: %s", org, error)
                said = True
        await sleep(tick)


async def narrate(schedule: Schedule, *, clock: Callable[[], float] = time.time,
                  sleep: Sleep = asyncio.sleep, tick: float = TICK) -> None:
    """Log each incident as it begins, so that the demo's log says what was staged."""
    told = 0
    while True:
        begun = schedule.until(clock() - schedule.origin)
        for incident in begun[told:]:
            log.info("incident: %s", incident.describe())
        told = len(begun)
        await sleep(tick)

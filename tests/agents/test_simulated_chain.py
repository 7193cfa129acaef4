"""The demo's chain judged by the engine, without a broker: at 60x, on the topology it is
watched with (`as_simulated`), no healthy link ever alarms, and a stalled one is declared
within 90 s at any moment of the week."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import msgspec
import pytest

from agents.faults import FaultySource
from agents.incidents import Incident, Kind, Schedule
from agents.simulator import SimulatedOrg, as_simulated
from chain.engine import ChainEngine
from chain.views import LinkState
from chain.wire import Heartbeat, Message, Status
from ketenwacht.startup import load_topology

TOPOLOGY = load_topology(None)
PACE = 60.0
INTERVAL = 2.0
ZONE = ZoneInfo("Europe/Amsterdam")
ALARMS = (LinkState.STALLED, LinkState.STUCK, LinkState.SLOW)


class Chain:
    """Every organisation's readings into one engine each INTERVAL, as the demo's agents
    send them (stamped, heartbeat first), arriving at once."""

    def __init__(self, start: float, schedule: Schedule | None = None) -> None:
        self.engine = ChainEngine(as_simulated(TOPOLOGY, PACE))
        self.now = start
        self.seq = dict.fromkeys(TOPOLOGY.org_ids, 0)
        self.sources = {
            org: SimulatedOrg(TOPOLOGY, org, pace=PACE) if schedule is None else FaultySource(
                SimulatedOrg(TOPOLOGY, org, pace=PACE, outages=False,
                             reached=schedule.reached), schedule)
            for org in TOPOLOGY.org_ids
        }
        self.engine.monitor_connected(start)
        for org in TOPOLOGY.org_ids:
            self._apply(Status(org=org, session=1, seq=0, ts=self._ts(), state="online",
                               interval=INTERVAL))

    def _ts(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def _apply(self, message: Message) -> None:
        self.seq[message.org] += 1
        self.engine.apply(msgspec.structs.replace(message, session=1, seq=self.seq[message.org],
                                                  ts=self._ts()), received_at=self.now)

    async def run(self, seconds: float, every: float = 10.0) -> list[tuple[float, str, str]]:
        """(seconds in, link, state) of every link judged SLOW, STALLED or STUCK."""
        alarms, start, judged = [], self.now, self.now
        while self.now < start + seconds:
            self.now += INTERVAL
            for org, source in self.sources.items():
                self._apply(Heartbeat(org=org, session=1, seq=0, ts=self._ts(),
                                      interval=INTERVAL))
                for reading in await source.read(self.now):
                    self._apply(reading)
            if self.now - judged >= every:
                judged = self.now
                alarms += [(self.now - start, link.id, link.state.value)
                           for link in self.engine.view(self.now).links if link.state in ALARMS]
        return alarms


def moment(day: int, hour: int) -> float:
    """A day of the week in July 2025 (0 is Monday 14 July) at a local hour."""
    return datetime(2025, 7, 14 + day, hour, tzinfo=ZONE).timestamp()


@pytest.mark.parametrize(("day", "hour"), [(1, 17), (5, 3)])
async def test_a_healthy_demo_never_alarms(day: int, hour: int) -> None:
    """45 minutes of the calm demo at a weekday's end and a Saturday night: no link SLOW,
    STALLED or STUCK. (Flows that ran on simulated time, with a week every 2.8 hours, had
    the screen declare quiet office links STALLED after 38 minutes.)"""
    assert await Chain(moment(day, hour)).run(45 * 60) == []


@pytest.mark.parametrize(("day", "hour"), [(1, 10), (1, 17), (4, 22), (5, 3)])
async def test_a_stall_is_declared_within_90s(day: int, hour: int) -> None:
    """justid-justis stops at both ends 60 s in (its agents alive): STALLED within 90 s of
    it, and only it; it flows again once the stall is over."""
    start = moment(day, hour)
    stall = Incident(Kind.STALL, "justid", 60, 240, "justid-justis")
    chain = Chain(start, Schedule.of([stall], origin=start))
    alarms = await chain.run(240)
    assert {link for _, link, _ in alarms} == {"justid-justis"}
    assert {state for _, _, state in alarms} == {"stalled"}
    assert min(at for at, _, _ in alarms) <= 60 + 90
    await chain.run(10)
    assert chain.engine.view(chain.now).link("justid-justis").state is LinkState.FLOWING

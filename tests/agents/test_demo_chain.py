"""The demo's incidents are real faults: simulated agents through relays and the embedded
broker, a monitor and the engine, on a clock 12 times as fast, reach OFFLINE, STALE,
INVALID, DEGRADED and a STALLED link (processes AT RISK and BLOCKED), and recover."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from agents.demo_chain import SimulatedChain
from agents.incidents import Incident, Kind, Schedule
from agents.simulator import as_simulated
from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import ChainView, LinkState, OrgState, ProcessState
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from tests.conftest import until

FASTER = 12.0
"""Clock seconds per second: the engine's 60 s before a stall and 300 s of INVALID pass in
5 and 25 s, and the test's moment of the week is fixed (how soon a stall is declared
depends on the hour)."""
INTERVAL = 6.0
"""Heartbeat seconds on that clock: half a second between rounds, STALE after 1.5 s."""
TUESDAY = datetime(2025, 7, 15, 10, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()


class FastClock:
    """A clock FASTER times as fast as the real one from TUESDAY on, and its sleep."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def __call__(self) -> float:
        return TUESDAY + (time.monotonic() - self._started) * FASTER

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / FASTER)


PLAN = [
    Incident(Kind.STALL, "justid", 30, 150, "justid-justis"),
    Incident(Kind.CHANNEL, "ind", 30, 90, "email"),
    Incident(Kind.INVALID, "rvdk", 30, 45),
    Incident(Kind.HANG, "dji", 60, 120),
    Incident(Kind.LOST, "cjib", 60, 130),
]
ORGS = ("justid", "justis", "ind", "rvdk", "dji", "cjib")

Check = Callable[[ChainView], bool]
# What each incident shows, and what shows that it is over.
SHOWN: dict[str, tuple[Check, Check]] = {
    "justid-justis STALLED, vog AT RISK": (
        lambda v: v.link("justid-justis").state is LinkState.STALLED
        and v.process("vog").state is ProcessState.AT_RISK,
        lambda v: v.link("justid-justis").state is LinkState.FLOWING,
    ),
    "ind DEGRADED (email)": (
        lambda v: v.org("ind").state is OrgState.DEGRADED and "email down" in v.org("ind").cause,
        lambda v: v.org("ind").state is OrgState.ONLINE,
    ),
    "rvdk INVALID": (
        lambda v: v.org("rvdk").state is OrgState.INVALID
        and "expected int >= 0" in v.org("rvdk").cause,
        lambda v: v.org("rvdk").state is OrgState.ONLINE,
    ),
    "dji STALE, no Will": (
        lambda v: v.org("dji").state is OrgState.STALE and "no heartbeat" in v.org("dji").cause,
        lambda v: v.org("dji").state is OrgState.ONLINE,
    ),
    "cjib OFFLINE by its Will, execution BLOCKED": (
        lambda v: v.org("cjib").state is OrgState.OFFLINE and v.org("cjib").cause == "lost"
        and v.process("execution").state is ProcessState.BLOCKED,
        lambda v: v.org("cjib").state is OrgState.ONLINE,
    ),
}


async def test_every_incident_shows_and_recovers(nats: BrokerAddress) -> None:
    """Each of the five kinds reaches its state through the broker, then clears."""
    topology = load_topology(None)
    clock = FastClock()
    engine = ChainEngine(as_simulated(topology, 60.0))
    monitor = Monitor(nats, Topics(), clock=clock)
    watching = asyncio.create_task(monitor.run(EngineSink(engine)))
    chain = SimulatedChain(
        topology, nats, session_of=lambda org: 1, interval=INTERVAL, pace=60.0,
        schedule=Schedule.of(PLAN, origin=clock()), orgs=ORGS, clock=clock, sleep=clock.sleep,
    )
    running = asyncio.create_task(chain.run())
    shown: dict[str, float] = {}
    over: dict[str, float] = {}
    never_cut = True
    try:
        deadline = time.monotonic() + 50
        while len(over) < len(SHOWN) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = clock()
            view = engine.view(now)
            for name, (showing, cleared) in SHOWN.items():
                if name not in shown and showing(view):
                    shown[name] = now
                elif name in shown and name not in over and cleared(view):
                    over[name] = now
            # The hung agent keeps its connection: the broker never sends its Will.
            never_cut &= view.org("dji").state is not OrgState.OFFLINE
    finally:
        running.cancel()
        watching.cancel()
        await asyncio.gather(running, watching, return_exceptions=True)
    start = chain.schedule.origin if chain.schedule else 0.0
    timeline = {name: (round(shown[name] - start), round(over[name] - start) if name in over
                       else None) for name in shown}
    assert set(shown) == set(SHOWN), f"shown (clock s): {timeline}"
    assert set(over) == set(SHOWN), f"shown and over (clock s): {timeline}"
    assert never_cut
    # Each shows while its fault lasts, and clears only after it (or, for INVALID, the
    # engine's 300 s hold after the last bad reading).
    assert timeline["justid-justis STALLED, vog AT RISK"][0] >= 30 + 60
    assert over["rvdk INVALID"] - start >= 30 + 300


async def test_quitting_mid_incident_stops_every_agent_that_can(nats: BrokerAddress) -> None:
    """Quit while om's agent hangs and justid's is lost: om still publishes its planned stop
    (once its round gives up, within 2 s), though justid's agent ended at once; justid,
    unreachable, is left to its Last Will."""
    topology = load_topology(None)
    engine = ChainEngine(topology)
    monitor = Monitor(nats, Topics())
    watching = asyncio.create_task(monitor.run(EngineSink(engine)))
    now = time.time()
    plan = [Incident(Kind.HANG, "om", 1, 100), Incident(Kind.LOST, "justid", 1, 100)]
    chain = SimulatedChain(topology, nats, session_of=lambda org: 1, orgs=("om", "justid"),
                           schedule=Schedule.of(plan, origin=now))
    running = asyncio.create_task(chain.run())
    try:
        def both_hit() -> bool:
            """om has hung past its last heartbeat and justid's Will has come"""
            view = engine.view(time.time())
            return view.org("justid").state in (OrgState.STALE, OrgState.OFFLINE) and (
                time.time() - now > 2.5)

        await until(both_hit, within=15)
        running.cancel()
        await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), timeout=5)

        def om_stopped() -> bool:
            """om OFFLINE by its planned stop"""
            om = engine.view(time.time()).org("om")
            return om.state is OrgState.OFFLINE and om.cause == "stopped"

        await until(om_stopped, within=5)
        assert engine.view(time.time()).org("justid").cause != "stopped"
    finally:
        running.cancel()
        watching.cancel()
        await asyncio.gather(running, watching, return_exceptions=True)

"""The demo's simulated chain: one agent per organisation, each on its own connection with
its own Last Will and session; with a schedule, each through a relay its incidents can cut.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence

from agents.faults import FaultySource, Sleep, cut_while_lost, narrate
from agents.incidents import Schedule
from agents.relay import Relay
from agents.runtime import Agent, ReadingSource
from agents.simulator import SimulatedOrg
from chain.topics import Topics
from chain.topology import Topology
from mqtt.address import BrokerAddress
from mqtt.connection import cancel_and_wait

log = logging.getLogger("ketenwacht.agent")


class SimulatedChain:
    def __init__(
        self,
        topology: Topology,
        address: BrokerAddress,
        *,
        session_of: Callable[[str], int],
        topics: Topics | None = None,
        interval: float = 2.0,
        pace: float = 60.0,
        schedule: Schedule | None = None,
        orgs: Sequence[str] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Without `schedule` the chain is calm but for its channels' own blips; with it,
        the schedule's incidents are its only faults. `orgs`: a part of the chain (tests)."""
        self.topology = topology
        self.address = address
        self.schedule = schedule
        self.orgs = tuple(orgs or topology.org_ids)
        self._session_of = session_of
        self._topics = topics
        self._interval = interval
        self._pace = pace
        self._clock = clock
        self._sleep = sleep
        self.agents: dict[str, Agent] = {}

    def _source(self, org: str) -> ReadingSource:
        if self.schedule is None:
            return SimulatedOrg(self.topology, org, pace=self._pace)
        simulated = SimulatedOrg(self.topology, org, pace=self._pace, outages=False,
                                 reached=self.schedule.reached)
        return FaultySource(simulated, self.schedule, sleep=self._sleep)

    def _agent(self, org: str, address: BrokerAddress) -> Agent:
        return Agent(org, address, session=self._session_of(org), source=self._source(org),
                     topics=self._topics, interval=self._interval, clock=self._clock,
                     sleep=self._sleep)

    async def run(self) -> None:
        """Until cancelled; then every agent publishes its planned stop (through its relay,
        which stays until they have)."""
        relays = {org: Relay(self.address) for org in self.orgs} if self.schedule else {}
        try:
            for org in self.orgs:
                relay = relays.get(org)
                address = await relay.start() if relay else self.address
                self.agents[org] = self._agent(org, address)
            agents = [asyncio.create_task(agent.run(), name=f"agent-{org}")
                      for org, agent in self.agents.items()]
            faults = [asyncio.create_task(job) for job in self._fault_jobs(relays)]
            try:
                # Not gather: cancelled, it would end with the first agent to stop and leave
                # the others' planned stops to be cut short.
                await asyncio.wait(agents)
            finally:
                # Once each: a second cancel would cut short the planned stop an agent is
                # making (one whose round hangs waits for it up to STOP_PUBLISH_TIMEOUT).
                for task in agents:
                    task.cancel()
                ended = await asyncio.gather(*agents, return_exceptions=True)
                _log_failures(self.agents, ended)
                await cancel_and_wait(*faults)
        finally:
            for relay in relays.values():
                await relay.close()

    def _fault_jobs(self, relays: dict[str, Relay]) -> list[Coroutine[None, None, None]]:
        if self.schedule is None:
            return []
        schedule, clock, sleep = self.schedule, self._clock, self._sleep
        jobs = [cut_while_lost(schedule, org, relay, clock=clock, sleep=sleep)
                for org, relay in relays.items()]
        return [*jobs, narrate(schedule, clock=clock, sleep=sleep)]


def _log_failures(agents: dict[str, Agent], ended: Sequence[object]) -> None:
    for org, outcome in zip(agents, ended, strict=True):
        if isinstance(outcome, Exception):
            log.error("the simulated agent of %s failed: %r", org, outcome)

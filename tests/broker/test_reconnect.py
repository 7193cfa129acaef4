"""Connections survive the broker going away: jittered backoff, then reconnect by themselves."""

from __future__ import annotations

import asyncio
import time

from agents.runtime import Agent
from broker.connection import Backoff
from broker.embedded import EmbeddedBroker
from broker.monitor import EngineSink, Monitor
from broker.topics import Topics
from chain.engine import ChainEngine
from chain.views import OrgState
from chain.wire import Message
from ketenwacht.setup import load_topology
from tests.conftest import until


def test_backoff_grows_with_full_jitter_and_resets() -> None:
    """Delays double up to the cap, each drawn from [ceiling/2, ceiling]; reset starts over."""
    backoff = Backoff(initial=1.0, maximum=8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, ceiling in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 1.0


class NoReadings:
    """Heartbeats only: the simulator's channel outages would make om DEGRADED at times."""

    async def read(self, now: float) -> list[Message]:
        return []


async def test_agent_and_monitor_reconnect_after_a_broker_restart() -> None:
    """Broker down: the monitor shows UNKNOWN; back on the same port: om is ONLINE again."""
    topology = load_topology(None)
    first = EmbeddedBroker()
    await first.start()
    address = first.address
    agent = Agent("om", address, session=1, interval=0.3, source=NoReadings())
    engine = ChainEngine(topology)
    sink = EngineSink(engine)
    fast = Backoff(initial=0.1, maximum=0.5)
    tasks = [
        asyncio.create_task(agent.run()),
        asyncio.create_task(Monitor(address, Topics()).run(sink, backoff=fast)),
    ]

    def om(state: OrgState) -> bool:
        return engine.view(time.time()).org("om").state is state

    second = EmbeddedBroker(port=address.port)
    try:
        await until(lambda: om(OrgState.ONLINE), within=5)
        await first.stop()
        await until(lambda: om(OrgState.UNKNOWN), within=5)
        await asyncio.sleep(1.0)
        await second.start()
        restarted_at = time.time()

        def reborn() -> bool:
            """om ONLINE since a birth published after the restart"""
            view = engine.view(time.time()).org("om")
            return view.state is OrgState.ONLINE and (view.since or 0) >= restarted_at

        await until(reborn, within=10)
        assert engine.view(time.time()).org("om").session == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await first.stop()
        await second.stop()

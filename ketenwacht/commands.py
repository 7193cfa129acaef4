"""The screen commands: `demo` (embedded broker, simulated chain and the live TUI) and `tui`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from agents.demo_chain import SimulatedChain
from agents.incidents import Schedule, planned
from agents.session import default_state_dir, next_session
from agents.simulator import as_simulated
from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.topology import Topology
from ketenwacht.oversized import guarded
from ketenwacht.startup import ALERTS, Alerts, configure_logging, warn
from mqtt.address import Brokers, describe
from mqtt.monitor import Monitor
from recording.history import keep_history, load_history
from tui.app import KetenwachtApp


@dataclass(frozen=True)
class History:
    """Where the screen records what it receives, and how much of it to replay at start."""

    path: Path
    hours: float

    @property
    def enabled(self) -> bool:
        return self.hours > 0


async def _watch(
    topology: Topology,
    brokers: Brokers,
    topics: Topics,
    history: History,
    *,
    subtitle: str = "",
    alerts: Alerts = ALERTS,
) -> None:
    """The live screen: history replayed first, every new message recorded."""
    engine = ChainEngine(topology)
    monitor = Monitor(brokers, topics)
    async with contextlib.AsyncExitStack() as stack:
        record = None
        if history.enabled:
            since = time.time() - history.hours * 3600
            await load_history(engine, topics, history.path, since, warn=warn)
            recorder = await keep_history(stack, history.path, warn=warn)
            record = await guarded(recorder, history.path)

        async def feed(sink: MonitorSink) -> None:
            await monitor.run(sink, record=record)

        app = KetenwachtApp(
            engine, feed, publish=monitor.publish_op, broker_url=describe(brokers),
            subtitle=subtitle, bell=alerts.bell, notify=alerts.notify,
        )
        await app.run_async()


async def run_demo(
    topology: Topology,
    *,
    port: int | None,
    interval: float,
    pace: float,
    topics: Topics,
    history: History,
    seed: int | None,
    nats_server: Path | None = None,
    alerts: Alerts = ALERTS,
) -> None:
    """`seed`: the simulated chain's incidents (agents.incidents); None for a calm chain."""
    state_dir = default_state_dir()
    configure_logging(verbose=False, file=state_dir / "demo.log")
    async with EmbeddedBroker(
        port=port, log_file=state_dir / "demo-broker.log", nats_server=nats_server,
    ) as broker:
        schedule = None if seed is None else Schedule(
            planned(topology, pace=pace, seed=seed), origin=time.time())
        chain = SimulatedChain(
            topology, broker.address, session_of=lambda org: next_session(state_dir, org),
            topics=topics, interval=interval, pace=pace, schedule=schedule,
        )
        running = asyncio.create_task(chain.run(), name="simulated-chain")
        staged = "calm" if seed is None else f"incidents of seed {seed}"
        try:
            # The screen expects what the simulated links carry: `pace` times the traffic.
            await _watch(
                as_simulated(topology, pace), (broker.address,), topics, history,
                subtitle=f"DEMO · simulated chain at {pace:g}x pace, {staged} · "
                         f"{broker.address.url}", alerts=alerts,
            )
        finally:
            # Once: a second cancel would cut short the agents' planned stops.
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def run_tui(
    topology: Topology, brokers: Brokers, topics: Topics, history: History, *,
    alerts: Alerts = ALERTS,
) -> None:
    await _watch(topology, brokers, topics, history, alerts=alerts)


"""The screen commands: `demo` (embedded broker, simulated chain and the live TUI) and `tui`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from agents.session import default_state_dir
from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.topology import Topology
from ketenwacht.agent_commands import simulated_agent
from ketenwacht.oversized import guarded
from ketenwacht.startup import configure_logging, warn
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
            subtitle=subtitle,
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
    nats_server: Path | None = None,
) -> None:
    state_dir = default_state_dir()
    configure_logging(verbose=False, file=state_dir / "demo.log")
    async with EmbeddedBroker(
        port=port, log_file=state_dir / "demo-broker.log", nats_server=nats_server,
    ) as broker:
        agents = [
            simulated_agent(
                topology,
                org,
                broker.address,
                topics=topics,
                interval=interval,
                pace=pace,
                state_dir=state_dir,
            )
            for org in topology.org_ids
        ]
        tasks = [asyncio.create_task(a.run(), name=f"agent-{a.org}") for a in agents]
        try:
            await _watch(
                topology, (broker.address,), topics, history,
                subtitle=f"DEMO · simulated chain at {pace:g}x pace · {broker.address.url}",
            )
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def run_tui(
    topology: Topology, brokers: Brokers, topics: Topics, history: History
) -> None:
    await _watch(topology, brokers, topics, history)


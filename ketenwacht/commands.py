"""The long-running commands: demo, agent, broker, tui."""

from __future__ import annotations

import asyncio
import contextlib

from agents.session import default_state_dir
from broker.address import BrokerAddress
from broker.embedded import EmbeddedBroker
from broker.monitor import Monitor
from broker.topics import Topics
from chain.engine import ChainEngine
from chain.topology import Topology
from ketenwacht.agent_commands import simulated_agent
from ketenwacht.setup import cancel_on_signals, configure_logging
from tui.app import KetenwachtApp


async def run_demo(
    topology: Topology,
    *,
    port: int | None,
    interval: float,
    pace: float,
    topics: Topics,
) -> None:
    state_dir = default_state_dir()
    configure_logging(verbose=False, file=state_dir / "demo.log")
    async with EmbeddedBroker(port=port) as broker:
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
        monitor = Monitor(broker.address, topics)
        app = KetenwachtApp(
            ChainEngine(topology),
            monitor.run,
            publish=monitor.publish_op,
            broker_url=broker.address.url,
            subtitle=f"DEMO · simulated chain at {pace:g}x pace · {broker.address.url}",
        )
        try:
            await app.run_async()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def run_broker(host: str, port: int) -> None:
    async with EmbeddedBroker(host, port) as broker:
        print(f"embedded broker listening on {broker.address.url} (Ctrl-C stops it)", flush=True)
        forever = asyncio.create_task(asyncio.Event().wait())
        cancel_on_signals(forever)
        with contextlib.suppress(asyncio.CancelledError):
            await forever


async def run_tui(topology: Topology, address: BrokerAddress, topics: Topics) -> None:
    monitor = Monitor(address, topics)
    app = KetenwachtApp(
        ChainEngine(topology), monitor.run, publish=monitor.publish_op, broker_url=address.url
    )
    await app.run_async()

"""Render the README's screenshot: the demo chain on an embedded broker, one agent stopped.

Run: .venv/bin/python scripts/screenshot.py docs/tui-overview.svg
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from agents.runtime import Agent
from agents.simulator import SimulatedOrg
from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.topics import Topics
from ketenwacht.startup import load_topology
from mqtt.monitor import Monitor
from tui.app import KetenwachtApp


async def main(target: Path) -> None:
    topology = load_topology(None)
    async with EmbeddedBroker() as broker:
        agents = [
            Agent(org, broker.address, session=1, interval=1.0,
                  source=SimulatedOrg(topology, org, pace=60))
            for org in topology.org_ids
        ]
        tasks = {a.org: asyncio.create_task(a.run()) for a in agents}
        app = KetenwachtApp(
            ChainEngine(topology),
            Monitor(broker.address, Topics()).run,
            broker_url=broker.address.url,
            subtitle=f"DEMO · {broker.address.url}",
        )
        async with app.run_test(size=(110, 26)) as pilot:
            await pilot.pause(2.5)
            tasks["dji"].cancel()  # a planned stop, to show an OFFLINE row
            await pilot.pause(2.0)
            app.save_screenshot(target.name, str(target.parent))
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/tui-overview.svg")))

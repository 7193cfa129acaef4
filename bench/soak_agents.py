"""One publisher process of the soak: real agents (agents.runtime.Agent, simulated readings).

Run by bench/soak.py, one process per share of the organisations (two cores cannot carry
200 agents in one event loop and still leave room for the monitor). Until SIGTERM; then every
agent makes its planned stop and the process writes, per organisation, the session and the
seqs whose publish completed (a QoS 1 publish completes on the broker's PUBACK), as ranges.

Run: python bench/soak_agents.py PORT TOPOLOGY RESULTS ORG [ORG ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import time
from pathlib import Path

import aiomqtt

from agents.runtime import Agent
from agents.simulator import SimulatedOrg
from chain.wire import Message
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress

INTERVAL = 1.0


class CountingAgent(Agent):
    """An agent that keeps the seq of every message it got onto the broker."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.published: list[int] = []

    async def publish(self, client: aiomqtt.Client, message: Message) -> None:
        await super().publish(client, message)
        self.published.append(message.seq)


def as_ranges(seqs: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 5] -> [(1, 3), (5, 5)]: 600 000 seqs as a handful of pairs."""
    ranges: list[tuple[int, int]] = []
    for seq in sorted(seqs):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return ranges


async def run(port: int, topology_path: Path, orgs: list[str]) -> dict[str, object]:
    topology = load_topology(topology_path)
    address = BrokerAddress("127.0.0.1", port)
    session = int(time.time())
    agents = [
        CountingAgent(org, address, session=session, source=SimulatedOrg(topology, org),
                      interval=INTERVAL)
        for org in orgs
    ]
    tasks: list[asyncio.Task[None]] = []
    for agent in agents:
        tasks.append(asyncio.create_task(agent.run(), name=agent.org))
        # Spread the agents over the second, as independent hosts would be, rather than
        # 50 heartbeats in one burst every second.
        await asyncio.sleep(INTERVAL / len(agents))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    # One cancel each, as SIGTERM gives the agent command: each makes its planned stop.
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        agent.org: {"session": agent.session, "published": as_ranges(agent.published)}
        for agent in agents
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("topology", type=Path)
    parser.add_argument("results", type=Path)
    parser.add_argument("orgs", nargs="+")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(run(args.port, args.topology, args.orgs))
    args.results.write_text(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Broker kill/restart loop, longer than the suite's: reconnect times and what was lost.

An in-process agent (interval 0.1 s, keepalive 1 s, outbox) publishes straight to the broker;
a monitor with the recorder's tap keeps everything it receives. Each cycle kills the broker
(Mosquitto: SIGKILL; amqtt: connections aborted, then stopped), waits, and starts it again
on the same port. Reported: the agent's reconnect time after the broker's return (median,
95th percentile, max), readings acknowledged to the agent vs recorded, and any acknowledged
reading that never reached the recorder.

With --gate the agent reaches the broker through a proxy that lets it in only once the
recorder has resubscribed (as the suite does); without, agent and recorder race back, and
what the broker acknowledges before the recorder has resubscribed is lost.

Run: PYTHONPATH=. .venv/bin/python bench/broker_restarts.py [--broker mosquitto|amqtt]
     [--cycles 30] [--gate]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Mosquitto
from tests.e2e.faults import (
    EmbeddedRestartable,
    MosquittoRestartable,
    RestartableBroker,
    Watch,
    acked_agent,
)
from tests.proxy import Proxy


async def wait_for(predicate: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {within}s")
        await asyncio.sleep(0.01)


async def run(kind: str, cycles: int, outage: float, gate: bool, workdir: Path) -> None:
    broker: RestartableBroker = (
        EmbeddedRestartable() if kind == "amqtt" else MosquittoRestartable(Mosquitto(workdir))
    )
    await broker.start()
    proxy = Proxy(broker.address)
    agent_side = await proxy.start() if gate else broker.address
    reconnects: list[float] = []
    try:
        async with (
            Watch(broker.address) as watch,
            acked_agent(agent_side, workdir / "om.outbox") as (agent, outbox),
        ):
            await wait_for(lambda: len(watch.flows()) >= 5, within=10)
            for _ in range(cycles):
                await broker.kill()
                if gate:
                    await proxy.refuse()
                    proxy.cut()
                await asyncio.sleep(outage)
                before = agent.connections
                await broker.start()
                if gate:
                    await watch.until_subscribed()
                    await proxy.listen()
                back = time.monotonic()

                def reconnected(earlier: int = before) -> bool:
                    return agent.connections > earlier

                await wait_for(reconnected, within=30)
                reconnects.append(time.monotonic() - back)
                await asyncio.sleep(0.5)
            await wait_for(lambda: outbox.size == 0, within=30)
            await asyncio.sleep(1.0)
            acknowledged = set(agent.acknowledged) | set(outbox.acknowledged)
            recorded = watch.keys()
            flows = len(watch.flows())
    finally:
        await proxy.stop()
        await broker.kill()
    reconnects.sort()
    p95 = reconnects[min(len(reconnects) - 1, int(0.95 * len(reconnects)))]
    print(f"{kind}{' gated' if gate else ''}: {cycles} restarts, outage {outage}s; "
          f"reconnect after the broker's return "
          f"median {statistics.median(reconnects):.2f}s p95 {p95:.2f}s "
          f"max {reconnects[-1]:.2f}s")
    print(f"  acknowledged {len(acknowledged)}, recorded {flows} ({len(recorded)} unique, "
          f"{flows - len(recorded)} duplicates), acknowledged but not recorded "
          f"{len(acknowledged - recorded)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=["mosquitto", "amqtt"], default="mosquitto")
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--outage", type=float, default=1.0)
    parser.add_argument("--gate", action="store_true",
                        help="let the agent in only once the recorder has resubscribed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run(args.broker, args.cycles, args.outage, args.gate, Path(workdir)))


if __name__ == "__main__":
    main()

"""Node kills: one NATS node killed and restarted, against a three-node cluster with one node
at a time killed, the same load in the same run.

For each: 17 agents (each with its own certificate, interval --interval, `--per-tick`
readings a tick, keepalive 30 s, outbox), the recorder on its persistent session writing
SQLite, and a monitor's engine watched for OFFLINE. `--kills` times, 10-20 s apart, a node
is killed with -9 and started again --down-min to --down-max seconds later (1-3 s: a crash
and a restart; 30 s or more: an organisation whose host is gone for a while). Reported:
readings acknowledged to the agents and recorded, the agents' time without a connection
after a kill (median, p95, max), how often the screen's engine showed an organisation
OFFLINE, and how long the screen was blind (monitor disconnected: every organisation
UNKNOWN).

Run: PYTHONPATH=. .venv/bin/python bench/cluster_kills.py [--kills 8] [--interval 10]
     [--down-min 1 --down-max 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import OrgState
from ketenwacht.startup import load_topology
from mqtt.monitor import Monitor
from recording.recorder import Recorder
from tests.conftest import until
from tests.e2e.cluster import Cluster, Failovers, cluster_agents, recorded
from tests.e2e.cluster import acknowledged as acknowledged_by


@dataclass
class Result:
    mode: str
    kills: int
    acknowledged: int
    recorded: int
    missing: int
    failovers: list[float]
    offline_samples: int
    unknown_samples: int
    catch_up: float
    """Seconds after the agents stopped until the recording held every acknowledged one."""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


async def run(mode: str, nodes: int, args: argparse.Namespace, work: Path) -> Result:
    topology = load_topology(None)
    cluster = Cluster.provision(work / mode / "setup", work / mode / "logs", nodes=nodes)
    await cluster.start()
    rng = random.Random(args.seed)
    offline = unknown = 0
    try:
        await cluster.until_serving()
        engine = ChainEngine(topology)
        recording = work / mode / "recording.sqlite"
        async with Recorder(recording) as recorder:
            monitor = Monitor(cluster.brokers("recorder"), Topics(), session=f"bench-{mode}")
            watching = asyncio.create_task(
                monitor.run(EngineSink(engine), record=recorder.record))
            await until(lambda: monitor.subscribed, within=30)  # else early readings miss it
            async with cluster_agents(cluster, topology.org_ids, work / mode,
                                      interval=args.interval, keepalive=30,
                                      per_tick=args.per_tick) as agents:
                await asyncio.sleep(2 * args.interval)
                moves = Failovers(agents)

                async def observe() -> None:
                    nonlocal offline, unknown
                    while True:
                        now = time.monotonic()
                        view = engine.view(time.time())
                        offline += view.count(OrgState.OFFLINE)
                        unknown += view.count(OrgState.UNKNOWN)
                        moves.sample(now)
                        await asyncio.sleep(0.1)

                observing = asyncio.create_task(observe())
                for _ in range(args.kills):
                    await asyncio.sleep(rng.uniform(10, 20))
                    victim = rng.choice([node.name for node in cluster.nodes])
                    await cluster.kill(victim)
                    await asyncio.sleep(rng.uniform(args.down_min, args.down_max))
                    await cluster.start(victim)
                await cluster.until_serving()
                await asyncio.sleep(3 * args.interval)
                observing.cancel()
                await asyncio.gather(observing, return_exceptions=True)
                acknowledged = acknowledged_by(agents)
            stopped = time.monotonic()
            while True:
                got = await recorded(recording)
                if acknowledged <= got or time.monotonic() - stopped > args.catch_up:
                    break
                await asyncio.sleep(0.5)
            catch_up = time.monotonic() - stopped
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
    finally:
        await cluster.stop()
    return Result(mode, args.kills, len(acknowledged), len(got & acknowledged),
                  len(acknowledged - got), moves.times, offline, unknown, catch_up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--per-tick", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--down-min", type=float, default=1.0)
    parser.add_argument("--down-max", type=float, default=3.0)
    parser.add_argument("--catch-up", type=float, default=120.0,
                        help="seconds to wait for the recorder after the agents stop")
    parser.add_argument("--modes", default="single,cluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        nodes = {"single": 1, "cluster": 3}
        results = [asyncio.run(run(mode, nodes[mode], args, work))
                   for mode in args.modes.split(",")]
    print(f"node kills: 17 agents, interval {args.interval:g} s, {args.per_tick} readings a "
          f"tick, {args.kills} kills -9 each (restarted {args.down_min:g}-{args.down_max:g} s "
          "later)")
    print(f"  {'':8} {'acknowledged':>12} {'recorded':>9} {'missing':>8} "
          f"{'failover median / p95 / max':>30} {'OFFLINE':>8} {'blind':>8} {'caught up':>10}")
    for r in results:
        f = r.failovers
        failover = (f"{statistics.median(f):.1f} / {percentile(f, 0.95):.1f} / {max(f):.1f} s"
                    if f else "none")
        blind = r.unknown_samples / 17 * 0.1
        print(f"  {r.mode:8} {r.acknowledged:>12} {r.recorded:>9} {r.missing:>8} "
              f"{failover:>30} {r.offline_samples:>8} {blind:>7.0f}s {r.catch_up:>9.1f}s")
    print("  (OFFLINE: organisation-samples every 0.1 s on the screen's engine; blind: time "
          "the screen showed everyone UNKNOWN, monitor disconnected)")


if __name__ == "__main__":
    main()

"""Broker kill/restart loop at random moments: reconnect times and what was lost.

An in-process agent (interval 0.1 s, keepalive 1 s, outbox) publishes straight to the broker;
a monitor with the recorder's tap keeps everything it receives. Agent and recorder use their
production backoffs (agent 0.25 s doubling to 4 s, monitor 0.1 s to 1 s, full jitter) and
race back after every restart, as they would in the field. Each cycle kills the broker
(SIGKILL) at a random moment after its previous start, waits, and starts it again on the
same port, with its persistence (Mosquitto: `persistence true`, `autosave_interval`
--autosave; NATS: its JetStream store, written before each PUBACK).

Two runs in one: the recorder on a clean session (the baseline: what a restart loses when
the broker forgets the recorder's subscription) and on a persistent session (the fix: the
broker holds what arrives before the recorder is back). Reported for each: the agent's
reconnect time after the broker's return (median, p95, max), readings acknowledged to the
agent, recorded, and acknowledged but never recorded.

Run: PYTHONPATH=. .venv/bin/python bench/broker_restarts.py [--broker mosquitto|nats]
     [--cycles 30] [--outage 1.0] [--autosave 10]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from mqtt.monitor import monitor_backoff
from tests.conftest import Mosquitto, until
from tests.e2e.faults import (
    EmbeddedRestartable,
    MosquittoRestartable,
    RestartableBroker,
    Watch,
    acked_agent,
)

RECORDER = "ketenwacht-recorder-bench"
SEED = 7


@dataclass
class Outcome:
    reconnects: list[float]
    acknowledged: int
    recorded: int
    unique: int
    lost: int
    sessions_lost: int


def make_broker(kind: str, workdir: Path, autosave: int) -> RestartableBroker:
    if kind == "nats":
        return EmbeddedRestartable(workdir / "jetstream")
    return MosquittoRestartable(Mosquitto(workdir, autosave=autosave))


async def run(kind: str, session: str | None, args: argparse.Namespace,
              workdir: Path) -> Outcome:
    chance = random.Random(SEED)
    broker = make_broker(kind, workdir, args.autosave)
    await broker.start()
    reconnects: list[float] = []
    try:
        async with (
            Watch(broker.address, session=session, backoff=monitor_backoff()) as watch,
            acked_agent(broker.address, workdir / "om.outbox") as (agent, outbox),
        ):
            await until(lambda: len(watch.flows()) >= 5, within=10)
            await asyncio.sleep(args.autosave + 1)  # the recorder's session is on disk
            for _ in range(args.cycles):
                await broker.kill()
                await asyncio.sleep(args.outage)
                before = agent.connections
                await broker.start()
                back = time.monotonic()

                def reconnected(earlier: int = before) -> bool:
                    return agent.connections > earlier

                await until(reconnected, within=30)
                reconnects.append(time.monotonic() - back)
                await asyncio.sleep(chance.uniform(args.up_min, args.up_max))
            await until(lambda: outbox.size == 0, within=60)
            await asyncio.sleep(5.0)  # the recorder's own backoff, then what was held
            acknowledged = set(agent.acknowledged) | set(outbox.acknowledged)
            recorded = watch.keys()
            return Outcome(reconnects, len(acknowledged), len(watch.flows()), len(recorded),
                           len(acknowledged - recorded), watch.monitor.sessions_lost)
    finally:
        await broker.kill()


def report(label: str, outcome: Outcome) -> None:
    times = sorted(outcome.reconnects)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"  {label:<26} reconnect median {statistics.median(times):.2f}s p95 {p95:.2f}s "
          f"max {times[-1]:.2f}s; acknowledged {outcome.acknowledged}, recorded "
          f"{outcome.recorded} ({outcome.unique} unique), lost {outcome.lost} "
          f"({100 * outcome.lost / max(1, outcome.acknowledged):.1f} %)"
          + (f"; session forgotten by the broker {outcome.sessions_lost}x"
             if outcome.sessions_lost else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=["mosquitto", "nats"], default="mosquitto")
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--outage", type=float, default=1.0, help="seconds down per cycle")
    parser.add_argument("--up-min", type=float, default=0.5,
                        help="shortest time up before the next kill (s)")
    parser.add_argument("--up-max", type=float, default=8.0,
                        help="longest time up before the next kill (s)")
    parser.add_argument("--autosave", type=int, default=10,
                        help="Mosquitto's autosave_interval (broker init writes 10)")
    args = parser.parse_args()
    logging.getLogger("ketenwacht").setLevel(logging.ERROR)  # one warning per kill otherwise
    print(f"{args.broker}: {args.cycles} kills, {args.outage}s down, up "
          f"{args.up_min}-{args.up_max}s between kills"
          + (f", autosave every {args.autosave}s" if args.broker == "mosquitto" else ""))
    for label, session in (("clean session (baseline)", None), ("persistent session", RECORDER)):
        with tempfile.TemporaryDirectory() as workdir:
            report(label, asyncio.run(run(args.broker, session, args, Path(workdir))))


if __name__ == "__main__":
    main()

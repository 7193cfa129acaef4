"""Engine throughput (decode + topic check + fold) against the aiomqtt subscriber ceiling.

The same run measures:
  - the ceiling: how many messages per second one aiomqtt subscriber receives from
    Mosquitto, doing nothing with them (a separate paho process publishes at QoS 0);
  - the engine: the monitor's dispatch of the same kind of payloads (decode, topic check,
    fold into the engine), in-process, no network.
Target (issue 4): the engine at least 10x the ceiling, so the broker link is the bottleneck.

Run: .venv/bin/python bench/engine_throughput.py [--messages 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
from soak_topology import org_ids, topology_toml

from broker.embedded import free_port
from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.topology import parse_topology
from chain.wire import BacklogGauge, ChannelReading, FlowCounter, Heartbeat, Message, encode
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor

PUBLISHER = """
import sys, time
import paho.mqtt.client as mqtt
port, count = int(sys.argv[1]), int(sys.argv[2])
payloads = [line.encode() for line in sys.stdin.read().splitlines()]
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
client.max_queued_messages_set(0)
client.connect("127.0.0.1", port)
client.loop_start()
time.sleep(0.5)
for i in range(count):
    topic, _, body = payloads[i % len(payloads)].partition(b" ")
    client.publish(topic.decode(), body, qos=0)
time.sleep(1)
client.loop_stop()
"""

ORGS = 200
"""Organisations of the synthetic chain (bench/soak_topology.py): every reading lands on a
link, a backlog and an organisation of its topology, as the real chain's do."""


def payloads(orgs: int) -> list[tuple[str, bytes]]:
    """A realistic mix: per organisation a heartbeat, two channels, two counters, a backlog."""
    topics = Topics()
    ts = datetime.now(UTC)
    out: list[tuple[str, bytes]] = []
    for index in range(orgs):
        org, upstream = org_ids(orgs)[index], org_ids(orgs)[index - 1]  # a ring
        messages: list[Message] = [
            Heartbeat(org=org, session=1, seq=1, ts=ts, interval=1.0),
            ChannelReading(org=org, session=1, seq=2, ts=ts, channel="email", up=True,
                           latency_ms=21.5),
            ChannelReading(org=org, session=1, seq=3, ts=ts, channel="phone", up=True),
            FlowCounter(org=org, session=1, seq=4, ts=ts, link=f"{org}-out", direction="sent",
                        count=48210 + index),
            FlowCounter(org=org, session=1, seq=5, ts=ts, link=f"{upstream}-out",
                        direction="received", count=48200 + index),
            BacklogGauge(org=org, session=1, seq=6, ts=ts, process=f"{org}-queue", items=index),
        ]
        out += [(topics.of(m), encode(m)) for m in messages]
    return out


def engine_rate(sample: list[tuple[str, bytes]], total: int) -> float:
    engine = ChainEngine(parse_topology(topology_toml(ORGS), origin="soak topology"))
    engine.monitor_connected(time.time())
    sink = EngineSink(engine)
    monitor = Monitor(BrokerAddress("127.0.0.1", 1), Topics())
    started = time.perf_counter()
    for i in range(total):
        topic, payload = sample[i % len(sample)]
        monitor.dispatch(sink, topic, payload, False)
    return total / (time.perf_counter() - started)


async def ceiling_rate(port: int, sample: list[tuple[str, bytes]], total: int) -> float:
    received = 0
    first = last = 0.0
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-subscriber") as client:
        await client.subscribe("keten/v1/#", qos=0)
        lines = "\n".join(f"{t} {p.decode()}" for t, p in sample)
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, str(port), str(total),
            stdin=asyncio.subprocess.PIPE,
        )
        assert publisher.stdin is not None
        publisher.stdin.write(lines.encode())
        publisher.stdin.close()

        async def count() -> None:
            nonlocal received, first, last
            async for _ in client.messages:
                received += 1
                last = time.perf_counter()
                if received == 1:
                    first = last
                if received >= total:
                    return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(count(), timeout=120)
        await publisher.wait()
    if received < total:
        print(f"  (ceiling run received {received} of {total}; rate over those)")
    return (received - 1) / (last - first) if last > first else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sample = payloads(ORGS)
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        conf = Path(scratch) / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                        "max_queued_messages 0\n")
        broker = subprocess.Popen([mosquitto, "-c", str(conf)])
        time.sleep(0.5)
        try:
            engine, ceiling = [], []
            for _ in range(args.repeat):
                ceiling.append(asyncio.run(ceiling_rate(port, sample, args.messages)))
                engine.append(engine_rate(sample, args.messages))
        finally:
            broker.terminate()
            broker.wait()
    e, c = statistics.median(engine), statistics.median(ceiling)
    print(f"engine throughput, {args.messages} messages x {args.repeat} runs (medians)")
    print(f"  aiomqtt subscriber ceiling: {c:10,.0f} msg/s   runs {[round(x) for x in ceiling]}")
    print(f"  engine decode+check+fold:   {e:10,.0f} msg/s   runs {[round(x) for x in engine]}")
    verdict = "met" if e / c >= 10 else "MISSED"
    print(f"  ratio engine/ceiling: {e / c:.1f}x (target >= 10x: {verdict})")


if __name__ == "__main__":
    main()

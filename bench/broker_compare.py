"""The embedded NATS broker next to Mosquitto, in one run: intake, start-up, footprint.

  - intake: a paho process publishes --messages realistic payloads as fast as it can (QoS 0,
    or QoS 1 with 100 in flight); a bare aiomqtt subscriber, then the monitor with the
    recorder (decode, check, SQLite), take them in at the same QoS; msg/s from the first to
    the last message, median of --repeat runs;
  - start-up: from exec to a broker that answers MQTT, median of 10 (Mosquitto: the port
    accepts; NATS: the embedded broker's own readiness, healthy with JetStream);
  - footprint: the broker's RSS idle, and with 200 connected agents' heartbeats at 1 Hz
    for 20 s (measured first, on a fresh broker).

Run: PYTHONPATH=. .venv/bin/python bench/broker_compare.py [--messages 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import psutil
from engine_throughput import payloads

from broker.embedded import EmbeddedBroker, free_port, wait_for_port
from chain.inbox import deliver
from chain.topics import Topics
from ketenwacht.record import RecorderSink
from recording.recorder import Recorder

PUBLISHER = """
import sys, time
import paho.mqtt.client as mqtt
port, count, qos = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
payloads = [line.encode() for line in sys.stdin.read().splitlines()]
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-publisher")
client.max_inflight_messages_set(100)
client.max_queued_messages_set(0)
client.connect("127.0.0.1", port)
client.loop_start()
time.sleep(0.5)
for i in range(count):
    topic, _, body = payloads[i % len(payloads)].partition(b" ")
    info = client.publish(topic.decode(), body, qos=qos)
    if qos and i % 100 == 99:
        info.wait_for_publish(10)  # at most 100 unacknowledged, as max_inflight says
time.sleep(2)
client.loop_stop()
"""


@contextlib.asynccontextmanager
async def mosquitto(work: Path) -> AsyncIterator[tuple[int, int]]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = work / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "log_dest none\nmax_queued_messages 0\nmax_inflight_messages 100\n")
    process = await asyncio.create_subprocess_exec(binary, "-c", str(conf))
    await asyncio.to_thread(wait_for_port, port)
    try:
        yield port, process.pid
    finally:
        process.terminate()
        await process.wait()


@contextlib.asynccontextmanager
async def nats() -> AsyncIterator[tuple[int, int]]:
    async with EmbeddedBroker() as broker:
        assert broker.pid is not None
        yield broker.address.port, broker.pid


async def intake(port: int, qos: int, total: int, *, record: Path | None) -> float:
    sample = payloads(200)
    topics, counts = Topics(), RecorderSink()
    received, first, last = 0, 0.0, 0.0
    async with contextlib.AsyncExitStack() as stack:
        recorder = await stack.enter_async_context(Recorder(record)) if record else None
        client = await stack.enter_async_context(
            aiomqtt.Client("127.0.0.1", port, identifier=f"bench-sub-{time.monotonic_ns()}",
                           max_queued_incoming_messages=0))
        await client.subscribe("keten/v1/#", qos=qos)
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, str(port), str(total), str(qos),
            stdin=asyncio.subprocess.PIPE)
        assert publisher.stdin is not None
        publisher.stdin.write("\n".join(f"{t} {p.decode()}" for t, p in sample).encode())
        publisher.stdin.close()

        async def take() -> None:
            nonlocal received, first, last
            async for message in client.messages:
                if recorder is not None:
                    now = time.time()
                    assert isinstance(message.payload, bytes)
                    problem = deliver(topics, counts, message.topic.value, message.payload,
                                      message.retain, now)
                    recorder.record(now, message.topic.value, message.payload, message.qos,
                                    message.retain, problem)
                received += 1
                last = time.perf_counter()
                if received == 1:
                    first = last
                if received >= total:
                    return

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(take(), timeout=180)
        await publisher.wait()
    if received < total:
        print(f"  (received {received} of {total} at QoS {qos})")
    return (received - 1) / (last - first) if last > first else 0.0


async def startup(kind: str, work: Path) -> float:
    started = time.perf_counter()
    if kind == "nats":
        async with EmbeddedBroker():
            return time.perf_counter() - started
    async with mosquitto(work):
        return time.perf_counter() - started


async def footprint(port: int, pid: int, agents: int) -> tuple[float, float]:
    process = psutil.Process(pid)
    await asyncio.sleep(1)
    idle = process.memory_info().rss / 2**20
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(
            aiomqtt.Client("127.0.0.1", port, identifier=f"agent-{n}",
                           will=aiomqtt.Will(f"keten/v1/org{n}/status", b"lost", qos=1,
                                             retain=True)))
            for n in range(agents)]
        for _ in range(20):
            await asyncio.gather(*(c.publish(f"keten/v1/org{n}/heartbeat", b"{}", qos=0)
                                   for n, c in enumerate(clients)))
            await asyncio.sleep(1)
        busy = process.memory_info().rss / 2**20
    return idle, busy


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        rows: dict[str, dict[str, float]] = {}
        for kind in ("mosquitto", "nats"):
            figures: dict[str, float] = {}
            broker = mosquitto(work) if kind == "mosquitto" else nats()
            async with broker as (port, pid):
                figures["idle"], figures["busy"] = await footprint(port, pid, args.agents)
                for qos in (0, 1):
                    bare = [await intake(port, qos, args.messages, record=None)
                            for _ in range(args.repeat)]
                    ours = [await intake(port, qos, args.messages,
                                         record=work / f"{kind}-{qos}-{n}.sqlite")
                            for n in range(args.repeat)]
                    figures[f"bare {qos}"] = statistics.median(bare)
                    figures[f"ours {qos}"] = statistics.median(ours)
            figures["start"] = statistics.median([await startup(kind, work) for _ in range(10)])
            rows[kind] = figures
    print(f"broker comparison: {args.messages} messages x {args.repeat} runs (medians)")
    for qos in (0, 1):
        for kind, f in rows.items():
            print(f"  QoS {qos} {kind:9}: bare subscriber {f[f'bare {qos}']:9,.0f} msg/s; "
                  f"monitor + recorder {f[f'ours {qos}']:9,.0f} msg/s "
                  f"({f[f'ours {qos}'] / f[f'bare {qos}']:.2f}x)")
    for kind, f in rows.items():
        print(f"  {kind:9}: ready in {f['start'] * 1000:5.0f} ms; RSS idle {f['idle']:5.1f} MB, "
              f"with {args.agents} agents {f['busy']:5.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--agents", type=int, default=200)
    asyncio.run(main(parser.parse_args()))

"""The live TUI under load: 200 simulated organisations, 2,000 messages/s, embedded broker.

Processes: the embedded broker (`ketenwacht broker`), a paho load generator (200 orgs, each
a heartbeat and readings, 10 msg/s per org), and the real app (headless, via run_test) in
this process. Every 2 s the generator takes one organisation offline (planned stop) or back
online and notes when it published; the app notes when the overview row shows the change.

Figures: received rate, the monitor's queue (must not grow), redraws per second (target
>= 4), and state-change latency publish -> on screen (target p99 <= 1 s). As a baseline in
the same run: the same app with no traffic. The queue is sampled once a second; it "grows"
when the second half's median is well above the first half's.

Run: .venv/bin/python bench/tui_live.py [--seconds 60] [--orgs 200] [--rate 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

from soak_topology import topology_toml

from broker.embedded import free_port
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.topology import parse_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from tui.app import KetenwachtApp

GENERATOR = r"""
import json, random, sys, time
from datetime import datetime, timezone
import paho.mqtt.client as mqtt
port, orgs = int(sys.argv[1]), int(sys.argv[2])
rate, seconds = float(sys.argv[3]), float(sys.argv[4])
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="load")
client.max_queued_messages_set(0)
client.connect("127.0.0.1", port, keepalive=60)
client.loop_start()
names = [f"org-{i:03d}" for i in range(orgs)]  # soak_topology.org_ids
seq = dict.fromkeys(names, 0)
down = set()
sent = 0
def send(org, kind, extra, topic_tail, qos=0, retain=False):
    global sent
    sent += 1
    seq[org] += 1
    body = {"kind": kind, "org": org, "session": 1, "seq": seq[org],
            "ts": datetime.now(timezone.utc).isoformat(), **extra}
    client.publish(f"keten/v1/{org}/{topic_tail}", json.dumps(body), qos=qos, retain=retain)
for org in names:
    send(org, "status", {"state": "online", "interval": 1.0}, "status", 1, True)
time.sleep(1)
per_tick = rate / 10           # ten ticks a second
started = time.time(); tick = 0; cursor = 0; next_change = started + 2
while time.time() - started < seconds:
    for _ in range(int(per_tick)):
        org = names[cursor % orgs]; cursor += 1
        if org in down:
            continue
        step = (cursor // orgs) % 4
        if step == 0:
            send(org, "heartbeat", {"interval": 1.0}, "heartbeat")
        elif step == 1:
            reading = {"channel": "email", "up": True, "latency_ms": 20}
            send(org, "channel", reading, "channel/email")
        elif step == 2:
            reading = {"link": f"{org}-out", "direction": "sent", "count": cursor}
            send(org, "flow", reading, f"flow/{org}-out")
        else:
            reading = {"process": f"{org}-queue", "items": cursor % 500}
            send(org, "backlog", reading, f"backlog/{org}-queue")
    if time.time() >= next_change:
        org = random.choice(names)
        if org in down:
            down.discard(org)
            send(org, "status", {"state": "online", "interval": 1.0}, "status", 1, True)
            want = "online"
        else:
            down.add(org)
            send(org, "status", {"state": "offline", "cause": "stopped"}, "status", 1, True)
            want = "offline"
        print(json.dumps({"org": org, "want": want, "at": time.time()}), flush=True)
        next_change += 2
    tick += 1
    time.sleep(max(0.0, started + tick / 10 - time.time()))
print(json.dumps({"sent": sent, "seconds": time.time() - started}), flush=True)
client.loop_stop()
"""


class MeasuredApp(KetenwachtApp):
    """Notes when each awaited state change first shows on screen."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.awaited: dict[str, tuple[str, float]] = {}
        self.latencies: list[float] = []
        self.lags: list[float] = []

    def redraw(self) -> None:
        super().redraw()
        table = self.tables["overview"]
        now = time.time()
        for org, (want, at) in list(self.awaited.items()):
            if org in table.keys and table.row(org).text("state").lower().endswith(want):
                self.latencies.append(now - at)
                del self.awaited[org]


async def lag_probe(app: MeasuredApp, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        before = loop.time()
        await asyncio.sleep(0.05)
        app.lags.append(loop.time() - before - 0.05)


async def run(args: argparse.Namespace, port: int, *, load: bool) -> dict[str, float]:
    address = BrokerAddress("127.0.0.1", port)
    monitor = Monitor(address, Topics())
    received = 0

    async def feed(sink: MonitorSink) -> None:
        await monitor.run(sink)

    topology = parse_topology(topology_toml(args.orgs), origin="soak topology")
    app = MeasuredApp(ChainEngine(topology), feed, broker_url=address.url)
    queue: list[int] = []
    offered: list[tuple[int, float]] = []
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause(1.0)
        generator = None
        if load:
            generator = await asyncio.create_subprocess_exec(
                sys.executable, "-c", GENERATOR, str(port), str(args.orgs), str(args.rate),
                str(args.seconds), stdout=asyncio.subprocess.PIPE,
            )
        lagging = asyncio.create_task(lag_probe(app, args.seconds))
        redraws_before, received_before = app.redraws, app.sink.received
        started = time.time()

        async def changes() -> None:
            assert generator is not None and generator.stdout is not None
            async for line in generator.stdout:
                change = json.loads(line)
                if "sent" in change:
                    offered.append((change["sent"], change["seconds"]))
                else:
                    app.awaited[change["org"]] = (change["want"], change["at"])

        reader = asyncio.create_task(changes()) if generator else None
        while time.time() - started < args.seconds:
            await asyncio.sleep(1.0)
            queue.append(monitor.queued)
        elapsed = time.time() - started
        redraws = app.redraws - redraws_before
        await lagging
        if generator:
            await generator.wait()
        if reader:
            await asyncio.wait_for(reader, timeout=5)
        await asyncio.sleep(1.0)  # let the last messages arrive before counting
        received = app.sink.received - received_before
    latencies = sorted(app.latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
    sent, sending = offered[0] if offered else (0, 1.0)
    return {
        "offered_per_s": sent / sending,
        "received_of_offered_%": 100.0 * received / sent if sent else 0.0,
        "redraws_per_s": redraws / elapsed,
        "queue_median_1st_half": statistics.median(queue[: len(queue) // 2] or [0]),
        "queue_median_2nd_half": statistics.median(queue[len(queue) // 2:] or [0]),
        "queue_max": max(queue or [0]),
        "changes_seen": len(latencies),
        "latency_median_s": statistics.median(latencies) if latencies else 0.0,
        "latency_p99_s": p99,
        "loop_lag_p99_ms": 1000 * sorted(app.lags)[int(0.99 * len(app.lags))] if app.lags else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2000)
    args = parser.parse_args()
    port = free_port()
    broker = subprocess.Popen(
        [sys.executable, "-m", "ketenwacht", "broker", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(2)
    try:
        idle = asyncio.run(run(args, port, load=False))
        loaded = asyncio.run(run(args, port, load=True))
    finally:
        broker.terminate()
        broker.wait()
    print(f"live TUI, {args.orgs} organisations at {args.rate:g} msg/s for {args.seconds:g} s")
    print(f"{'':24} {'idle (baseline)':>16} {'under load':>12}")
    for key in loaded:
        print(f"{key:24} {idle[key]:16.2f} {loaded[key]:12.2f}")
    ok_rate = loaded["redraws_per_s"] >= 4
    ok_latency = loaded["latency_p99_s"] <= 1.0
    # Growing means the second half's typical queue is well above the first half's;
    # momentary peaks (one redraw's worth of messages) are not growth.
    ok_queue = loaded["queue_median_2nd_half"] <= max(50, 2 * loaded["queue_median_1st_half"])
    print(f"targets: redraw >= 4/s {'met' if ok_rate else 'MISSED'}; "
          f"p99 change-to-screen <= 1 s {'met' if ok_latency else 'MISSED'}; "
          f"queue not growing {'met' if ok_queue else 'MISSED'}")


if __name__ == "__main__":
    main()

"""Soak: hundreds of real agents at a 1 s heartbeat for minutes, recorded and on screen.

Processes, all on this machine:
  - the broker: Mosquitto on a free port (default) or the embedded NATS broker
    (`ketenwacht broker`);
  - the recorder: the real `ketenwacht record`, into a fresh SQLite file;
  - the agents: agents.runtime.Agent with simulated readings for a synthetic chain of
    --orgs organisations (bench/soak_topology.py), spread over --processes processes
    (bench/soak_agents.py); each notes the seqs it got onto the broker;
  - the baseline: a bare aiomqtt subscriber with the same loop-lag probe (bench/soak_baseline.py);
  - this process: the real app, headless (run_test, 160x60), fed by the real monitor, with a
    probe that sleeps 50 ms and measures how late it wakes.
Per organisation and second: a heartbeat, two channel readings, two flow counters and a
backlog gauge (six messages).

Checks (targets of issue 7): recorder rows == published messages, per organisation; no seq
gaps in the recording; RSS of this process flat (median of the last third within 5 % of the
second third's); event-loop lag p99 < 100 ms. Definitions in bench/soak_check.py.

Run: .venv/bin/python bench/soak.py [--orgs 200] [--minutes 10] [--broker mosquitto|nats]
     [--processes 4] [--json FILE]; exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
import psutil
from soak_check import account, expand, memory_trend, percentile
from soak_topology import org_ids, write_topology

from broker.embedded import free_port, wait_for_port
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.topology import Topology
from mqtt.address import BrokerAddress
from mqtt.connection import cancel_and_wait
from mqtt.monitor import Monitor
from tui.app import KetenwachtApp

HERE = Path(__file__).parent
LAG_TARGET_MS = 100.0
GROWTH_TARGET_PERCENT = 5.0
RSS_EVERY = 10.0
SETTLE_SECONDS = 2.0
DRAIN_SECONDS = 3.0
"""After the agents stop: time for the last messages to reach the recorder and the screen."""


def start_broker(kind: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = None
    if kind == "nats":
        command = [sys.executable, "-m", "ketenwacht", "broker", "--port", str(port)]
        env = {**os.environ, "XDG_STATE_HOME": str(workdir / "state")}
    else:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(binary):
            raise SystemExit("soak: mosquitto is not installed (apt-get install mosquitto)")
        conf = workdir / "mosquitto.conf"
        # Mosquitto's defaults otherwise, as in production (broker/mosquitto_conf.py sets no
        # queue limits): 20 messages in flight and 1 000 queued per client.
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                        "persistence false\nlog_dest stderr\nlog_type error\nsys_interval 1\n")
        command = [binary, "-c", str(conf)]
    broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    wait_for_port(port)
    return broker


def start_recorder(port: int, recording: Path) -> subprocess.Popen[bytes]:
    recorder = subprocess.Popen(
        [sys.executable, "-m", "ketenwacht", "record", "--broker", f"mqtt://127.0.0.1:{port}",
         "--out", str(recording)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # The database exists once the recorder is past its set-up; it connects and subscribes
    # on loopback within milliseconds after. A late subscription would show in the check.
    deadline = time.monotonic() + 15
    while not recording.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    return recorder


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def watch_dropped(port: int, latest: list[int]) -> None:
    """Messages Mosquitto dropped because a subscriber's queue was full (its max_queued
    limit): the one way a slow subscriber loses messages at QoS 1. Watched from the start:
    Mosquitto republishes the figure only when it changes."""
    async with aiomqtt.Client("127.0.0.1", port, identifier="soak-sys") as client:
        await client.subscribe("$SYS/broker/publish/messages/dropped")
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            latest.append(int(message.payload))


async def probe_lag(lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.05)
        lags.append(loop.time() - before - 0.05)


async def soak(args: argparse.Namespace, port: int, topology: tuple[Path, Topology],
               recorder: subprocess.Popen[bytes], workdir: Path) -> dict[str, object]:
    path, chain = topology
    address = BrokerAddress("127.0.0.1", port)
    monitor = Monitor(address, Topics())

    async def feed(sink: MonitorSink) -> None:
        await monitor.run(sink)

    baseline = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "soak_baseline.py"), str(port), str(workdir / "baseline.json"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert baseline.stdout is not None
    await asyncio.wait_for(baseline.stdout.readline(), timeout=15)
    app = KetenwachtApp(ChainEngine(chain), feed, broker_url=address.url)
    dropped: list[int] = []
    watching = asyncio.create_task(
        watch_dropped(port, dropped) if args.broker == "mosquitto" else asyncio.sleep(0)
    )
    me, recorder_process = psutil.Process(), psutil.Process(recorder.pid)
    lags: list[float] = []
    rss: list[tuple[float, float]] = []
    recorder_rss: list[tuple[float, float]] = []
    queue: list[int] = []
    async with app.run_test(size=(160, 60)) as pilot:
        while app.view is None or not app.view.monitor_connected:
            await pilot.pause(0.1)
        # The app's start (first layout of every row, first collections) is not what is
        # measured: the probe starts once it has settled.
        await pilot.pause(SETTLE_SECONDS)
        orgs = org_ids(args.orgs)
        shares = [orgs[index::args.processes] for index in range(args.processes)]
        agents = [
            await asyncio.create_subprocess_exec(
                sys.executable, str(HERE / "soak_agents.py"), str(port), str(path),
                str(workdir / f"agents-{index}.json"), *share)
            for index, share in enumerate(shares) if share
        ]
        started = time.monotonic()
        probing = asyncio.create_task(probe_lag(lags))
        redraws_before = app.redraws
        next_rss = started
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            queue.append(monitor.queued)
            if time.monotonic() >= next_rss:
                rss.append((elapsed, me.memory_info().rss / 2**20))
                recorder_rss.append((elapsed, recorder_process.memory_info().rss / 2**20))
                next_rss += RSS_EVERY
            await asyncio.sleep(1.0)
        probing.cancel()
        redraws = app.redraws - redraws_before
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
        for agent in agents:
            await asyncio.wait_for(agent.wait(), 60)
        await asyncio.sleep(DRAIN_SECONDS)
        # What reached the app counts once the app has taken it in.
        while monitor.queued:  # noqa: ASYNC110 (polling the client's queue)
            await asyncio.sleep(0.1)
        shown = app.sink.received
    await cancel_and_wait(watching)
    baseline.send_signal(signal.SIGTERM)
    await baseline.wait()
    await asyncio.to_thread(stop, recorder)

    published: dict[str, tuple[int, set[int]]] = {}
    for index in range(len(agents)):
        for org, figures in json.loads((workdir / f"agents-{index}.json").read_text()).items():
            published[org] = (figures["session"], expand(figures["published"]))
    accounting = account(workdir / "soak.sqlite", published)
    bare = json.loads((workdir / "baseline.json").read_text())
    seconds = args.minutes * 60
    return {
        "orgs": args.orgs, "seconds": seconds, "broker": args.broker,
        "published": accounting.published,
        "published_per_s": accounting.published / seconds,
        **{f"recording_{k}": v for k, v in accounting.as_dict().items() if k != "published"},
        "tui_received": shown,
        "broker_dropped": dropped[-1] if dropped else None,
        "baseline_received": bare["received"],
        "redraws_per_s": redraws / seconds,
        "monitor_queue_max": max(queue or [0]),
        "lag_p50_ms": 1000 * percentile(lags, 0.5),
        "lag_p99_ms": 1000 * percentile(lags, 0.99),
        "lag_max_ms": 1000 * max(lags or [0.0]),
        "baseline_lag_p50_ms": 1000 * percentile(bare["lags"], 0.5),
        "baseline_lag_p99_ms": 1000 * percentile(bare["lags"], 0.99),
        "baseline_lag_max_ms": 1000 * max(bare["lags"] or [0.0]),
        **memory_trend(rss),
        **{f"recorder_{k}": v for k, v in memory_trend(recorder_rss).items()},
        "rss_samples_mb": [round(mb, 1) for _, mb in rss],
    }


def verdicts(figures: dict[str, object]) -> dict[str, bool]:
    lag = figures["lag_p99_ms"]
    growth = figures["rss_growth_%"]
    assert isinstance(lag, float) and isinstance(growth, float)
    return {
        "rows == published": bool(figures["recording_rows_equal_published"]),
        "no seq gaps": figures["recording_gaps"] == 0,
        "memory flat": abs(growth) <= GROWTH_TARGET_PERCENT,
        "loop lag p99 < 100 ms": lag < LAG_TARGET_MS,
    }


def report(figures: dict[str, object], met: dict[str, bool]) -> None:
    f = figures
    print(f"soak: {f['orgs']} organisations, {f['seconds']:g} s, {f['broker']}; "
          f"{f['published']} messages published ({f['published_per_s']:.0f}/s)")
    rows = [
        ("recorded live / published", f"{f['recording_recorded_live']} / {f['published']}",
         "equal, per org", f"bare subscriber got {f['baseline_received']}"),
        ("missing / extra / twice", f"{f['recording_missing']} / {f['recording_extra']} / "
         f"{f['recording_duplicates']}", "0 / 0 / 0", ""),
        ("re-delivered at subscribe", f"{f['recording_redelivered']}", "counted apart", ""),
        ("seq gaps (orgs)", f"{f['recording_gaps']} ({len(f['recording_orgs_with_gaps'])})",  # type: ignore[arg-type]
         "0", ""),
        ("TUI received", f"{f['tui_received']}", "= published",
         f"broker dropped (queue limits) {f['broker_dropped']}"),
        ("loop lag p50 / p99 / max", f"{f['lag_p50_ms']:.1f} / {f['lag_p99_ms']:.1f} / "
         f"{f['lag_max_ms']:.0f} ms", "p99 < 100 ms",
         f"bare subscriber {f['baseline_lag_p50_ms']:.1f} / {f['baseline_lag_p99_ms']:.1f} / "
         f"{f['baseline_lag_max_ms']:.0f} ms"),
        ("TUI RSS 2nd / last third", f"{f['rss_second_third_mb']:.1f} / "
         f"{f['rss_last_third_mb']:.1f} MB ({f['rss_growth_%']:+.1f} %)", "within 5 %",
         f"at start {f['rss_start_mb']:.1f} MB"),
        ("TUI RSS slope", f"{f['rss_slope_mb_per_min']:+.3f} MB/min", "~0", ""),
        ("recorder RSS 2nd / last third", f"{f['recorder_rss_second_third_mb']:.1f} / "
         f"{f['recorder_rss_last_third_mb']:.1f} MB ({f['recorder_rss_growth_%']:+.1f} %), "
         f"{f['recorder_rss_slope_mb_per_min']:+.3f} MB/min", "",
         f"at start {f['recorder_rss_start_mb']:.1f} MB"),
        ("redraws / s, monitor queue max", f"{f['redraws_per_s']:.2f}, "
         f"{f['monitor_queue_max']}", "", ""),
    ]
    for name, value, target, baseline in rows:
        print(f"  {name:32} {value:34} {target:16} {baseline}")
    print("targets: " + "; ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in met.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--broker", choices=("mosquitto", "nats"), default="mosquitto")
    parser.add_argument("--processes", type=int, default=4, help="agent processes")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--keep", type=Path, help="keep the recording and results in this "
                        "directory (default: a temporary one, removed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        broker = start_broker(args.broker, port, workdir)
        try:
            recorder = start_recorder(port, workdir / "soak.sqlite")
            try:
                topology = write_topology(workdir, args.orgs)
                figures = asyncio.run(soak(args, port, topology, recorder, workdir))
            finally:
                stop(recorder)
        finally:
            stop(broker, timeout=10)
    met = verdicts(figures)
    report(figures, met)
    if args.json:
        args.json.write_text(json.dumps({**figures, "targets": met}, indent=1))
    sys.exit(0 if all(met.values()) else 1)


if __name__ == "__main__":
    main()

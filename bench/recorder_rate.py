"""Recorder throughput: sustained insert rate against plain sqlite3, and intake from a broker.

In one run:
  - baseline: the same rows inserted with `sqlite3.executemany`, 1 000 per transaction, WAL;
  - the Recorder: `record()` for every row, then close (its writer batches and commits);
  - intake: a paho process publishes at QoS 0 to Mosquitto as fast as it can; the monitor
    with the recorder tap takes it in (decode, check, record), next to a bare aiomqtt
    subscriber's ceiling measured in the same run.
Target (issue 5): the Recorder at least 0.5x plain executemany.

Run: .venv/bin/python bench/recorder_rate.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
from engine_throughput import PUBLISHER, ceiling_rate, payloads

from broker.embedded import free_port
from chain.inbox import MonitorSink, deliver
from chain.topics import Topics
from ketenwacht.record import RecorderSink
from recording.recorder import Recorder
from recording.schema import SCHEMA


def baseline(path: Path, rows: list[tuple[float, str, bytes, int, int, None]]) -> float:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    started = time.perf_counter()
    for i in range(0, len(rows), 1000):
        db.executemany(
            "INSERT INTO messages (received_at, topic, payload, qos, retain, problem) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows[i:i + 1000],
        )
        db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    return len(rows) / elapsed


async def writer(path: Path, rows: list[tuple[float, str, bytes, int, int, None]]) -> float:
    """The writer alone: all rows queued first, then timed until the last is committed
    (1 000 per transaction, as the baseline)."""
    async with Recorder(path) as rec:
        for at, topic, payload, qos, retain, _ in rows:
            rec.record(at, topic, payload, qos, bool(retain))
        started = time.perf_counter()
        await asyncio.sleep(0)
        while rec.written < len(rows):  # noqa: ASYNC110 (polling the writer's progress)
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


async def recorder(path: Path, rows: list[tuple[float, str, bytes, int, int, None]]) -> float:
    """Producer and writer together: from the first record() until all rows are committed
    (the database is opened before and closed after, as the baseline's is)."""
    async with Recorder(path) as rec:
        started = time.perf_counter()
        for at, topic, payload, qos, retain, _ in rows:
            rec.record(at, topic, payload, qos, bool(retain))
            if rec.pending >= 5000:  # let the writer run, as live traffic would
                await asyncio.sleep(0)
        while rec.written < len(rows):  # noqa: ASYNC110 (polling the writer's progress)
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


async def intake(port: int, path: Path, sample: list[tuple[str, bytes]], total: int) -> float:
    """Messages per second the monitor + recorder take from the broker."""
    topics = Topics()
    counts = RecorderSink()
    sink: MonitorSink = counts
    received = 0
    first = last = 0.0
    async with Recorder(path) as rec, aiomqtt.Client("127.0.0.1", port, identifier="rec") as c:
        await c.subscribe("keten/v1/#", qos=0)
        lines = "\n".join(f"{t} {p.decode()}" for t, p in sample)
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PUBLISHER, str(port), str(total), stdin=asyncio.subprocess.PIPE,
        )
        assert publisher.stdin is not None
        publisher.stdin.write(lines.encode())
        publisher.stdin.close()

        async def take() -> None:
            nonlocal received, first, last
            async for message in c.messages:
                now = time.time()
                assert isinstance(message.payload, bytes)
                problem = deliver(topics, sink, message.topic.value, message.payload,
                                  message.retain, now)
                rec.record(now, message.topic.value, message.payload, message.qos,
                           message.retain, problem)
                received += 1
                last = time.perf_counter()
                if received == 1:
                    first = last
                if received >= total:
                    return

        try:
            await asyncio.wait_for(take(), timeout=120)
        except TimeoutError:
            print(f"  (intake received {received} of {total})")
        await publisher.wait()
    return (received - 1) / (last - first) if last > first else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sample = payloads(200)
    rows = [(1.7e9 + i * 0.001, t, p, 1, 0, None)
            for i, (t, p) in enumerate(sample * (args.rows // len(sample) + 1))][: args.rows]
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    plain, ours, alone, taken, ceiling = [], [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        port = free_port()
        (work / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                                     "log_dest none\nmax_queued_messages 0\n")
        broker = subprocess.Popen([mosquitto, "-c", str(work / "m.conf")])
        time.sleep(0.5)
        try:
            for run in range(args.repeat):
                plain.append(baseline(work / f"plain{run}.sqlite", rows))
                ours.append(asyncio.run(recorder(work / f"ours{run}.sqlite", rows)))
                alone.append(asyncio.run(writer(work / f"alone{run}.sqlite", rows)))
                ceiling.append(asyncio.run(ceiling_rate(port, sample, args.rows // 2)))
                taken.append(asyncio.run(
                    intake(port, work / f"intake{run}.sqlite", sample, args.rows // 2)))
        finally:
            broker.terminate()
            broker.wait()
    p, o, w = statistics.median(plain), statistics.median(ours), statistics.median(alone)
    c, t = statistics.median(ceiling), statistics.median(taken)
    print(f"recorder, {args.rows} rows x {args.repeat} runs (medians)")
    print(f"  sqlite3 executemany (baseline): {p:10,.0f} rows/s   {[round(x) for x in plain]}")
    print(f"  Recorder writer, rows queued:   {w:10,.0f} rows/s   {[round(x) for x in alone]}")
    print(f"    ratio {w / p:.2f}x (target >= 0.5x: {'met' if w / p >= 0.5 else 'MISSED'})")
    print(f"  Recorder, producing meanwhile:  {o:10,.0f} rows/s   {[round(x) for x in ours]}")
    print(f"    ratio {o / p:.2f}x")
    print(f"  from the broker: monitor + recorder {t:,.0f} msg/s; bare aiomqtt ceiling "
          f"{c:,.0f} msg/s ({t / c:.2f}x)")


if __name__ == "__main__":
    main()

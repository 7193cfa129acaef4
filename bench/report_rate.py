"""After-action report over a large recording, against just reading its rows.

Builds a recording of the 17 organisations of seeds/chain.toml at a live-like rate (a
heartbeat and every counter and backlog every 5 s, channels every minute; an agent dying
and restarting every 2 hours, a channel down every 3 hours, an annotation every hour, a
rejected payload every 10 minutes), then measures in the same run:

  - the baseline: a `SELECT` loop over the same columns, doing nothing with the rows;
  - the Markdown report: fold every row into the engine, build the model, render;
  - the HTML report: the same with a chart per backlog (when matplotlib is installed);
  - the JSON report: the same with every subject's state timeline, as JSON.

With --recording FILE it measures that recording instead of building one (e.g. the 2025
exercise recorded by bench/exercise_recording.py).

Target (issue 5): a report over a million rows in seconds, not minutes.

Run: .venv/bin/python bench/report_rate.py [--rows 1000000] [--repeat 3] [--recording FILE]
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypedDict

from chain.topics import Topics
from chain.topology import Topology
from chain.wire import (
    Annotation,
    BacklogGauge,
    ChannelReading,
    FlowCounter,
    Heartbeat,
    Message,
    Status,
    encode,
)
from ketenwacht.startup import load_topology
from recording.schema import SCHEMA
from report import markdown
from report.fold import fold_recording

T0 = 1_752_742_800.0
TICK = 5.0
Row = tuple[float, str, bytes, int, int, str | None]


class Envelope(TypedDict):
    org: str
    session: int
    seq: int
    ts: datetime


class Agents:
    """Session and seq of every organisation, so each message carries the right envelope."""

    def __init__(self, topology: Topology) -> None:
        self.topics = Topics()
        self.session = dict.fromkeys(topology.org_ids, 1)
        self.seq = dict.fromkeys(topology.org_ids, 0)

    def next(self, org: str, at: float) -> Envelope:
        self.seq[org] += 1
        return {"org": org, "session": self.session[org], "seq": self.seq[org],
                "ts": datetime.fromtimestamp(at, UTC)}

    def row(self, at: float, message: Message, *, retain: bool = False) -> Row:
        return at, self.topics.of(message), encode(message), 1, int(retain), None


def traffic(topology: Topology, rows: int) -> Iterator[Row]:
    """Rows as a recorder would have stored them, in arrival order."""
    agents = Agents(topology)
    rng = random.Random(5)
    counts = {(link.id, end): 0 for link in topology.links for end in ("sent", "received")}
    items = {(b.org, b.id): b.typical for b in topology.backlogs}
    for org in topology.org_ids:
        birth = Status(**agents.next(org, T0), state="online", interval=TICK)
        yield agents.row(T0, birth, retain=True)
    emitted, tick = 0, 0
    while emitted < rows:
        tick += 1
        at = T0 + tick * TICK
        batch = list(_tick(topology, agents, rng, counts, items, tick, at))
        emitted += len(batch)
        yield from batch


def _tick(topology: Topology, agents: Agents, rng: random.Random,
          counts: dict[tuple[str, str], int], items: dict[tuple[str, str], int],
          tick: int, at: float) -> Iterator[Row]:
    ts = datetime.fromtimestamp(at, UTC)
    dead = topology.org_ids[(tick // 1440) % len(topology.org_ids)]
    down = tick % 1440 < 120  # every 2 h, one organisation is gone for 10 minutes
    if tick % 1440 == 0:
        yield agents.row(at, Status(org=dead, session=agents.session[dead], seq=0, ts=ts,
                                    state="offline", cause="lost"))
    if tick % 1440 == 120:
        agents.session[dead] += 1
        yield agents.row(at, Status(**agents.next(dead, at), state="online",
                                    interval=TICK))
    alive = [org for org in topology.org_ids if not (down and org == dead)]
    for org in alive:
        yield agents.row(at, Heartbeat(**agents.next(org, at), interval=TICK))
        if tick % 12 == 0:
            up = not (org == "cjib" and tick % 2160 < 180)  # 15 minutes down every 3 h
            yield agents.row(at, ChannelReading(**agents.next(org, at),
                                                channel="email", up=up))
    for link in topology.links:
        moved = rng.random() < link.per_hour * TICK / 3600
        for end, org in (("sent", link.sender), ("received", link.receiver)):
            if org in alive:
                counts[(link.id, end)] += moved
                yield agents.row(at, FlowCounter(
                    **agents.next(org, at), link=link.id,
                    direction="sent" if end == "sent" else "received",
                    count=counts[(link.id, end)]))
    for (org, process), value in items.items():
        if org in alive:
            items[(org, process)] = max(0, value + rng.randint(-3, 3))
            yield agents.row(at, BacklogGauge(**agents.next(org, at),
                                              process=process, items=items[(org, process)]))
    if tick % 720 == 0:
        note = Annotation(id=f"a{tick}", author="duty officer", ts=ts, text=f"check {tick}")
        yield at, agents.topics.op(note), encode(note), 1, 0, None
    if tick % 120 == 0:
        yield at, "keten/v1/om/heartbeat", b"{garbage", 0, 0, "JSON is malformed"


def make_recording(path: Path, topology: Topology, rows: int) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    batch: list[Row] = []
    for row in traffic(topology, rows):
        batch.append(row)
        if len(batch) == 10_000:
            db.executemany("INSERT INTO messages (received_at, topic, payload, qos, retain, "
                           "problem) VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    db.executemany("INSERT INTO messages (received_at, topic, payload, qos, retain, problem) "
                   "VALUES (?, ?, ?, ?, ?, ?)", batch)
    db.commit()
    db.close()


def read_rows(path: Path) -> int:
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    count = 0
    for _ in db.execute("SELECT received_at, topic, payload, retain FROM messages ORDER BY id"):
        count += 1
    db.close()
    return count


def markdown_report(path: Path, topology: Topology) -> int:
    report = fold_recording(path, topology)
    markdown.render(report)
    return report.facts.messages


def html_report(path: Path, topology: Topology) -> int:
    from report import charts, html

    report = fold_recording(path, topology)
    chart = partial(charts.backlog_svg, start=report.facts.first_at, end=report.facts.last_at,
                    gaps=report.facts.gaps)
    html.render(report, chart)
    return report.facts.messages


def json_report(path: Path, topology: Topology) -> int:
    from report import json

    report = fold_recording(path, topology)
    json.render(report)
    return report.facts.messages


def rate(work: Callable[[], int]) -> float:
    started = time.perf_counter()
    rows = work()
    return rows / (time.perf_counter() - started)


def measure(path: Path, topology: Topology, repeat: int, *,
            with_html: bool) -> dict[str, list[float]]:
    """Rows/s of the SELECT loop and of each report, `repeat` times, interleaved."""
    runs: dict[str, list[float]] = {"select": [], "md": [], "json": [], "html": []}
    for _ in range(repeat):
        runs["select"].append(rate(partial(read_rows, path)))
        runs["md"].append(rate(partial(markdown_report, path, topology)))
        runs["json"].append(rate(partial(json_report, path, topology)))
        if with_html:
            runs["html"].append(rate(partial(html_report, path, topology)))
    return runs


def print_rates(runs: dict[str, list[float]], rows: int) -> None:
    """Each report's median next to the SELECT loop's."""
    base = statistics.median(runs["select"])
    print(f"  SELECT loop (baseline):  {base:12,.0f}   {[round(x) for x in runs['select']]}")
    for name, label in (("md", "Markdown report:"), ("json", "JSON report:"),
                        ("html", "HTML report:")):
        if runs[name]:
            median = statistics.median(runs[name])
            print(f"  {label:24} {median:12,.0f}   {[round(x) for x in runs[name]]}   "
                  f"{median / base:.3f}x the baseline, {rows / median:.2f} s for the recording")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--recording", type=Path, help="measure this recording instead")
    args = parser.parse_args()
    topology = load_topology(None)
    try:
        import matplotlib  # noqa: F401
        with_html = True
    except ImportError:
        with_html = False
    with tempfile.TemporaryDirectory() as scratch:
        path = args.recording or Path(scratch) / "recording.sqlite"
        started = time.perf_counter()
        if args.recording is None:
            make_recording(path, topology, args.rows)
        rows = read_rows(path)
        with sqlite3.connect(path) as db:
            first, last = db.execute(
                "SELECT MIN(received_at), MAX(received_at) FROM messages").fetchone()
        print(f"recording: {rows:,} rows over {(last - first) / 3600:.1f} h of traffic, "
              f"{path.stat().st_size / 1e6:.0f} MB, made in {time.perf_counter() - started:.0f} s")
        runs = measure(path, topology, args.repeat, with_html=with_html)
    print(f"medians of {args.repeat} runs, rows/s:")
    print_rates(runs, rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()

"""Replay of a long recording: indexing, seeking anywhere, and playing as fast as possible.

The recording is the whole simulated chain (17 organisations, a heartbeat and every reading
each 5 s, as the agents publish by default), made directly in SQLite (agents/synthetic.py)
and kept at --cache so later runs skip it. In one run:
  - index: one pass making the checkpoints (once per recording);
  - seek: --seeks random moments, each restored from a checkpoint and played up to; next to
    the baseline of reading the rows a seek has to read, with plain sqlite3;
  - flat out: --sample messages played into the engine from a random moment, next to the
    baseline of plain sqlite3 reading the same rows.
Targets (issue 5): seek under 1 s; flat out at least 20 000 messages/s into the engine.

Run: .venv/bin/python bench/replay_rate.py [--weeks 8] [--cache /var/tmp/chain-8w.sqlite]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from itertools import islice
from pathlib import Path

from agents.synthetic import chain_rows
from chain.engine import ChainEngine
from chain.topics import Topics
from ketenwacht.startup import load_topology
from playback.indexer import build_index, index_needed
from playback.player import Player
from recording.checkpoints import EVERY, CheckpointStore
from recording.reader import Recording
from recording.schema import SCHEMA

START = 1_752_710_400.0  # 17 Jul 2025 00:00 UTC


def make_recording(path: Path, weeks: float) -> None:
    topology = load_topology(None)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(SCHEMA)
    rows = chain_rows(topology, start=START, seconds=weeks * 7 * 86_400)
    started, written = time.perf_counter(), 0
    while batch := list(islice(rows, 200_000)):
        db.executemany("INSERT INTO messages (received_at, topic, payload, qos, retain, problem)"
                       " VALUES (?, ?, ?, ?, ?, ?)", batch)
        db.commit()
        written += len(batch)
        print(f"\rgenerated {written:,} rows ({time.perf_counter() - started:.0f} s)", end="",
              flush=True)
    db.close()
    print()


def raw_read(path: Path, after_id: int, count: int) -> float:
    """Seconds for plain sqlite3 to read `count` rows after `after_id`."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    started = time.perf_counter()
    for _ in db.execute("SELECT id, received_at, topic, payload, retain FROM messages "
                        "WHERE id > ? ORDER BY id LIMIT ?", (after_id, count)):
        pass
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=float, default=8.0)
    parser.add_argument("--cache", type=Path, default=Path("/var/tmp/ketenwacht-chain.sqlite"))
    parser.add_argument("--seeks", type=int, default=20)
    parser.add_argument("--sample", type=int, default=2_000_000)
    args = parser.parse_args()
    if not args.cache.exists():
        make_recording(args.cache, args.weeks)
    topology = load_topology(None)
    recording = Recording(args.cache)
    span = recording.span
    messages = span.last_id - span.first_id + 1
    days = (span.last_at - span.first_at) / 86_400
    size = args.cache.stat().st_size / 2**30
    print(f"recording: {messages:,} messages over {days:.1f} days, {size:.1f} GiB")

    store = CheckpointStore(args.cache, recording.identity, topology)
    if index_needed(recording, store):
        started = time.perf_counter()
        played = build_index(recording, topology, Topics())
        elapsed = time.perf_counter() - started
        print(f"index: {played:,} messages in {elapsed:.0f} s = {played / elapsed:,.0f} msg/s")
    store = CheckpointStore(args.cache, recording.identity, topology)
    checkpoints = (store.path.stat().st_size / 2**20) if store.path.exists() else 0.0
    print(f"checkpoints: every {EVERY:.0f} s of recording, {checkpoints:.0f} MiB")

    rng = random.Random(5)
    seeks, baselines = [], []
    player = Player(recording, ChainEngine(topology), Topics(), store=store)
    for _ in range(args.seeks):
        at = rng.uniform(span.first_at, span.last_at)
        before = player.applied
        started = time.perf_counter()
        player.seek(at)
        seeks.append(time.perf_counter() - started)
        rows = player.applied - before
        baselines.append(raw_read(args.cache, rng.randrange(span.first_id, span.last_id), rows))
    print(f"seek: median {statistics.median(seeks):.3f} s, max {max(seeks):.3f} s "
          f"(target < 1 s); plain sqlite3 reading the same number of rows: median "
          f"{statistics.median(baselines):.3f} s")

    at = rng.uniform(span.first_at, span.last_at - 3 * 86_400)
    player.seek(at)
    before, started = player.applied, time.perf_counter()
    while player.applied - before < args.sample and player.advance(span.last_at, limit=50_000):
        pass
    played = player.applied - before
    rate = played / (time.perf_counter() - started)
    baseline = played / raw_read(args.cache, player._after_id - played, played)
    print(f"flat out: {rate:,.0f} msg/s into the engine (target >= 20 000); plain sqlite3 "
          f"reading the same rows: {baseline:,.0f} rows/s ({rate / baseline:.2f}x)")


if __name__ == "__main__":
    main()

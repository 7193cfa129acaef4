"""A checkpoint's cost: freezing and thawing the engine as typed msgpack, next to pickling
the same engine (what checkpoints were before issue 16) in the same run.

The engine is the whole simulated chain after --hours of traffic at the agents' default
intervals (agents/synthetic.py), folded as a replay folds it.

Run: PYTHONPATH=.:bench .venv/bin/python bench/checkpoint_codec.py [--hours 24] [--repeat 20]
"""

from __future__ import annotations

import argparse
import pickle
import sqlite3
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from agents.synthetic import chain_rows
from chain.engine import ChainEngine
from chain.topics import Topics
from ketenwacht.startup import load_topology
from playback.player import Player
from recording.checkpoints import freeze, thaw
from recording.reader import Recording
from recording.schema import SCHEMA

START = 1_752_710_400.0  # 17 Jul 2025 00:00 UTC


def played_engine(hours: float, directory: Path) -> ChainEngine:
    topology = load_topology(None)
    path = directory / "chain.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO messages (received_at, topic, payload, qos, retain, problem) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            chain_rows(topology, start=START, seconds=hours * 3600),
        )
    with Recording(path) as recording:
        player = Player(recording, ChainEngine(topology), Topics())
        player.advance(recording.span.last_at)
        return player.engine


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = played_engine(args.hours, Path(directory))
    topology = engine.topology
    frozen = freeze(engine)
    pickled = zlib.compress(pickle.dumps(engine, protocol=pickle.HIGHEST_PROTOCOL), 1)
    rows = [
        ("msgpack snapshot", median_ms(lambda: freeze(engine), args.repeat),
         median_ms(lambda: thaw(frozen, topology), args.repeat), len(frozen)),
        ("pickle (baseline)",
         median_ms(lambda: zlib.compress(pickle.dumps(engine, pickle.HIGHEST_PROTOCOL), 1),
                   args.repeat),
         median_ms(lambda: pickle.loads(zlib.decompress(pickled)), args.repeat), len(pickled)),
    ]
    print(f"engine after {args.hours:g} h of the simulated chain, "
          f"{len(engine.log.entries):,} log entries; medians of {args.repeat}")
    print(f"{'codec':<20} {'freeze ms':>10} {'thaw ms':>10} {'KiB':>8}")
    for name, freeze_ms, thaw_ms, size in rows:
        print(f"{name:<20} {freeze_ms:>10.2f} {thaw_ms:>10.2f} {size / 1024:>8.0f}")
    base = rows[1]
    print(f"ratio to pickle: freeze {rows[0][1] / base[1]:.2f}x, thaw {rows[0][2] / base[2]:.2f}x,"
          f" size {rows[0][3] / base[3]:.2f}x")


if __name__ == "__main__":
    main()

"""The 2025 scenario recorded as fast as an exercise goes (a day a second), then its
after-action report in every format, next to a plain SELECT loop over the same rows.

As `ketenwacht exercise SCENARIO --headless --record FILE` runs it: the embedded NATS
broker, the exercise's driver, and the recorder on the exercise's clock (subscribed before
day 0 begins). Measures, in one run:

  - the pace: exercise days per wall second, and rows recorded per second;
  - the report: Markdown, JSON and HTML (when matplotlib is installed) in rows/s, each
    next to the SELECT loop's, medians of --repeat runs.

Run: PYTHONPATH=.:bench .venv/bin/python bench/exercise_recording.py [--repeat 3] [--keep FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from report_rate import measure, print_rates

from agents.exercise import Exercise
from agents.scripted import ScriptedChain
from broker.embedded import EmbeddedBroker
from chain.topics import Topics, exercise_root
from ketenwacht.exercise import load_scenario
from ketenwacht.record import ExerciseDating, RecorderSink
from ketenwacht.startup import load_topology
from mqtt.monitor import Monitor
from recording.recorder import Recorder

SCENARIO = Path(__file__).parents[1] / "seeds" / "scenarios" / "om-offline-2025.toml"
FLAT_OUT = 86_400.0
"""The fastest an exercise goes: a day a second."""


async def record(path: Path, scratch: Path) -> tuple[float, float, int]:
    """Record the whole scenario; (exercise days, wall seconds, rows)."""
    topology = load_topology(None)
    scenario = load_scenario(SCENARIO, topology)
    topics = Topics(exercise_root(scenario.scenario.name))
    chain = ScriptedChain(topology, scenario)
    async with EmbeddedBroker(store=scratch / "store") as broker, Recorder(path) as recorder:
        exercise = Exercise(chain, broker.address, topics, scale=FLAT_OUT)
        monitor = Monitor(broker.address, topics, clock=exercise.now)
        recording = asyncio.create_task(monitor.run(
            RecorderSink(), record=ExerciseDating(exercise.now, recorder.record)))
        for _ in range(200):
            if monitor.subscribed:
                break
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        exercise.clock.seek(chain.start, time.time())
        driving = asyncio.create_task(exercise.run())
        await asyncio.sleep((chain.end - exercise.now()) / FLAT_OUT + 1.0)
        wall = time.perf_counter() - started
        driving.cancel()
        recording.cancel()
        await asyncio.gather(driving, recording, return_exceptions=True)
        written = recorder.written
    return (min(exercise.now(), chain.end) - chain.start) / 86_400, wall, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the recording here")
    args = parser.parse_args()
    topology = load_topology(None)
    try:
        import matplotlib  # noqa: F401
        with_html = True
    except ImportError:
        with_html = False
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "exercise.sqlite"
        days, wall, written = asyncio.run(record(path, Path(scratch)))
        print(f"recorded: {days:.1f} exercise days in {wall:.1f} s of wall time = "
              f"{days / wall:.2f} days/s; {written:,} rows ({written / wall:,.0f} rows/s)")
        runs = measure(path, topology, args.repeat, with_html=with_html)
    print(f"report on it, medians of {args.repeat} runs, rows/s:")
    print_rates(runs, written)


if __name__ == "__main__":
    main()

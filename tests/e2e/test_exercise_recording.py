"""Every exercise is recorded, headless or on screen, and a recording of an exercise root is
dated by the exercise's clock whoever made it: the leader, or `ketenwacht record`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from agents.exercise import Exercise
from agents.scripted import ScriptedChain
from chain.engine import ChainEngine
from chain.topics import Topics, exercise_root
from chain.views import OrgState
from chain.wire import ExerciseClock, Status
from ketenwacht.exercise import load_scenario
from ketenwacht.record import ExerciseDating, run_recorder
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from playback.following import ExerciseFollower, FollowingSink
from recording.reader import Recording
from tests.agents.test_exercise import SCENARIO
from tests.conftest import until

JULY_2025 = datetime(2025, 7, 16, 22, tzinfo=UTC).timestamp()
"""Day 0 of the 2025 scenario: midnight of 17 July in Amsterdam."""
OCTOBER_2025 = datetime(2025, 10, 1, tzinfo=UTC).timestamp()


def in_the_exercise(path: Path) -> tuple[float, float, int]:
    with Recording(path) as recording:
        span = recording.span
        rows = sum(1 for _ in recording.rows())
    return span.first_at, span.last_at, rows


async def test_a_recorder_of_an_exercise_root_dates_by_the_exercise_clock(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """`ketenwacht record` on an exercise's root, the exercise at a day a second: the
    recording spans days of July 2025, not the seconds of today it took."""
    topology = load_topology(None)
    scenario = load_scenario(SCENARIO, topology)
    topics = Topics(exercise_root(scenario.scenario.name))
    path = tmp_path / "exercise.sqlite"
    recording = asyncio.create_task(run_recorder((any_broker,), topics, path, keep_days=None,
                                                 session="test-exercise-recorder"))
    await until(path.exists, within=10)
    exercise = Exercise(ScriptedChain(topology, scenario), any_broker, topics, scale=86_400)
    driving = asyncio.create_task(exercise.run())
    await asyncio.sleep(4.0)
    driving.cancel()
    await asyncio.gather(driving, return_exceptions=True)
    await asyncio.sleep(0.5)
    recording.cancel()
    await asyncio.gather(recording, return_exceptions=True)
    first, last, rows = in_the_exercise(path)
    assert rows > 100
    assert JULY_2025 <= first < last < OCTOBER_2025, (first, last)
    assert last - first > 86_400  # days of the exercise, not the seconds it took


def test_rows_before_the_clock_is_heard_wait_for_it() -> None:
    """What arrives before the exercise clock waits, and is dated at its first moment."""
    follower = ExerciseFollower("oefening", wall=lambda: 1_800_000_000.0)
    written: list[tuple[float, str]] = []
    tap = ExerciseDating.following(follower,
                                   lambda at, topic, *_: written.append((at, topic)))
    tap(1_800_000_000.0, "early", b"x", 1, True, None)
    assert written == []
    moment = datetime.fromtimestamp(JULY_2025, UTC)
    follower.heard(ExerciseClock(name="oefening", at=moment, speed=1.0, day_zero=moment))
    tap(1_800_000_000.0, "late", b"y", 1, False, None)
    assert written == [(JULY_2025, "early"), (JULY_2025, "late")]


async def test_a_headless_exercise_records(tmp_path: Path) -> None:
    """`ketenwacht exercise SCENARIO --headless --record FILE` (embedded broker) writes the
    file, dated by the exercise's clock, and says where."""
    path = tmp_path / "headless.sqlite"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "exercise", str(SCENARIO), "--headless",
        "--record", str(path), "--scale", "86400", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert f"recorded in {path}" in line.decode()
        await asyncio.sleep(4.0)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-500:]
    first, last, rows = in_the_exercise(path)
    assert rows > 100
    assert JULY_2025 <= first < last < OCTOBER_2025, (first, last)


def test_a_players_screen_dates_even_its_connection_by_the_exercise_clock() -> None:
    """Connected before the clock is heard (at the wall clock's 2027), a retained online
    status found on subscribing: both wait for the clock and take its first moment (17 Jul
    2025), so om, silent after it, falls STALE in exercise time three intervals later."""
    wall = 1_800_000_000.0
    follower = ExerciseFollower("oefening", wall=lambda: wall)
    engine = ChainEngine(load_topology(None))
    sink = FollowingSink(engine, follower)
    sink.connection_changed(True, wall)
    online = Status(org="om", session=1, seq=1, ts=datetime.fromtimestamp(JULY_2025, UTC),
                    state="online", interval=60.0)
    sink.message_received(online, received_at=wall, retained=True)
    moment = datetime.fromtimestamp(JULY_2025, UTC)
    sink.control_received(ExerciseClock(name="oefening", at=moment, speed=1.0,
                                        day_zero=moment), received_at=wall)
    view = engine.view(JULY_2025 + 10)
    assert view.monitor_since == JULY_2025
    assert view.org("om").state is OrgState.ONLINE
    assert engine.view(JULY_2025 + 4 * 60).org("om").state is OrgState.STALE

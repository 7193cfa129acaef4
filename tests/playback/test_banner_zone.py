"""A replay's and an exercise's banner show their moment in the topology's zone, as every
other time on the screen does, whatever the machine's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chain.engine import ChainEngine
from chain.topics import Topics
from chain.wire import ExerciseClock
from ketenwacht.startup import load_topology
from playback.following import ExerciseFollower
from playback.player import Player
from playback.replay import Replay
from recording.reader import Recording
from tests.playback.test_replay import synthetic_recording

START = datetime(2025, 7, 17, 9, 0, tzinfo=UTC)
"""09:00 UTC: 11:00 in Amsterdam, 05:00 in New York."""



@pytest.mark.usefixtures("new_york")
def test_a_replays_banner_is_in_the_topologys_zone(tmp_path: Path) -> None:
    """The first moment of a recording made from 09:00 UTC reads 11:00:00, on day 0."""
    path = synthetic_recording(tmp_path / "chain.sqlite", load_topology(None), 1)
    with Recording(path) as recording:
        replay = Replay(Player(recording, ChainEngine(load_topology(None)), Topics()),
                        speed=60.0, name="chain.sqlite")
        said = replay.describe()
    assert "Thu 17 Jul 2025 11:00:00" in said and "day 0" in said, said


@pytest.mark.usefixtures("new_york")
def test_a_players_banner_is_in_the_topologys_zone() -> None:
    """A player's screen follows the exercise clock at 09:00 UTC: its banner reads 11:00."""
    follower = ExerciseFollower("drill", wall=lambda: 1_800_000_000.0,
                                zone=load_topology(None).timezone)
    follower.heard(ExerciseClock(name="drill", at=START, speed=1.0, paused=True,
                                 day_zero=START))
    assert "Thu 17 Jul 2025 11:00" in follower.describe(), follower.describe()

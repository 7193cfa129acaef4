"""The 2025 scenario played flat out (a day a second) through a real broker and the
recorder, then read back with `report --format json`: at the key dates the report says
what the sources say. Which dates, from which document ([[source]] ids of the scenario):

- 18 Jul, OM dark: connections cut, no external email ("4");
- 22 Jul, OM reachable by phone only in part ("3"), known by the room's own report;
- 7 Aug, external email back ("1", S0);
- 12 Aug, the emergency police feed running (S0, S3);
- first days of September, messages to JDS moving again (S4);
- 25 Sep, all links restored, backlogs remaining ("8").
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from agents.exercise import Exercise
from agents.scripted import ScriptedChain
from chain.topics import Topics, exercise_root
from ketenwacht.cli import main
from ketenwacht.exercise import load_scenario
from ketenwacht.record import ExerciseDating, RecorderSink
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from recording.recorder import Recorder
from report.json import Document
from tests.agents.test_exercise import SCENARIO
from tests.conftest import until

pytestmark = pytest.mark.xdist_group("heavy")
"""On one worker, one after another with the other heavy tests: it runs 72 s flat out."""

ZONE = ZoneInfo("Europe/Amsterdam")


def noon(day: int, month: int) -> float:
    return datetime(2025, month, day, 12, tzinfo=ZONE).timestamp()


def state_at(document: Document, kind: str, subject: str, at: float) -> str:
    found = next(s for s in document.subjects if (s.kind, s.id) == (kind, subject))
    shown = [c.state for c in found.states if c.at.timestamp() <= at]
    return shown[-1] if shown else "none"


def channel_at(document: Document, org: str, channel: str, at: float) -> tuple[bool, str]:
    changes = [c for c in document.channels if (c.org, c.channel) == (org, channel)
               and c.at.timestamp() <= at]
    return (changes[-1].up, changes[-1].detail) if changes else (True, "")


@pytest.mark.timeout(240)
async def test_the_recorded_exercise_agrees_with_the_sources_at_the_key_dates(
    nats: BrokerAddress, tmp_path: Path
) -> None:
    topology = load_topology(None)
    scenario = load_scenario(SCENARIO, topology)
    topics = Topics(exercise_root(scenario.scenario.name))
    chain = ScriptedChain(topology, scenario)
    path = tmp_path / "exercise.sqlite"
    async with Recorder(path) as recorder:
        exercise = Exercise(chain, nats, topics, scale=86_400)
        # As `ketenwacht exercise --headless --record` records it: subscribed first, then
        # day 0 begins.
        monitor = Monitor(nats, topics, clock=exercise.now)
        recording = asyncio.create_task(monitor.run(
            RecorderSink(), record=ExerciseDating(exercise.now, recorder.record)))
        await until(lambda: monitor.subscribed, within=10)
        exercise.clock.seek(chain.start, time.time())
        driving = asyncio.create_task(exercise.run())
        await asyncio.sleep((chain.end - exercise.now()) / 86_400 + 1.5)
        driving.cancel()
        await asyncio.gather(driving, return_exceptions=True)
        recording.cancel()
        await asyncio.gather(recording, return_exceptions=True)
    out = tmp_path / "exercise.json"
    assert main(["report", str(path), "--format", "json", "--out", str(out)]) == 0
    document = msgspec.json.decode(out.read_bytes(), type=Document)

    assert document.recording.root == topics.root
    assert state_at(document, "org", "om", noon(17, 7)) == "online"
    # "4": dark on 18 Jul. At a day a second the heartbeat interval is a day, so the Will
    # shows STALE until three intervals have passed; OFFLINE by 22 Jul.
    assert state_at(document, "org", "om", noon(18, 7)) in ("stale", "offline")
    assert state_at(document, "org", "om", noon(22, 7)) == "offline"
    # A round of readings comes once an exercise day, and a loaded machine may let one slip
    # into the next: what happens on a day shows by noon two days on at the latest.
    assert channel_at(document, "om", "phone", noon(20, 7))[0] is True
    up, detail = channel_at(document, "om", "phone", noon(24, 7))  # "3": 22 Jul
    assert not up and detail.startswith("reported by")
    assert channel_at(document, "om", "email", noon(6, 8))[0] is False
    assert channel_at(document, "om", "email", noon(9, 8))[0] is True  # "1", S0: 7 Aug
    assert state_at(document, "link", "politie-justid", noon(17, 7)) == "unknown"
    assert state_at(document, "link", "politie-justid", noon(14, 8)) == "flowing"  # S0, S3
    assert state_at(document, "link", "om-justid", noon(1, 9)) == "stalled"
    assert state_at(document, "link", "om-justid", noon(6, 9)) in ("flowing", "slow")  # S4
    # "8": restored on 25 Sep. At a day a second a reading comes once an exercise day, so
    # the links restored that day have shown it by the recording's end (day 72).
    end = document.recording.last_at.timestamp()
    assert end > noon(26, 9)
    assert {s.id for s in document.subjects if s.kind == "link"
            and state_at(document, "link", s.id, end) != "flowing"} == set()  # "8"
    jds = next(b for b in document.backlogs if b.process == "jds_pending")
    assert jds.points[-1].items > 0  # "8": backlogs remain

"""`ketenwacht report REC --format json`: the versioned machine-readable report, and one fold,
one truth: what it says each subject showed at any moment is what a replay seeked there
shows."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

from chain.engine import ChainEngine
from chain.topics import Topics
from ketenwacht.cli import main
from ketenwacht.startup import load_topology
from playback.player import Player
from recording.reader import Recording
from report.fold import fold_recording
from report.json import VERSION, Document
from tests.report import scenario

MOMENTS = 20
MARGIN = 30.0
"""Seconds kept away from a subject's changes: a time-driven change is seen by the first
evaluation after it (every 10 s of recorded time), the screen a moment later may be ahead."""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("json") / "exercise.sqlite"
    return asyncio.run(scenario.record(path))


@pytest.fixture(scope="module")
def document(recording: Path) -> Document:
    assert main(["report", str(recording), "--format", "json"]) == 0
    return msgspec.json.decode(recording.with_suffix(".json").read_bytes(), type=Document)


def states(document: Document, kind: str, subject: str) -> list[tuple[float, str]]:
    found = next(s for s in document.subjects if (s.kind, s.id) == (kind, subject))
    return [(c.at.timestamp() - scenario.T0, c.state) for c in found.states]


def test_the_document_is_versioned_and_complete(document: Document) -> None:
    """Format and version, the recording's span in its own time, every organisation, link
    and process of the topology, the crisis log and the backlog series."""
    assert (document.format, document.version) == ("ketenwacht-after-action", VERSION)
    assert document.recording.first_at.timestamp() == scenario.T0
    topology = load_topology(None)
    ids = {(s.kind, s.id) for s in document.subjects}
    assert ids >= {("org", org) for org in topology.org_ids}
    assert ids >= {("link", link.id) for link in topology.links}
    assert ids >= {("process", p.id) for p in topology.processes}
    assert any("DEGRADED" in entry.text for entry in document.log)
    jds = next(b for b in document.backlogs if b.process == "jds_pending")
    assert jds.points[0].items == 100 and max(p.items for p in jds.points) >= 800


def test_om_s_timeline_says_what_the_scenario_did(document: Document) -> None:
    """om, minute by minute as the scenario made it: INVALID after its bad payload (0:10),
    DEGRADED while its email is down (0:30-0:50), STALE on its Will at 1:00 and OFFLINE
    three intervals later, back at 2:00 on a new session, UNKNOWN while the recorder was
    away (3:20-3:30)."""
    minutes = [(round(at / scenario.MINUTE), state) for at, state in states(document, "org",
                                                                           "om")]
    assert minutes == [(0, "online"), (10, "invalid"), (17, "online"), (30, "degraded"),
                       (50, "online"), (60, "stale"), (62, "offline"), (120, "online"),
                       (200, "unknown"), (210, "online")]


def test_what_the_report_says_at_any_moment_a_replay_seeked_there_shows(
    recording: Path, document: Document
) -> None:
    """At 20 random moments, every organisation, link and process: the report's state at
    that moment (its latest change before it) is the state of a replay seeked there, unless
    the moment is within MARGIN of one of that subject's changes."""
    rng = random.Random(15)
    topology = load_topology(None)
    compared = 0
    with Recording(recording) as opened:
        span = opened.span
        player = Player(opened, ChainEngine(topology), Topics())
        for moment in sorted(rng.uniform(span.first_at + MARGIN, span.last_at)
                             for _ in range(MOMENTS)):
            player.seek(moment)
            view = player.engine.view(moment)
            shown = {("org", o.id): o.state.value for o in view.orgs}
            shown |= {("link", k.id): k.state.value for k in view.links}
            shown |= {("process", p.id): p.state.value for p in view.processes}
            for subject in document.subjects:
                times = [c.at.timestamp() for c in subject.states]
                if any(abs(moment - t) < MARGIN for t in times):
                    continue
                before = [c for c in subject.states if c.at.timestamp() <= moment]
                assert before, (subject.id, moment)
                said = before[-1].state
                assert shown[(subject.kind, subject.id)] == said, (
                    subject.kind, subject.id, datetime.fromtimestamp(moment), said)
                compared += 1
    assert compared > MOMENTS * 40


def test_the_end_is_the_replays_last_screen_and_no_entry_repeats_a_subject(
    recording: Path, document: Document
) -> None:
    """What the Markdown and HTML reports call "at the end" is what a replay played to the
    last row shows, for every organisation; no log line names a subject twice."""
    topology = load_topology(None)
    report = fold_recording(recording, topology)
    with Recording(recording) as opened:
        player = Player(opened, ChainEngine(topology), Topics())
        player.advance(opened.span.last_at)
        last = player.engine.view(opened.span.last_at)
    assert {t.id: t.end_state for t in report.timelines} == {
        o.id: o.state.value for o in last.orgs}
    assert all(len(set(line.subjects)) == len(line.subjects) for line in document.log)

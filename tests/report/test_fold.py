"""Folding a real recording into the after-action report: what it finds, and bad files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from chain.crisislog import EntryKind
from chain.errors import ConfigError, NoInputError
from chain.topics import Topics, exercise_root
from chain.wire import ExerciseClock, ExerciseInject, encode
from ketenwacht.startup import load_topology
from recording.reader import root_of
from recording.recorder import Recorder
from report.fold import fold_recording
from report.model import AfterActionReport
from tests.chain import factory as f
from tests.report import scenario
from tests.report.scenario import MINUTE, T0

TOPOLOGY = load_topology(None)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AfterActionReport:
    path = tmp_path_factory.mktemp("report") / "exercise.sqlite"
    asyncio.run(scenario.record(path))
    return fold_recording(path, TOPOLOGY)


def minutes(at: float) -> float:
    return (at - T0) / MINUTE


def test_the_crisis_log_has_every_change_and_action_dated(report: AfterActionReport) -> None:
    """State changes at the minute they happened, operator actions with their author, the
    recorder's outage as the monitor disconnected; in time order."""
    lines = [(minutes(line.at), line.kind, line.subjects, line.text, line.author)
             for line in report.log if line.kind is not EntryKind.PROCESS]
    expected = [
        (10, EntryKind.ORG, ("om",), f"INVALID: 1 invalid reading (last: {scenario.MALFORMED})",
         ""),
        (17, EntryKind.ORG, ("om",), "ONLINE", ""),
        (30, EntryKind.ORG, ("om",), "DEGRADED: email down", ""),
        (50, EntryKind.ORG, ("om",), "ONLINE", ""),
        (60, EntryKind.ORG, ("om",),
         "STALE: connection lost (Last Will); OFFLINE unless it returns", ""),
        (60, EntryKind.ORG, ("om",), "OFFLINE: lost", ""),
        (65, EntryKind.ANNOTATION, ("om",), scenario.HOSTILE, "duty officer"),
        (70, EntryKind.ACK, ("org:om",), "acknowledged OFFLINE", "duty officer"),
        (92, EntryKind.ORG, ("justid",), "STALE: no heartbeat for 240s", ""),
        (100, EntryKind.ORG, ("justid",), "ONLINE", ""),
        (120, EntryKind.ORG, ("om",), "ONLINE", ""),
        (150, EntryKind.ISOLATION, ("cjib",), "declared ISOLATED: cut off on purpose",
         "duty officer"),
        (150, EntryKind.ORG, ("cjib",), "ISOLATED: cut off on purpose", ""),
        (169, EntryKind.REPORT, ("cjib",), "phoned the duty desk: phones work", "liaison"),
        (180, EntryKind.ISOLATION, ("cjib",), "isolation lifted: cut off on purpose",
         "duty officer"),
        (180, EntryKind.ORG, ("cjib",), "ONLINE", ""),
        (200, EntryKind.MONITOR, (), "MONITOR DISCONNECTED from the broker", ""),
        (210, EntryKind.MONITOR, (), "monitor connected again", ""),
    ]
    assert [line for line in lines if line[1] is not EntryKind.LINK] == expected
    assert [line[0] for line in lines] == sorted(line[0] for line in lines)
    down = next(line for line in lines if line[1] is EntryKind.LINK)
    assert down[0] == 60 and "om-justid" in down[2] and down[3] == "DOWN: om offline (lost)"


def test_the_recorder_outage_is_not_taken_for_the_chain_going_quiet(
    report: AfterActionReport,
) -> None:
    """Ten minutes without a message, then retained ones again: a gap, not STALE for all."""
    assert [(minutes(lost), minutes(back)) for lost, back in report.facts.gaps] == [(200, 210)]
    assert not [line for line in report.log if line.state == "stale" and line.at > T0 + 150 * 60]


def test_each_organisation_has_its_timeline(report: AfterActionReport) -> None:
    """om: degraded, offline for an hour, back; its email down for 20 minutes; unknown
    while the recorder was away. As the fold's evaluations saw it: what a replay showed."""
    om = next(tl for tl in report.timelines if tl.id == "om")
    assert [(minutes(r.at), r.text, r.lasted and r.lasted / MINUTE) for r in om.rows] == [
        (0, "online", 10),
        # Two bad payloads at 0:10 and 0:11: INVALID for the hold after the last one.
        (10, f"invalid: 1 invalid reading (last: {scenario.MALFORMED})", 7),
        (17, "online", 13),
        (30, "degraded: email down", 20),
        (30, f"email down: {scenario.EMAIL_DOWN}", 20),
        (50, "online", 10),
        (50, "email up", None),
        (60, "offline: lost", 60),
        (120, "online", 80),
        # The recorder away (3:20-3:30): the screen showed every organisation UNKNOWN.
        (200, "unknown: monitor disconnected", 10),
        (210, "online", 30),
    ]
    assert dict(om.time_in) == {"offline": 3600, "degraded": 1200, "invalid": 420,
                                "unknown": 600}
    unchanged = [tl.id for tl in report.timelines if not tl.changed]
    assert "om" not in unchanged and "justis" in unchanged


def test_backlogs_include_what_was_buffered_during_the_outage(
    report: AfterActionReport,
) -> None:
    """jds_pending grows to 900 and drains to 50; the readings om buffered while it was
    offline are placed at their own time, so the growth has no hole."""
    jds = next(b for b in report.backlogs if b.process == "jds_pending")
    assert (jds.first.items, jds.highest.items, jds.last.items) == (100, 900, 50)
    assert minutes(jds.highest.at) == 120 and minutes(jds.last.at) == 240
    assert {minutes(p.at) for p in jds.points} >= {65, 90, 115}
    assert [b.process for b in report.backlogs] == ["execution_orders", "jds_pending"]


def test_header_facts(report: AfterActionReport) -> None:
    """Span, counts, rejected payloads with their reasons, the root."""
    facts = report.facts
    assert (facts.first_at, facts.last_at) == (T0, T0 + 240 * MINUTE)
    assert facts.messages == facts.folded > 800
    assert facts.rejected == 2
    assert dict(facts.reasons) == {scenario.MALFORMED: 1, scenario.WRONG_TOPIC: 1}
    assert facts.root == "keten/v1"


@pytest.mark.parametrize(
    ("topic", "root"),
    [
        ("keten/v1/om/heartbeat", "keten/v1"),
        ("keten-exercise/oefening/v1/om/channel/email", "keten-exercise/oefening/v1"),
        ("keten/v1/_ops/annotation/a1", "keten/v1"),
        ("keten-exercise/oefening/v1/_exercise/clock", "keten-exercise/oefening/v1"),
        ("keten/v1/om/flow/om-justid", "keten/v1"),
        ("something/else", None),
    ],
)
def test_the_root_of_a_topic(topic: str, root: str | None) -> None:
    """Each v1 topic shape gives its root back; anything else has none."""
    assert root_of(topic) == root


async def test_an_exercise_root_is_found_and_can_be_overridden(tmp_path: Path) -> None:
    """Mostly exercise traffic with a little live traffic: the exercise is reported (its name,
    its injects, its messages dated by the exercise's own clock, as on the leader's screen)
    unless --root says otherwise; a root with no messages is an error naming what was found."""
    path = tmp_path / "mixed.sqlite"
    exercise = Topics(exercise_root("oefening"))
    clock = ExerciseClock(name="oefening", title="OM offline", at=f.TS, speed=1440.0,
                          day_zero=f.TS)
    inject = ExerciseInject(id="i1", at=f.TS + timedelta(minutes=2), text="NCSC advisory")
    stopped = f.offline(seq=5, cause="stopped")
    async with Recorder(path) as recorder:
        recorder.record(T0, exercise.clock(), encode(clock), 1, True)
        recorder.record(T0, exercise.status("om"), encode(f.online(interval=60)), 1, True)
        for minute in range(1, 4):
            beat = msgspec.structs.replace(f.heartbeat(seq=minute + 1, interval=60),
                                           ts=f.TS + timedelta(minutes=minute))
            recorder.record(T0 + 60 * minute + 20, exercise.heartbeat("om"), encode(beat), 0,
                            False)
        recorder.record(T0 + 150, exercise.inject("i1"), encode(inject), 1, False)
        # stamped 09:03:20 by the scripted chain, arriving (on a day-a-minute clock) 40 s later
        stopped = msgspec.structs.replace(stopped, ts=f.TS + timedelta(seconds=200))
        recorder.record(T0 + 240, exercise.status("om"), encode(stopped), 1, False)
        recorder.record(T0 + 30, Topics().status("cjib"), encode(f.online(org="cjib")), 1, True)
    found = fold_recording(path, TOPOLOGY)
    assert found.facts.root == "keten-exercise/oefening/v1" and found.facts.folded == 7
    assert found.facts.exercise == "oefening: OM offline"
    assert dict(found.facts.roots) == {"keten-exercise/oefening/v1": 7, "keten/v1": 1}
    assert [(line.kind, line.at - T0, line.text) for line in found.log
            if line.kind in (EntryKind.ORG, EntryKind.INJECT)] == [
        (EntryKind.INJECT, 120, "NCSC advisory"),
        (EntryKind.ORG, 200, "OFFLINE: stopped"),
    ]
    live = fold_recording(path, TOPOLOGY, root="keten/v1")
    assert live.facts.folded == 1
    with pytest.raises(ConfigError, match="no messages under the root 'keten-exercise/x/v1'; "
                                          "found keten-exercise/oefening/v1 \\(7\\)"):
        fold_recording(path, TOPOLOGY, root="keten-exercise/x/v1")


async def test_a_brief_outage_is_not_missed(tmp_path: Path) -> None:
    """An agent stopped and restarted within seconds still shows OFFLINE, then ONLINE: the
    fold evaluates around every status, not only every few minutes."""
    path = tmp_path / "restart.sqlite"
    async with Recorder(path) as recorder:
        recorder.record(T0, "keten/v1/om/status", encode(f.online()), 1, True)
        recorder.record(T0 + 1, "keten/v1/om/heartbeat", encode(f.heartbeat()), 0, False)
        recorder.record(T0 + 2, "keten/v1/om/status",
                        encode(f.offline(seq=3, cause="stopped")), 1, False)
        recorder.record(T0 + 4, "keten/v1/om/status", encode(f.online(session=2)), 1, False)
        recorder.record(T0 + 5, "keten/v1/om/heartbeat", encode(f.heartbeat(session=2)), 0,
                        False)
    report = fold_recording(path, TOPOLOGY)
    assert [(line.at - T0, line.text) for line in report.log
            if line.kind is EntryKind.ORG] == [(2, "OFFLINE: stopped"), (4, "ONLINE")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text("just some notes\n" * 100), "not a readable SQLite database"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE other (x)").connection.commit(),
         "not a Ketenwacht recording"),
        (lambda p: sqlite3.connect(p).executescript(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, received_at REAL, topic TEXT,"
            " payload BLOB, qos INTEGER, retain INTEGER, problem TEXT)"),
         "the recording is empty"),
    ],
    ids=["missing", "not-sqlite", "no-messages-table", "empty"],
)
def test_bad_files_are_named_with_what_is_wrong(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    """Missing (no input, exit 66), not SQLite, not a recording, empty (a bad file, exit 78):
    one error naming the file."""
    path = tmp_path / "rec.sqlite"
    make(path)
    expected = NoInputError if message == "no such file" else ConfigError
    with pytest.raises(expected, match=message) as caught:
        fold_recording(path, TOPOLOGY)
    assert str(caught.value).startswith(f"{path}: ")

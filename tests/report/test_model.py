"""The report model: thinned backlog series, crisis-log lines, per-organisation timelines."""

from __future__ import annotations

from chain.backlog_series import BacklogSeries
from chain.crisislog import CrisisLog, EntryKind, LogEntry
from chain.engine import ChainEngine
from chain.topology import Topology
from chain.wire import Annotation
from report.model import RecordingFacts, ReportBuilder
from tests.chain import factory as f
from tests.chain.factory import T0_EPOCH as T0

HOUR = 3600.0


def facts(end: float) -> RecordingFacts:
    return RecordingFacts(source="rec.sqlite", messages=1, first_at=T0, last_at=end,
                          rejected=0, reasons=(), roots=(("keten/v1", 1),), root="keten/v1")


def test_a_long_series_is_thinned_but_keeps_its_peak_and_its_ends() -> None:
    """100 000 readings become at most 500 points; the one-reading spike and the exact
    first, lowest, highest and last readings survive."""
    series = BacklogSeries(T0, T0 + 100_000, points=500)
    for second in range(100_000):
        series.add(T0 + second, 5000 if second == 31_337 else 100 + second % 7)
    points = series.points()
    assert len(points) == 500
    assert max(p.high for p in points) == 5000
    assert series.highest is not None and series.highest.at == T0 + 31_337
    assert series.first is not None and (series.first.at, series.first.items) == (T0, 100)
    assert series.lowest is not None and series.lowest.items == 100
    last = 100 + 99_999 % 7
    assert series.last is not None and series.last.items == last
    assert points[-1].items == last and series.samples == 100_000


def test_late_buffered_readings_take_their_own_place() -> None:
    """A reading dated before the ones already in (buffered, delivered late) becomes the
    first if it is the earliest, and never the last."""
    series = BacklogSeries(T0, T0 + HOUR, points=60)
    series.add(T0 + 1800, 50)
    series.add(T0 + 600, 10)
    assert series.first is not None and series.first.items == 10
    assert series.last is not None and series.last.items == 50
    assert [p.items for p in series.points()] == [10, 50]


def test_timelines_lines_and_durations(topology: Topology, connected: ChainEngine) -> None:
    """om offline for an hour with its email down for 20 minutes: the timeline has the
    start, each change with how long it lasted, and the total time not online; equal link
    changes share one log line; a link's first movement is not news."""
    for org in topology.org_ids:
        connected.apply(f.online(org=org, interval=60), received_at=T0)
    first = connected.evaluate(T0)
    end = T0 + 3 * HOUR
    builder = ReportBuilder(topology, start=T0, end=end)
    assert builder.channel("om", "email", True, "", T0)
    assert not builder.channel("om", "email", True, "", T0 + 60)
    assert builder.channel("om", "email", False, "no banner", T0 + 600)
    assert builder.channel("om", "email", True, "", T0 + 1800)
    entries = [
        LogEntry(at=T0 + HOUR, kind=EntryKind.ORG, subject="om", text="OFFLINE: lost",
                 state="offline"),
        LogEntry(at=T0 + HOUR, kind=EntryKind.LINK, subject="om-justid",
                 text="DOWN: om offline (lost)", state="down"),
        LogEntry(at=T0 + HOUR, kind=EntryKind.LINK, subject="om-cjib",
                 text="DOWN: om offline (lost)", state="down"),
        LogEntry(at=T0 + HOUR + 5, kind=EntryKind.LINK, subject="politie-justid",
                 text="FLOWING", state="flowing"),
        LogEntry(at=T0 + 2 * HOUR, kind=EntryKind.ORG, subject="om", text="ONLINE",
                 state="online"),
    ]
    report = builder.build(facts(end), entries, log_dropped=0, first=first, last=first)
    assert [(line.subjects, line.text) for line in report.log] == [
        (("om",), "OFFLINE: lost"),
        (("om-justid", "om-cjib"), "DOWN: om offline (lost)"),
        (("om",), "ONLINE"),
    ]
    om = next(tl for tl in report.timelines if tl.id == "om")
    assert [(row.at - T0, row.kind, row.text, row.lasted, row.to_end) for row in om.rows] == [
        (0, "start", "online", HOUR, False),
        (600, "channel", "email down: no banner", 1200, False),
        (1800, "channel", "email up", None, False),
        (HOUR, "state", "offline: lost", HOUR, False),
        (2 * HOUR, "state", "online", HOUR, True),
    ]
    assert om.time_in == (("offline", HOUR),)
    justid = next(tl for tl in report.timelines if tl.id == "justid")
    assert not justid.changed


def test_the_log_counts_what_its_limit_drops(topology: Topology) -> None:
    """A crisis log with a limit keeps the latest entries and says how many went."""
    engine = ChainEngine(topology, log=CrisisLog(limit=3))
    for minute in range(5):
        note = Annotation(id=f"a{minute}", author="duty officer", ts=f.TS, text=f"note {minute}")
        engine.apply_op(note, received_at=T0 + 60 * minute)
    assert [e.text for e in engine.log.entries] == ["note 2", "note 3", "note 4"]
    assert engine.log.dropped == 2


def test_flapping_is_one_timeline_row_but_every_log_line(
    topology: Topology, connected: ChainEngine
) -> None:
    """Ten changes between DEGRADED and ONLINE, 30 s apart: the nine short ones are one
    "flapping" row in the timeline, the last (lasting) one its own row; the time not online
    stays exact, and the crisis log keeps all ten."""
    for org in topology.org_ids:
        connected.apply(f.online(org=org, interval=60), received_at=T0)
    first = connected.evaluate(T0)
    entries = [
        LogEntry(at=T0 + 600 + 30 * n, kind=EntryKind.ORG, subject="cjib",
                 text="DEGRADED: email down" if n % 2 == 0 else "ONLINE",
                 state="degraded" if n % 2 == 0 else "online")
        for n in range(10)
    ]
    report = ReportBuilder(topology, start=T0, end=T0 + HOUR).build(
        facts(T0 + HOUR), entries, log_dropped=0, first=first, last=first)
    assert len(report.log) == 10
    cjib = next(tl for tl in report.timelines if tl.id == "cjib")
    assert [(row.kind, row.at - T0, row.changes, row.between) for row in cjib.rows] == [
        ("start", 0, 0, ("", "")),
        ("flapping", 600, 9, ("degraded", "online")),
        ("state", 870, 0, ("", "")),
    ]
    assert cjib.time_in == (("degraded", 150.0),)

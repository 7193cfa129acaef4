"""The recorder keeps every message as received; history replays it into a fresh engine."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import encode
from ketenwacht.startup import load_topology
from recording.history import load_history
from recording.reader import Recording
from recording.recorder import Recorder
from tests.chain import factory as f

T0 = 1_752_742_800.0
TOPICS = Topics()


async def test_every_message_is_kept_in_order_bad_ones_included(tmp_path: Path) -> None:
    """Rows come back in arrival order, with qos and retain; a garbage payload is kept too."""
    path = tmp_path / "rec.sqlite"
    async with Recorder(path) as recorder:
        recorder.record(T0, "keten/v1/om/status", encode(f.online()), 1, True)
        recorder.record(T0 + 1, "keten/v1/om/heartbeat", b"{not json", 0, False)
    with Recording(path) as recording:
        rows = list(recording.rows())
    assert [(r.received_at, r.topic, r.qos, r.retain) for r in rows] == [
        (T0, "keten/v1/om/status", 1, True), (T0 + 1, "keten/v1/om/heartbeat", 0, False),
    ]
    assert rows[1].payload == b"{not json"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_history_restores_trends_log_and_shows_unknown_until_live(tmp_path: Path) -> None:
    """An hour of om's backlog, replayed: trend and log are back; om UNKNOWN until live."""
    path = tmp_path / "rec.sqlite"
    async with Recorder(path) as recorder:
        recorder.record(T0, "keten/v1/om/status", encode(f.online(interval=60)), 1, True)
        for minute in range(1, 61):
            at = T0 + 60 * minute
            recorder.record(at, "keten/v1/om/heartbeat",
                            encode(f.heartbeat(seq=2 * minute, interval=60)), 0, False)
            recorder.record(at, "keten/v1/om/backlog/jds_pending",
                            encode(f.backlog(100 + 5 * minute, seq=2 * minute + 1)), 1, False)
        recorder.record(T0 + 3700, "keten/v1/om/status", encode(f.offline(cause="lost")), 1, True)
    engine = ChainEngine(load_topology(None))
    replayed = await load_history(engine, TOPICS, path, since=T0 - 1)
    assert replayed == 122
    view = engine.evaluate(T0 + 4000)
    om = view.org("om")
    assert om.state is OrgState.UNKNOWN
    backlog = om.backlogs[0]
    assert backlog.items == 400
    assert backlog.per_hour is not None and abs(backlog.per_hour - 300) < 10
    assert len(backlog.history) > 40
    texts = [e.text for e in engine.log.entries]
    assert "OFFLINE: lost" in texts
    assert engine.log.entries[-1].kind is EntryKind.MONITOR


async def test_history_window_and_missing_file(tmp_path: Path) -> None:
    """Only rows since `since` are replayed; no file means no history, not an error."""
    engine = ChainEngine(load_topology(None))
    assert await load_history(engine, TOPICS, tmp_path / "none.sqlite", since=0) == 0
    path = tmp_path / "rec.sqlite"
    async with Recorder(path) as recorder:
        recorder.record(T0, "keten/v1/om/status", encode(f.online()), 1, True)
        recorder.record(T0 + 100, "keten/v1/om/heartbeat", encode(f.heartbeat()), 0, False)
    assert await load_history(engine, TOPICS, path, since=T0 + 50) == 1


async def test_a_new_recording_never_appears_without_its_table(tmp_path: Path) -> None:
    """A reader that opens the file the moment it appears (a report run as recording starts)
    finds the recorder's table, not an empty database; a thread watches for that moment."""

    def watch(path: Path, stop: threading.Event, found: list[str]) -> None:
        while not stop.is_set():
            if path.exists():
                try:
                    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                        db.execute("SELECT count(*) FROM messages").fetchone()
                except sqlite3.OperationalError as error:
                    found.append(str(error))
                return

    problems: list[str] = []
    for attempt in range(5):
        path = tmp_path / f"rec{attempt}.sqlite"
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(path, stop, problems))
        watcher.start()
        try:
            async with Recorder(path):
                pass
        finally:
            stop.set()
            watcher.join()
    assert problems == [], f"a reader found the new file without its table: {problems}"
    leftovers = await asyncio.to_thread(lambda: list(tmp_path.glob(".*")))
    assert leftovers == [], "the file it was built in is left behind"

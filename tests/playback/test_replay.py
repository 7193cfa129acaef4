"""Replay: recording then replaying gives the same log; seeking equals playing up to there."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import msgspec
import pytest

from agents.runtime import Agent
from agents.simulator import SimulatedOrg
from agents.synthetic import chain_rows
from chain.engine import ChainEngine
from chain.errors import ConfigError, NoInputError
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.topology import Topology
from chain.wire import Message
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from playback.indexer import build_index, index_needed
from playback.player import Player
from recording.checkpoints import EVERY, CheckpointStore
from recording.fold import EVERY_ROW
from recording.reader import Recording
from recording.recorder import Recorder
from recording.schema import SCHEMA
from tests.chain.factory import T0_EPOCH
from tests.conftest import until

HOURS = 3


def synthetic_recording(path: Path, topology: Topology, hours: float) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO messages (received_at, topic, payload, qos, retain, problem) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            chain_rows(topology, start=T0_EPOCH, seconds=hours * 3600),
        )
        # om goes dark two hours in: its Last Will, then silence from its agent.
        db.execute(
            "DELETE FROM messages WHERE topic LIKE 'keten/v1/om/%' AND received_at > ?",
            (T0_EPOCH + 7200,),
        )
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_recording(tmp_path_factory.mktemp("rec") / "chain.sqlite",
                               load_topology(None), HOURS)


def snapshot(engine: ChainEngine, at: float) -> bytes:
    return msgspec.json.encode([engine.evaluate(at), engine.log.entries])


def played_to(path: Path, at: float, steps: int = 7) -> bytes:
    """The engine after playing from the start to `at` in `steps` ticks, as a screen would."""
    with Recording(path) as recording:
        player = Player(recording, ChainEngine(load_topology(None)), Topics())
        start = recording.span.first_at
        for step in range(1, steps + 1):
            player.advance(start + (at - start) * step / steps)
        return snapshot(player.engine, at)


def test_seeking_anywhere_equals_playing_up_to_there(recording: Path) -> None:
    """Forward, back, back to the start and past a checkpoint: each time the same engine."""
    topology = load_topology(None)
    with Recording(recording) as opened:
        assert build_index(opened, topology, Topics()) > 0
        store = CheckpointStore(recording, opened.identity, topology)
        assert store.latest_slot() is not None
        assert not index_needed(opened, store)
        player = Player(opened, ChainEngine(topology), Topics(), store=store)
        start = opened.span.first_at
        targets = [start + 9000.5, start + 2 * EVERY + 1, start + 100, start + 7300,
                   opened.span.last_at]
        for at in targets:
            player.seek(at)
            assert snapshot(player.engine, at) == played_to(recording, at), at
        om = player.engine.view(opened.span.last_at).org("om")
        assert om.state.value == "stale"


def test_a_file_that_is_not_a_recording_is_one_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.sqlite"
    junk.write_text("minutes of the crisis meeting")
    with pytest.raises(ConfigError, match="not a Ketenwacht recording"):
        Recording(junk)
    with pytest.raises(NoInputError, match="no such recording"):
        Recording(tmp_path / "missing.sqlite")
    empty = tmp_path / "empty.sqlite"
    with sqlite3.connect(empty) as db:
        db.executescript(SCHEMA)
    with pytest.raises(ConfigError, match="empty"):
        Recording(empty)


class _EvaluatingSink(EngineSink):
    """The live side of the comparison: the log brought up to date at every message."""

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        super().message_received(message, received_at=received_at, retained=retained)
        self.engine.evaluate(received_at)

    def message_rejected(
        self, topic: str, reason: str, *, received_at: float, org: str | None
    ) -> None:
        super().message_rejected(topic, reason, received_at=received_at, org=org)
        self.engine.evaluate(received_at)


async def test_recording_then_replaying_gives_the_same_state_changes(
    nats: BrokerAddress, tmp_path: Path
) -> None:
    """Simulated agents (outages every few seconds at this pace) through a real broker into a
    live engine and the recorder; one agent stops. Replayed, the crisis log is identical."""
    topology = load_topology(None)
    path = tmp_path / "live.sqlite"
    live = ChainEngine(topology)
    sink = _EvaluatingSink(live)
    orgs = ["om", "justid", "politie", "rechtspraak", "cjib", "ind"]
    async with Recorder(path) as recorder:
        monitor = Monitor(nats, Topics())
        watching = asyncio.create_task(monitor.run(sink, record=recorder.record))
        agents = [Agent(org, nats, session=1, interval=0.1,
                        source=SimulatedOrg(topology, org, pace=20_000.0)) for org in orgs]
        running = {a.org: asyncio.create_task(a.run()) for a in agents}

        def changes_logged() -> bool:
            """the live log holds a dozen changes"""
            return len(live.log.entries) >= 12

        await until(changes_logged, within=30)
        running.pop("cjib").cancel()  # a planned stop
        await asyncio.sleep(1.0)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
        await asyncio.sleep(0.3)
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    assert any(e.text == "OFFLINE: stopped" and e.subject == "cjib" for e in live.log.entries)
    with Recording(path) as recording:
        player = Player(recording, ChainEngine(topology), Topics(), policy=EVERY_ROW)
        player.advance(recording.span.last_at)
        assert player.applied == recorder.written
    replayed = [(e.at, e.subject, e.text) for e in player.engine.log.entries]
    assert replayed == [(e.at, e.subject, e.text) for e in live.log.entries]


async def test_an_organisation_falls_stale_in_recorded_time_during_a_replay(
    tmp_path: Path,
) -> None:
    """One clock in a replay: om's heartbeats stop a minute into the recording while
    justid's go on; played to 30 s after om's last, om is STALE since its last heartbeat +
    three intervals, in the recording's time, however fast the replay ran."""
    topology = load_topology(None)
    path = tmp_path / "rec.sqlite"
    topics = Topics()
    async with Recorder(path) as recorder:
        for second in range(0, 121, 5):
            at = T0_EPOCH + second
            for org in ("om", "justid") if second <= 60 else ("justid",):
                beat = msgspec.json.encode({"kind": "heartbeat", "org": org, "session": 1,
                                            "seq": second + 2, "ts": "2025-07-17T09:00:00Z",
                                            "interval": 5.0})
                recorder.record(at, topics.heartbeat(org), beat, 0, False)
    with Recording(path) as recording:
        player = Player(recording, ChainEngine(topology), topics, policy=EVERY_ROW)
        player.advance(T0_EPOCH + 90)
        om = player.engine.view(T0_EPOCH + 90).org("om")
        assert om.state.value == "stale"
        assert om.since == T0_EPOCH + 60 + 3 * 5.0
        assert player.engine.view(T0_EPOCH + 90).org("justid").state.value == "online"

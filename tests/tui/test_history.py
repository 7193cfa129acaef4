"""Persistent history: what one screen recorded is there when the next one starts."""

from __future__ import annotations

import time
from pathlib import Path

from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.views import OrgState
from ketenwacht.startup import load_topology
from mqtt.monitor import Monitor
from recording.history import load_history
from recording.recorder import Recorder
from tests.conftest import until
from tests.tui.test_views import play_agents
from tui.app import KetenwachtApp

TOPICS = Topics()


async def test_a_restarted_screen_keeps_what_the_last_one_saw(tmp_path: Path) -> None:
    """Screen 1 records om's messages; screen 2, on an empty broker, shows them from history."""
    path = tmp_path / "history.sqlite"
    async with EmbeddedBroker() as first, Recorder(path) as recorder:
        monitor = Monitor(first.address, TOPICS)

        async def feed(sink: MonitorSink) -> None:
            await monitor.run(sink, record=recorder.record)

        app = KetenwachtApp(ChainEngine(load_topology(None)), feed, broker_url=first.address.url)
        async with app.run_test() as pilot:
            await until(lambda: app.view is not None and app.view.monitor_connected, within=5)
            await play_agents(first.address)
            await until(lambda: app.view is not None
                        and app.view.org("om").state is OrgState.ONLINE, within=5)
            await pilot.press("q")
    assert recorder.written >= 6

    engine = ChainEngine(load_topology(None))
    assert await load_history(engine, TOPICS, path, since=time.time() - 3600) >= 6
    async with EmbeddedBroker() as second:
        monitor = Monitor(second.address, TOPICS)
        app = KetenwachtApp(engine, monitor.run, broker_url=second.address.url)
        async with app.run_test() as pilot:
            await pilot.pause(0.3)
            assert app.view is not None
            assert app.view.link("om-justid").sent_total == 100
            assert app.view.org("om").session == 1
            assert any(e.text == "MONITOR DISCONNECTED from the broker"
                       for e in engine.log.entries)

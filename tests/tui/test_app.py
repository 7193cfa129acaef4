"""The live TUI through Textual's pilot: quitting, coalesced redraws, losing the broker."""

from __future__ import annotations

import time

from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.views import OrgState
from ketenwacht.startup import load_topology
from mqtt.monitor import Monitor
from tests.chain import factory as f
from tests.conftest import until
from tui.app import KetenwachtApp
from tui.widgets.state_table import StateTable
from tui.widgets.summary import ChainSummary


def app_with(feed: object) -> KetenwachtApp:
    return KetenwachtApp(
        ChainEngine(load_topology(None)), feed, broker_url="mqtt://test:1"  # type: ignore[arg-type]
    )


async def test_q_quits_cleanly() -> None:
    """Pressing q ends the app with no error and stops the monitor worker."""

    async def idle(sink: MonitorSink) -> None:
        sink.connection_changed(True, time.time())

    app = app_with(idle)
    async with app.run_test() as pilot:
        await pilot.press("q")
    assert app.return_code == 0


async def test_a_burst_of_messages_becomes_few_redraws() -> None:
    """10,000 messages arriving at once are folded in but redrawn at most a few times."""
    burst = 10_000

    async def flood(sink: MonitorSink) -> None:
        now = time.time()
        sink.connection_changed(True, now)
        for seq in range(1, burst + 1):
            sink.message_received(f.heartbeat(seq=seq), received_at=now, retained=False)

    app = app_with(flood)
    async with app.run_test() as pilot:
        await until(lambda: app.sink.received == burst, within=10)
        before = app.redraws
        await pilot.pause(0.6)
        assert app.redraws - before <= 3
        assert app.view is not None
        assert app.view.org("om").state is OrgState.ONLINE
        assert app.query_one("#orgs", StateTable).row("om").text("state") == "● ONLINE"


async def test_losing_the_broker_shows_unknown_never_offline() -> None:
    """When the monitor's broker dies, the summary says DISCONNECTED and every org is UNKNOWN."""
    broker = EmbeddedBroker()
    await broker.start()
    app = app_with(Monitor(broker.address, Topics()).run)
    try:
        async with app.run_test() as pilot:

            def connected() -> bool:
                """monitor connected"""
                return app.view is not None and app.view.monitor_connected

            await until(connected, within=5)
            await broker.stop()

            def disconnected() -> bool:
                """every org UNKNOWN with the monitor disconnected"""
                view = app.view
                return view is not None and not view.monitor_connected and all(
                    org.state is OrgState.UNKNOWN for org in view.orgs
                )

            await until(disconnected, within=5)
            await pilot.pause(0.3)
            summary = app.query_one(ChainSummary)
            assert "DISCONNECTED since" in str(summary.render())
            assert summary.has_class("-disconnected")
    finally:
        await broker.stop()

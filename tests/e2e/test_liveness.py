"""Crash, planned stop and silent hang told apart, end to end: agents → broker → live TUI."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from broker.address import BrokerAddress
from broker.monitor import Monitor
from broker.topics import Topics
from chain.engine import STALE_AFTER_INTERVALS, ChainEngine
from chain.views import OrgState
from ketenwacht.setup import load_topology
from tests.conftest import until
from tests.e2e.agents import agents
from tui.app import KetenwachtApp
from tui.widgets.state_table import StateTable

INTERVAL = 0.5
ALIVE = (OrgState.ONLINE, OrgState.DEGRADED)


async def test_crash_stop_and_hang_are_told_apart(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """kill -9 → OFFLINE lost; SIGTERM → OFFLINE stopped at once; SIGSTOP → STALE."""
    topology = load_topology(None)
    monitor = Monitor(any_broker, Topics())
    app = KetenwachtApp(ChainEngine(topology), monitor.run, broker_url=any_broker.url)
    orgs = ["om", "justid", "justis", "cjib"]
    with agents(orgs, any_broker, tmp_path, interval=INTERVAL) as running:
        async with app.run_test(size=(120, 30)):

            def state(org: str) -> OrgState:
                assert app.view is not None
                return app.view.org(org).state

            def all_online() -> bool:
                """every agent alive in the TUI: ONLINE, or DEGRADED when the simulator
                takes a channel down (it does, by the wall clock, now and then)"""
                return all(state(org) in ALIVE for org in orgs)

            def counting() -> bool:
                """om's OM→Justid counter has arrived"""
                return app.view is not None and app.view.link("om-justid").sent_total is not None

            await until(all_online, within=20)
            await until(counting, within=5)
            table = app.query_one("#orgs", StateTable)
            assert table.row("om").text("state") in ("● ONLINE", "◐ DEGRADED")

            running["om"].kill()
            killed_at = time.monotonic()

            def om_lost() -> bool:
                """om OFFLINE with cause lost"""
                return state("om") is OrgState.OFFLINE and app.view is not None and (
                    app.view.org("om").cause == "lost"
                )

            await until(om_lost, within=5)
            assert time.monotonic() - killed_at < 5

            running["justid"].send_signal(signal.SIGTERM)

            def justid_stopped() -> bool:
                """justid OFFLINE with cause stopped"""
                return state("justid") is OrgState.OFFLINE and app.view is not None and (
                    app.view.org("justid").cause == "stopped"
                )

            await until(justid_stopped, within=3)
            assert running["justid"].wait(timeout=5) == 0

            running["justis"].send_signal(signal.SIGSTOP)

            def justis_stale() -> bool:
                """justis STALE"""
                return state("justis") is OrgState.STALE

            await until(justis_stale, within=STALE_AFTER_INTERVALS * INTERVAL + 3)
            assert state("cjib") in ALIVE
            await until(lambda: table.row("om").text("state") == "✖ OFFLINE", within=2)
            assert table.row("justis").text("state") == "▲ STALE"
            assert table.row("justid").text("cause") == "stopped"

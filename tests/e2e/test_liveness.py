"""Crash, planned stop, silent hang and restart told apart, end to end: agents → broker →
live TUI; a late Last Will from before the restart changes nothing."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from chain.engine import STALE_AFTER_INTERVALS, ChainEngine
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import Status
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from tests.conftest import until
from tests.e2e.agents import agents
from tests.e2e.faults import Watch
from tests.e2e.test_broker_restarts import states_seen
from tests.proxy import Proxy
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


async def test_restart_brings_a_new_session_and_the_old_late_will_is_ignored(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """kill -9 while the proxy holds the agent's connection open; restart (new session,
    ONLINE); only then the proxy lets go and the broker sends the old Will: om stays ONLINE.
    A monitor starting after that, with the old Will retained, shows om ONLINE within a beat."""
    proxy = Proxy(any_broker)
    proxy.hold_open = True
    through_proxy = await proxy.start()
    try:
        async with Watch(any_broker) as watch:
            with agents(["om"], through_proxy, tmp_path, interval=INTERVAL) as first:
                await until(lambda: watch.org().state in ALIVE, within=20)
                old_session = watch.org().session
                assert old_session is not None
                first["om"].kill()
                first["om"].wait(timeout=5)
                with agents(["om"], any_broker, tmp_path, interval=INTERVAL):

                    def restarted() -> bool:
                        """om alive with a newer session"""
                        org = watch.org()
                        return org.state in ALIVE and (org.session or 0) > old_session

                    await until(restarted, within=20)
                    new_session = watch.org().session
                    assert proxy.connections == 1, "the old connection is still held open"
                    proxy.cut()

                    def old_will_arrived() -> bool:
                        """the broker published the old session's Last Will"""
                        return any(
                            isinstance(m, Status) and m.session == old_session
                            and m.cause == "lost"
                            for m in watch.statuses()
                        )

                    await until(old_will_arrived, within=5)
                    with states_seen(watch) as seen:
                        await asyncio.sleep(3 * INTERVAL)
                    assert seen <= set(ALIVE), f"om was shown {seen}"
                    assert watch.org().session == new_session

                    async with Watch(any_broker) as latecomer:
                        await until(
                            lambda: latecomer.org().state in ALIVE
                            and latecomer.org().session == new_session,
                            within=3 * INTERVAL + 1,
                        )
    finally:
        await proxy.stop()

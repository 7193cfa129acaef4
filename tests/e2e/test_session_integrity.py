"""An agent whose session goes back, and forged seq numbers on its topic: on a real broker,
the running screen, `status` and a restarted screen all show it ONLINE."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from recording.history import load_history
from recording.recorder import Recorder
from tests.chain import factory as f
from tests.conftest import until
from tests.e2e.agents import agents
from tui.app import KetenwachtApp
from tui.widgets.state_table import StateTable

TOPICS = Topics()
AHEAD = 9_999_999_999_999
"""A session counter left by a clock that was far ahead (the year 2286)."""
INTERVAL = 0.5


def screen(address: BrokerAddress, engine: ChainEngine, recorder: Recorder | None = None
           ) -> KetenwachtApp:
    monitor = Monitor(address, TOPICS)

    async def feed(sink: MonitorSink) -> None:
        await monitor.run(sink, record=recorder.record if recorder else None)

    return KetenwachtApp(engine, feed, broker_url=address.url)


def om_online(app: KetenwachtApp, cause: str = "") -> bool:
    view = app.view
    return view is not None and view.org("om").state is OrgState.ONLINE and (
        cause in view.org("om").cause)


async def status_line(address: BrokerAddress, org: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "status", "--broker", address.url, "--wait", "1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return next(line for line in out.decode().splitlines() if line.startswith(f"{org} "))


async def test_a_session_that_went_back_is_online_on_every_screen(
        mosquitto: BrokerAddress, tmp_path: Path) -> None:
    """om ran at a session its clock put far ahead; reinstalled, it starts lower. The running
    screen shows it ONLINE saying the session went back, `status` ONLINE, and a screen
    restarted from the first one's history ONLINE with the same warning."""
    history = tmp_path / "history.sqlite"
    ahead, reinstalled = tmp_path / "ahead", tmp_path / "reinstalled"
    ahead.mkdir()
    (ahead / "om.session").write_text(f"{AHEAD - 1}\n")
    went_back = f"session went back from {AHEAD} to"
    async with Recorder(history) as recorder:
        app = screen(mosquitto, ChainEngine(load_topology(None)), recorder)
        async with app.run_test() as pilot:
            with agents(["om"], mosquitto, ahead, interval=INTERVAL) as running:
                await until(lambda: om_online(app) and app.view is not None
                            and app.view.org("om").session == AHEAD, within=10)
                running["om"].kill()
            with agents(["om"], mosquitto, reinstalled, interval=INTERVAL):
                await until(lambda: om_online(app, went_back), within=10)
                await asyncio.sleep(6 * INTERVAL)  # beyond STALE's three intervals
                await pilot.pause(0.3)
                assert om_online(app, went_back), app.view and app.view.org("om")
                row = app.query_one("#orgs", StateTable).row("om")
                assert row.text("state") == "● ONLINE"
                assert went_back in row.text("cause")
                assert "● ONLINE" in await status_line(mosquitto, "om")
                await pilot.press("q")

                engine = ChainEngine(load_topology(None))
                assert await load_history(engine, TOPICS, history,
                                          since=time.time() - 3600) > 0
                restarted = screen(mosquitto, engine)
                async with restarted.run_test() as second:
                    await until(lambda: om_online(restarted, went_back), within=10)
                    await second.press("q")


async def test_forged_seq_numbers_never_make_a_live_agent_stale(
        mosquitto: BrokerAddress, tmp_path: Path) -> None:
    """11 547 forged heartbeats with om's coming seq numbers, and one at 10**12, on om's own
    topic: om stays ONLINE on screen and the forgeries show as duplicates."""
    app = screen(mosquitto, ChainEngine(load_topology(None)))
    async with app.run_test() as pilot:
        with agents(["om"], mosquitto, tmp_path / "state", interval=INTERVAL):
            await until(lambda: om_online(app) and app.view is not None
                        and app.view.org("om").session is not None, within=10)
            assert app.view is not None
            session = app.view.org("om").session
            assert session is not None
            async with make_client(mosquitto, identifier="forger") as forger:
                for seq in range(10, 10 + 11_547):
                    await forger.publish("keten/v1/om/heartbeat", encode(
                        f.heartbeat(session=session, seq=seq, interval=INTERVAL)), qos=0)
                await forger.publish("keten/v1/om/heartbeat", encode(
                    f.heartbeat(session=session, seq=10**12, interval=INTERVAL)), qos=1)
            await until(lambda: app.view is not None
                        and app.view.org("om").duplicates > 10, within=30)
            await asyncio.sleep(8 * INTERVAL)
            await pilot.pause(0.3)
            om = app.view.org("om")
            assert om.state is OrgState.ONLINE, om.cause
            await pilot.press("q")

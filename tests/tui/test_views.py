"""Every view and operator action through the pilot, against a real embedded broker.

Agents are played by publishing wire messages; operator actions are checked as the `_ops`
messages a separate subscriber actually receives.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from textual.pilot import Pilot

from chain.engine import ChainEngine
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import (
    Acknowledgement,
    Annotation,
    FlowCounter,
    Heartbeat,
    Isolation,
    ManualReport,
    Message,
    Op,
    Status,
    decode,
    encode,
)
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.conftest import until
from tui.app import KetenwachtApp
from tui.screens.help import HelpScreen
from tui.screens.org import OrgScreen
from tui.widgets.state_table import StateTable

TOPICS = Topics()


async def play_agents(address: BrokerAddress) -> None:
    """om and justid online, counting om-justid; om's email down."""
    now = datetime.now(UTC)
    async with make_client(address, identifier="agents") as client:
        for org, direction in (("om", "sent"), ("justid", "received")):
            messages: list[Message] = [
                Status(org=org, session=1, seq=1, ts=now, state="online", interval=30),
                Heartbeat(org=org, session=1, seq=2, ts=now, interval=30),
                FlowCounter(org=org, session=1, seq=3, ts=now, link="om-justid",
                            direction="sent" if direction == "sent" else "received", count=100),
            ]
            for message in messages:
                await client.publish(TOPICS.of(message), encode(message), qos=1)


async def retained_ops(address: BrokerAddress) -> list[Op]:
    """What a newcomer gets on subscribing to `_ops/#`: only retained operator state."""
    found: list[Op] = []
    async with make_client(address, identifier="newcomer") as client:
        await client.subscribe(f"{TOPICS.root}/_ops/#", qos=1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                async for message in client.messages:
                    assert isinstance(message.payload, bytes)
                    op = decode(message.payload)
                    assert isinstance(op, Op)
                    found.append(op)
    return found


class OpsListener:
    def __init__(self) -> None:
        self.ops: list[Op] = []

    async def run(self, address: BrokerAddress, ready: asyncio.Event) -> None:
        async with make_client(address, identifier="ops-listener") as client:
            await client.subscribe(f"{TOPICS.root}/_ops/#", qos=1)
            ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                if message.payload:
                    op = decode(message.payload)
                    assert isinstance(op, Op)
                    self.ops.append(op)


@pytest.fixture
async def running(nats: BrokerAddress) -> AsyncIterator[tuple[KetenwachtApp, OpsListener]]:
    listener = OpsListener()
    ready = asyncio.Event()
    listening = asyncio.create_task(listener.run(nats, ready))
    await ready.wait()
    monitor = Monitor(nats, TOPICS)
    app = KetenwachtApp(
        ChainEngine(load_topology(None)), monitor.run, publish=monitor.publish_op,
        broker_url=nats.url, author="tester",
    )
    try:
        yield app, listener
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)


async def started(app: KetenwachtApp, pilot: Pilot[None], address: BrokerAddress) -> None:
    await until(lambda: app.view is not None and app.view.monitor_connected, within=5)
    await play_agents(address)
    await until(lambda: app.view is not None and app.view.org("om").state is OrgState.ONLINE,
                within=5)
    await pilot.pause(0.3)


async def focus_org(app: KetenwachtApp, pilot: Pilot[None], org: str) -> None:
    table = app.query_one("#orgs", StateTable)
    table.focus()
    table.cursor = org
    await pilot.pause()


async def test_tabs_show_flows_impact_and_log(
    running: tuple[KetenwachtApp, OpsListener], nats: BrokerAddress
) -> None:
    """1-4 switch views: flows with dependents, impact of om-justid, the log of changes."""
    app, _ = running
    async with app.run_test(size=(140, 40)) as pilot:
        await started(app, pilot, nats)
        await pilot.press("2")
        links = app.query_one("#links", StateTable)
        await until(lambda: "om-justid" in links.keys, within=3)
        assert links.row("om-justid").text("name") == "om → justid"
        assert "vog" in links.row("om-justid").text("needs")
        await pilot.press("3")
        processes = app.query_one("#processes", StateTable)
        await until(lambda: "vog" in processes.keys, within=3)
        assert processes.row("charging").text("state")
        await pilot.press("4")
        await pilot.press("1")
        assert app.query_one("#tabs").active == "overview"  # type: ignore[attr-defined]


async def test_enter_opens_the_drill_down_and_escape_returns(
    running: tuple[KetenwachtApp, OpsListener], nats: BrokerAddress
) -> None:
    """Enter on om opens its screen with figures, channels and flows; Escape goes back."""
    app, _ = running
    async with app.run_test(size=(140, 40)) as pilot:
        await started(app, pilot, nats)
        await focus_org(app, pilot, "om")
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, OrgScreen), within=3)
        await pilot.pause(1.2)
        figures = str(app.screen.query_one("#org-figures").render())
        assert "om · Openbaar Ministerie" in figures
        assert "session 1" in figures
        org_links = app.screen.query_one("#org-links", StateTable)
        assert "om-justid" in org_links.keys
        await pilot.press("escape")
        assert not isinstance(app.screen, OrgScreen)


async def test_annotation_is_published_and_logged(
    running: tuple[KetenwachtApp, OpsListener], nats: BrokerAddress
) -> None:
    """a, text, Enter: an Annotation by the operator goes out and comes back into the log."""
    app, listener = running
    async with app.run_test(size=(140, 40)) as pilot:
        await started(app, pilot, nats)
        await pilot.press("a")
        await pilot.press(*"NCSC advisory received")
        await pilot.press("enter")
        await until(lambda: any(isinstance(o, Annotation) for o in listener.ops), within=5)
        note = next(o for o in listener.ops if isinstance(o, Annotation))
        assert (note.text, note.author) == ("NCSC advisory received", "tester")
        assert await retained_ops(nats) == []
        await until(lambda: any(e.text == "NCSC advisory received"
                                for e in app.engine.log.entries), within=5)


async def test_isolate_and_lift(
    running: tuple[KetenwachtApp, OpsListener], nats: BrokerAddress
) -> None:
    """i on om: a retained Isolation; om turns ISOLATED; i again lifts it."""
    app, listener = running
    async with app.run_test(size=(140, 40)) as pilot:
        await started(app, pilot, nats)
        await focus_org(app, pilot, "om")
        await pilot.press("i")
        await pilot.press(*"cut off on purpose")
        await pilot.press("enter")

        def isolated() -> bool:
            """om ISOLATED in the view"""
            return app.view is not None and app.view.org("om").state is OrgState.ISOLATED

        await until(isolated, within=5)
        op = next(o for o in listener.ops if isinstance(o, Isolation))
        assert (op.org, op.isolated, op.reason) == ("om", True, "cut off on purpose")
        assert {o.id for o in await retained_ops(nats)} == {op.id}
        await pilot.pause(0.3)
        await focus_org(app, pilot, "om")
        await pilot.press("i", "enter")
        await until(lambda: not isolated(), within=5)
        lifts = [o for o in listener.ops if isinstance(o, Isolation) and not o.isolated]
        assert lifts


async def test_manual_report_and_acknowledgement(
    running: tuple[KetenwachtApp, OpsListener], nats: BrokerAddress
) -> None:
    """r on om publishes a ManualReport about om; c publishes an Acknowledgement of org:om."""
    app, listener = running
    async with app.run_test(size=(140, 40)) as pilot:
        await started(app, pilot, nats)
        await focus_org(app, pilot, "om")
        await pilot.press("r")
        await pilot.press(*"called the OM duty desk: phones work")
        await pilot.press("enter")
        await until(lambda: any(isinstance(o, ManualReport) for o in listener.ops), within=5)
        report = next(o for o in listener.ops if isinstance(o, ManualReport))
        assert (report.org, report.author) == ("om", "tester")
        await focus_org(app, pilot, "om")
        await pilot.press("c", "enter")
        await until(lambda: any(isinstance(o, Acknowledgement) for o in listener.ops), within=5)
        ack = next(o for o in listener.ops if isinstance(o, Acknowledgement))
        assert ack.subject == "org:om"


async def test_filter_help_theme_and_a_small_terminal(
    running: tuple[KetenwachtApp, OpsListener], nats: BrokerAddress
) -> None:
    """At 80x24: / filters rows, Escape clears; ? shows help; t cycles the three themes."""
    app, _ = running
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot, nats)
        table = app.query_one("#orgs", StateTable)
        await pilot.press("slash", *"justis")
        await pilot.pause()
        shown = [k for k in table.keys if table.row(k).display]
        assert shown == ["justis"]
        await pilot.press("escape")
        await pilot.pause()
        assert all(table.row(k).display for k in table.keys)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        seen = {app.theme}
        for _ in range(3):
            await pilot.press("t")
            seen.add(app.theme)
        assert seen == {"textual-dark", "textual-light", "ketenwacht-colour-blind"}


async def test_actions_without_a_broker_say_so(nats: BrokerAddress) -> None:
    """Publishing while the monitor is not connected: an error notice, nothing sent."""
    monitor = Monitor(BrokerAddress("127.0.0.1", 1), TOPICS)
    app = KetenwachtApp(
        ChainEngine(load_topology(None)), monitor.run, publish=monitor.publish_op,
        broker_url="mqtt://127.0.0.1:1", author="tester",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("a", *"test", "enter")
        await pilot.pause(0.5)
        assert app.published == []
        assert app.is_running

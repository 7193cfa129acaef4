"""Invalid readings on the operator's screen, from a real broker: the overview row, the
summary, the crisis log and the drill-down's figures; hostile text shown as text."""

from __future__ import annotations

import time

import msgspec
from textual.widgets import Static

from chain.engine import ChainEngine
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.chain import factory as f
from tests.conftest import until
from tui import format as fmt
from tui.app import KetenwachtApp
from tui.screens.org import OrgScreen
from tui.widgets.state_table import StateTable
from tui.widgets.summary import ChainSummary

FUTURE = "v: schema version 2 is newer than 1"
HOSTILE_DETAIL = "[/] [@click=app.quit]quit[/]"
MARKUP = "keten/v1/om/[/]"
"""A topic om may publish on, which Textual markup would read as a closing tag."""


async def test_an_org_sending_invalid_readings_is_shown_invalid_everywhere(
    nats: BrokerAddress,
) -> None:
    """om online, then a future-version reading and one on a markup-like topic: its row says
    INVALID with count and reason, the summary counts them (and one on a topic with no valid
    organisation id as on no organisation's), the log has one entry, and the drill-down
    names the last one; reason and channel detail literally, markup and all."""
    app = KetenwachtApp(ChainEngine(load_topology(None)), Monitor(nats, Topics()).run,
                        broker_url=nats.url)
    async with app.run_test(size=(160, 40)) as pilot, make_client(nats, identifier="om") as om:
        await until(lambda: app.view is not None and app.view.monitor_connected, within=5)
        await om.publish("keten/v1/om/status", encode(f.online(interval=30)), qos=1)
        await om.publish("keten/v1/om/heartbeat", encode(f.heartbeat(interval=30)), qos=1)
        future = encode(f.flow(10, seq=3)).replace(b'"v":1', b'"v":2')
        await om.publish("keten/v1/om/flow/om-justid", future, qos=1)
        await om.publish(MARKUP, encode(f.heartbeat(seq=4, interval=30)), qos=1)
        email = msgspec.structs.replace(f.channel(up=False, seq=5), detail=HOSTILE_DETAIL)
        await om.publish("keten/v1/om/channel/email", encode(email), qos=1)
        await om.publish("keten/v1/Om!/heartbeat", b"{}", qos=1)  # no valid id: no one's

        def two_invalid() -> bool:
            """om INVALID with two invalid readings on screen"""
            view = app.view
            return view is not None and view.org("om").invalid == 2 and (
                view.org("om").state is OrgState.INVALID)

        await until(two_invalid, within=5)
        await pilot.pause(0.6)
        row = app.query_one("#orgs", StateTable).row("om")
        assert row.text("state") == "≠ INVALID"
        # The refusal leads (a narrow cause column shows it), then the count.
        assert row.text("cause").startswith("topic 'keten/v1/om/[/]': a heartbeat of 'om'")
        assert "; 2 invalid readings" in row.text("cause")
        await until(lambda: app.view is not None and app.view.unattributed == 1, within=5)
        await pilot.pause(0.6)
        summary = str(app.query_one(ChainSummary).render())
        assert "3 payloads rejected (1 on no organisation's topic)" in summary
        assert [e.text.split(":")[0] for e in app.engine.log.filtered(subject="om")] == [
            "INVALID"]

        app.query_one("#orgs", StateTable).cursor = "om"
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, OrgScreen), within=3)
        await pilot.pause(1.2)
        figures = str(app.screen.query_one("#org-figures", Static).render())
        invalid_at = app.view.org("om").invalid_at if app.view is not None else None
        at = fmt.clock_time(invalid_at, time.time(), app.zone)
        assert f"invalid 2 (last {at}: topic '{MARKUP}': a heartbeat of 'om' belongs on " \
               "'keten/v1/om/heartbeat')" in figures
        assert "≠ INVALID since" in figures
        channels = str(app.screen.query_one("#org-channels", Static).render())
        assert HOSTILE_DETAIL in channels

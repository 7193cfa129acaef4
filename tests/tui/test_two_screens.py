"""Two crisis-room screens on one real Mosquitto: a problem is new on both and rings once on
each; `c` on one clears the mark on both; its "until" passing makes it new on both again;
a problem that recovered and comes back is new again."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from chain.attention import RECOVERY
from chain.engine import ChainEngine
from chain.inbox import MonitorSink
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import Message, encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.chain.factory import T0_EPOCH, heartbeat, offline, online
from tests.conftest import until
from tui.app import KetenwachtApp
from tui.widgets.summary import ChainSummary

TOPICS = Topics()
SIZE = (120, 40)
INTERVAL = 3600.0
"""om's heartbeat interval: long, so it never goes STALE while the clock is moved on."""


class Screen(KetenwachtApp):
    """A screen on the broker whose bell is counted; its monitor and it share `clock`."""

    def __init__(self, address: BrokerAddress, clock: list[float], author: str) -> None:
        self.monitor = Monitor(address, TOPICS, clock=lambda: clock[0])
        self.bells = 0
        super().__init__(ChainEngine(load_topology(None)), self._feed,
                         publish=self.monitor.publish_op, broker_url=address.url,
                         author=author, clock=lambda: clock[0])

    async def _feed(self, sink: MonitorSink) -> None:
        await self.monitor.run(sink)

    def bell(self) -> None:
        self.bells += 1

    def mark(self) -> str:
        return self.tables["overview"].row("om").text("mark")

    def new_count(self) -> str:
        return str(self.query_one(ChainSummary).render()).split("  ")[0].strip()


async def om_says(address: BrokerAddress, *messages: Message) -> None:
    async with make_client(address, identifier="om-agent") as om:
        for message in messages:
            await om.publish(TOPICS.of(message), encode(message), qos=1)


async def settled(screens: tuple[Screen, Screen], *pilots: Pilot[Any]) -> None:
    """Both screens redrawn at the clock's time."""
    for screen in screens:
        screen.redraw()
    for pilot in pilots:
        await pilot.pause()


async def test_two_screens_follow_one_acknowledgement(mosquitto: BrokerAddress) -> None:
    """om stops: NEW on both screens, "1 new", one bell each. Anna acknowledges it on the
    first until +10m: `ack` on both, no count, no bell. At the 10 minutes it is NEW on both
    again with a bell each; Bert acknowledges it on the second. om comes back and stays
    back past RECOVERY: the problem ends; om stopping again is NEW again, one bell each."""
    clock = [T0_EPOCH]
    screens = (Screen(mosquitto, clock, "anna"), Screen(mosquitto, clock, "bert"))
    first, second = screens
    async with first.run_test(size=SIZE) as one, second.run_test(size=SIZE) as two:
        await until(lambda: all(s.monitor.subscribed for s in screens), within=10)
        await om_says(mosquitto, online(interval=INTERVAL),
                      heartbeat(seq=2, interval=INTERVAL))
        await until(lambda: all(s.view is not None and s.view.org("om").state is
                                OrgState.ONLINE for s in screens), within=10)
        await settled(screens, one, two)
        assert [s.bells for s in screens] == [0, 0]

        clock[0] += 10
        await om_says(mosquitto, offline(seq=9, cause="stopped"))

        def new_on_both() -> bool:
            """om's problem is new on both screens"""
            return all(s.view is not None and s.view.org("om").new for s in screens)

        await until(new_on_both, within=10)
        await settled(screens, one, two)
        assert [s.mark() for s in screens] == ["NEW", "NEW"]
        assert [s.new_count() for s in screens] == ["1 new", "1 new"]
        assert [s.bells for s in screens] == [1, 1]
        assert all([str(n.message) for n in s._notifications if n.title == "New problem"]
                   == ["om OFFLINE: stopped"] for s in screens)

        first.tables["overview"].cursor = "om"
        for key in ("c", *"calling the OM", "tab", *"+10m", "enter"):
            await one.press(key)

        def acknowledged_on_both() -> bool:
            """om's problem acknowledged by anna on both screens"""
            return all(s.view is not None and s.view.org("om").acknowledged_by == "anna"
                       for s in screens)

        await until(acknowledged_on_both, within=10)
        await settled(screens, one, two)
        assert [s.mark() for s in screens] == ["ack", "ack"]
        assert all("new" not in s.new_count() for s in screens)
        assert [s.bells for s in screens] == [1, 1]

        clock[0] += 601  # the acknowledgement's 10 minutes are over
        await settled(screens, one, two)
        assert [s.mark() for s in screens] == ["NEW", "NEW"]
        assert [s.bells for s in screens] == [2, 2]

        second.tables["overview"].cursor = "om"
        for key in ("c", "enter"):
            await two.press(key)
        await until(lambda: all(s.view is not None and s.view.org("om").acknowledged_by ==
                                "bert" for s in screens), within=10)
        await settled(screens, one, two)
        assert [s.mark() for s in screens] == ["ack", "ack"]

        clock[0] += 10
        await om_says(mosquitto, online(session=2, interval=INTERVAL),
                      heartbeat(session=2, seq=2, interval=INTERVAL))
        await until(lambda: all(s.view is not None and s.view.org("om").state is
                                OrgState.ONLINE for s in screens), within=10)
        clock[0] += RECOVERY + 1
        await settled(screens, one, two)
        assert all(s.view is not None and s.view.problem("org:om") is None for s in screens)
        assert [s.mark() for s in screens] == ["", ""]

        clock[0] += 10
        await om_says(mosquitto, offline(session=2, seq=9, cause="stopped"))
        await until(new_on_both, within=10)
        await settled(screens, one, two)
        assert [s.mark() for s in screens] == ["NEW", "NEW"]
        assert [s.bells for s in screens] == [3, 3]

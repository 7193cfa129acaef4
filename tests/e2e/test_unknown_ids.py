"""Ids the topology does not know, on a real broker without credentials: readings naming an
unknown link or backlog make their organisation INVALID, and organisations that are not in
the topology become one bounded line of the screen, never rows."""

from __future__ import annotations

import asyncio

from chain.engine import ChainEngine
from chain.strangers import MAX_DISTINCT
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from tests.chain import factory as f
from tests.conftest import until
from tui.app import KetenwachtApp
from tui.widgets.summary import ChainSummary

TOPICS = Topics()
FLOOD = 10_000


async def test_readings_of_unknown_links_and_backlogs_are_invalid_readings(
        mosquitto: BrokerAddress) -> None:
    """10 000 flow and backlog readings on om's own topics naming ids outside the topology
    (and one naming justid's end of a link): all counted as om's invalid readings, with the
    reason on screen."""
    engine = ChainEngine(load_topology(None))
    app = KetenwachtApp(engine, Monitor(mosquitto, TOPICS).run, broker_url=mosquitto.url)
    async with app.run_test() as pilot, make_client(mosquitto, identifier="om") as om:
        await om.publish(TOPICS.status("om"), encode(f.online(interval=60)), qos=1)
        for seq in range(2, 2 + FLOOD, 2):
            await om.publish(TOPICS.flow("om", f"nosuch-{seq}"), encode(
                f.flow(seq, link=f"nosuch-{seq}", seq=seq)))
            await om.publish(TOPICS.backlog("om", f"nosuch-{seq}"), encode(
                f.backlog(seq, process=f"nosuch-{seq}", seq=seq + 1)))
        forged_end = f.flow(5, link="om-justid", direction="received", seq=FLOOD + 2)
        await om.publish(TOPICS.flow("om", "om-justid"), encode(forged_end), qos=1)

        def all_counted() -> bool:
            """every reading counted as om's invalid reading"""
            return app.view is not None and app.view.org("om").invalid == FLOOD + 1

        await until(all_counted, within=60)
        await pilot.pause(0.3)
        om_view = app.view.org("om") if app.view else None
        assert om_view is not None and om_view.state is OrgState.INVALID
        assert "om-justid" in om_view.last_invalid and "receiver" in om_view.last_invalid
        assert app.view is not None and app.view.link("om-justid").received_total is None
        assert engine.view(app.view.at).rejected == FLOOD + 1


async def test_organisations_outside_the_topology_are_one_line_not_rows(
        mosquitto: BrokerAddress) -> None:
    """10 000 births of ids not in the topology: no row, one line with the first few ids,
    and the engine keeps at most MAX_DISTINCT of them."""
    engine = ChainEngine(load_topology(None))
    app = KetenwachtApp(engine, Monitor(mosquitto, TOPICS).run, broker_url=mosquitto.url)
    async with app.run_test() as pilot, make_client(mosquitto, identifier="spammer") as spam:
        await until(lambda: app.view is not None and app.view.monitor_connected, within=10)
        for n in range(FLOOD):
            await spam.publish(TOPICS.status(f"spam-{n}"), encode(f.online(org=f"spam-{n}")))
        # om's birth after them, from the same client: once it shows, all of them are in.
        await spam.publish(TOPICS.status("om"), encode(f.online()), qos=1)
        await until(lambda: app.view is not None
                    and app.view.org("om").state is OrgState.ONLINE, within=60)
        await asyncio.sleep(0.3)
        await pilot.pause(0.3)
        view = app.view
        assert view is not None
        assert len(view.orgs) == len(engine.topology.org_ids)
        assert view.count(OrgState.ONLINE) == 1
        assert len(engine.unknown.distinct) == MAX_DISTINCT
        line = str(app.query_one(ChainSummary).render())
        assert (f"10,000 messages from over {MAX_DISTINCT:,} unknown senders "
                "(spam-0, spam-1, spam-2, …)") in line

"""One organisation's credentials cannot change another's state: the broker drops a publish on
the other's topic, the state engine refuses a payload that names the other on one's own topic,
and the crisis-room screen shows neither, only the count of refused payloads."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics
from chain.views import OrgState
from chain.wire import Message, Status, encode
from ketenwacht.startup import load_topology
from mqtt.monitor import Monitor
from tests.chain import factory as f
from tests.conftest import until
from tests.e2e.secured import SecuredBroker
from tui.app import KetenwachtApp
from tui.widgets.state_table import StateTable
from tui.widgets.summary import ChainSummary

pytestmark = pytest.mark.asyncio(loop_scope="module")

GRACE = 0.3


async def test_om_cannot_change_justids_state_on_the_crisis_room_screen(
    secured: SecuredBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """justid ONLINE stays ONLINE on screen whatever om's credentials publish about it."""
    # The screen trusts the chain's CA the way the README tells an operator to.
    monkeypatch.setenv("SSL_CERT_FILE", str(secured.setup.ca_file))
    screen = secured.address_of("tui")
    app = KetenwachtApp(ChainEngine(load_topology(None)), Monitor(screen, Topics()).run,
                        broker_url=screen.url)
    async with (app.run_test() as pilot, secured.client("justid") as justid,
                secured.client("om") as om):

        def justid_online() -> bool:
            """justid ONLINE on screen"""
            view = app.view
            return view is not None and view.org("justid").state is OrgState.ONLINE

        # justid's own birth, on its own topic: accepted.
        birth = f.online("justid", session=5, seq=1, interval=60)
        await justid.publish("keten/v1/justid/status", encode(birth), qos=1)
        await until(justid_online, within=5)

        stop = encode(f.offline("justid", session=5, seq=2, cause="stopped"))
        await om.publish("keten/v1/justid/status", stop, qos=1)  # the broker drops it
        await om.publish("keten/v1/om/status", stop, qos=1)  # the engine refuses it
        await om.publish("keten/v1/om/status", encode(f.online("om", interval=60)), qos=1)

        def om_seen_and_forgery_counted() -> bool:
            """om's own birth arrived and one payload was refused, counted against om"""
            view = app.view
            return (view is not None and view.org("om").session == 1
                    and view.org("om").invalid >= 1)

        await until(om_seen_and_forgery_counted, within=5)
        await asyncio.sleep(GRACE)
        await pilot.pause(0.3)
        view = app.view
        assert view is not None
        assert view.org("justid").state is OrgState.ONLINE
        assert view.rejected == 1
        # The forger is flagged: its credentials sent a payload naming someone else.
        forger = view.org("om")
        assert forger.state is OrgState.INVALID
        assert "belongs on 'keten/v1/justid/status'" in forger.cause
        assert app.query_one("#orgs", StateTable).row("justid").text("state") == "● ONLINE"
        assert app.query_one("#orgs", StateTable).row("om").text("state") == "≠ INVALID"
        assert "1 payloads rejected" in str(app.query_one(ChainSummary).render())


async def test_the_engine_refuses_what_a_broker_let_through(
    secured: SecuredBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even the admin, who may write anywhere, cannot make a payload of om count for justid."""
    monkeypatch.setenv("SSL_CERT_FILE", str(secured.setup.ca_file))
    engine = ChainEngine(load_topology(None))
    screen = secured.address_of("tui")
    monitor = asyncio.create_task(Monitor(screen, Topics()).run(EngineSink(engine)))
    try:
        await until(lambda: engine.view(time.time()).monitor_connected, within=5)
        async with secured.client("admin") as admin:
            forged = encode(f.offline("om", session=9, seq=1, cause="stopped"))
            await admin.publish("keten/v1/justid/status", forged, qos=1)
            await until(lambda: engine.view(time.time()).rejected == 1, within=5)
        view = engine.view(time.time())
        # Nothing of the payload applies to either; the topic's owner shows what came on
        # its topic, as an invalid reading, since the topic is all that can be trusted.
        assert view.org("om").state is OrgState.UNKNOWN
        justid = view.org("justid")
        assert (justid.state, justid.invalid, justid.session) == (OrgState.INVALID, 1, None)
    finally:
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)


class StatusLog(EngineSink):
    """An engine sink that also keeps every status it was given, so a blip shows."""

    def __init__(self, engine: ChainEngine) -> None:
        super().__init__(engine)
        self.statuses: list[Status] = []

    def message_received(self, message: Message, *, received_at: float, retained: bool) -> None:
        if isinstance(message, Status):
            self.statuses.append(message)
        super().message_received(message, received_at=received_at, retained=retained)

    def states(self, org: str) -> list[str]:
        return [status.state for status in self.statuses if status.org == org]


async def test_another_organisation_cannot_take_over_an_agents_connection(
    secured: SecuredBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """justid's real agent, from the config `broker init` made, stays ONLINE when om logs in
    with the client id agents used to have (`ketenwacht-<org>-<session>`): brokers hand a
    client id to whoever asks last and send the Will of the connection they drop."""
    monkeypatch.setenv("SSL_CERT_FILE", str(secured.setup.ca_file))
    config = secured.setup.folder("justid") / "agent.toml"
    text = config.read_text()
    local = text.replace(f":{secured.setup.manifest.tls_port}\"", f":{secured.address.port}\"")
    copy = config.with_name(f"agent-{secured.name}.toml")
    copy.write_text(local)
    engine = ChainEngine(load_topology(None))
    screen = secured.address_of("tui")
    sink = StatusLog(engine)
    monitor = asyncio.create_task(Monitor(screen, Topics()).run(sink))
    agent = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ketenwacht", "agent", "--config", str(copy),
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        def justid_online() -> bool:
            """justid's agent ONLINE"""
            return engine.view(time.time()).org("justid").state is OrgState.ONLINE

        await until(justid_online, within=10)
        session = engine.view(time.time()).org("justid").session
        old_id = f"ketenwacht-justid-{session}"
        async with secured.client("om", identifier=old_id):
            await asyncio.sleep(GRACE * 2)
        await asyncio.sleep(GRACE * 2)
        assert justid_online()
        assert sink.states("justid") == ["online"]  # no Will "lost" came in between
    finally:
        agent.terminate()
        await agent.wait()
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)

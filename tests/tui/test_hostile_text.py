"""Terminal control sequences sent by an agent, an operator or a recording reach the screen
as visible escapes, never raw: tables, drill-down, log, header, banner."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from rich.console import Console
from textual.app import App

from chain.engine import ChainEngine
from chain.topics import Topics
from chain.topology import Topology
from chain.views import OrgState
from chain.wire import Annotation, Isolation, encode
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from playback.player import Player
from playback.replay import Replay
from recording.reader import Recording
from tests.chain import factory as f
from tests.conftest import until
from tests.hostile import HOSTILE, SHOWN, raw_controls
from tests.playback.test_replay import synthetic_recording
from tui.app import KetenwachtApp
from tui.playback import PlaybackApp
from tui.screens.org import OrgScreen

OBEYED = ("\x1b]52;", "\x1b]2;", "\x1b[2J", "\x9b", "\u202e", "\u202c")
"""What a terminal would act on, looked for in the bytes the app writes to it."""
SIZE = (300, 50)
"""Wide enough that no escaped field is cut short."""


def screen(app: App[None]) -> tuple[str, str]:
    """What the terminal is sent for the current screen, and the text it then shows. As
    `App.export_screenshot` renders it, but kept as terminal output and as text."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(),
                      force_terminal=True, color_system="truecolor", record=True,
                      legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True))
    sent = console.file.getvalue()  # type: ignore[attr-defined]
    return sent, console.export_text(styles=False)


def assert_inert(app: App[None], *, shows: int) -> None:
    """No hostile sequence in what the terminal is sent; the visible form `shows` times."""
    sent, text = screen(app)
    assert not [s for s in OBEYED if s in sent], [s for s in OBEYED if s in sent]
    assert raw_controls(text) == []
    assert min(text.count(part) for part in SHOWN) >= shows, text


def hostile_topology() -> Topology:
    """The seed chain with om's name, as a topology file could spell it, made hostile."""
    seed = load_topology(None)
    orgs = tuple(msgspec.structs.replace(o, name=f"OM {HOSTILE}") if o.id == "om" else o
                 for o in seed.organisations)
    return msgspec.structs.replace(seed, organisations=orgs)


async def test_wire_and_operator_text_shows_escaped_on_every_view(
    mosquitto: BrokerAddress,
) -> None:
    """Through a real broker: a channel detail, an annotation (text and author) and an
    isolation reason, and a hostile organisation name, on the overview, the log, the
    drill-down and its header: escaped where shown, never sent to the terminal raw."""
    engine = ChainEngine(hostile_topology())
    app = KetenwachtApp(engine, Monitor(mosquitto, Topics()).run, broker_url=mosquitto.url)
    now = datetime.now(UTC)
    async with app.run_test(size=SIZE) as pilot, make_client(mosquitto, identifier="om") as om:
        await until(lambda: app.view is not None and app.view.monitor_connected, within=5)
        await om.publish("keten/v1/om/status", encode(f.online(interval=30)), qos=1)
        await om.publish("keten/v1/om/heartbeat", encode(f.heartbeat(interval=30)), qos=1)
        email = msgspec.structs.replace(f.channel(up=False), detail=HOSTILE)
        await om.publish("keten/v1/om/channel/email", encode(email), qos=1)
        note = Annotation(id="a1", author=HOSTILE, ts=now, text=HOSTILE, org="om")
        isolation = Isolation(id="i1", author="duty officer", ts=now, org="cjib",
                              isolated=True, reason=HOSTILE)
        for op in (note, isolation):
            await om.publish(Topics().op(op), encode(op), qos=1)

        def all_arrived() -> bool:
            """om DEGRADED, cjib ISOLATED, the annotation in the log"""
            view = app.view
            return view is not None and view.org("om").state is OrgState.DEGRADED and (
                view.org("cjib").state is OrgState.ISOLATED) and any(
                e.text == HOSTILE for e in engine.log.entries)

        await until(all_arrived, within=5)
        await pilot.pause(0.5)
        assert_inert(app, shows=1)  # cjib's cause (om's name is cut short, escaped)
        await pilot.press("4")
        await pilot.pause(0.5)
        assert_inert(app, shows=2)  # the annotation, the isolation's reason
        app.open_org("om")
        await until(lambda: isinstance(app.screen, OrgScreen), within=3)
        await pilot.pause(0.5)
        assert_inert(app, shows=4)  # header, figures' name, channel detail, log


async def test_a_recording_under_a_hostile_name_shows_it_escaped_in_the_banner(
    tmp_path: Path,
) -> None:
    """A replay's banner names the recording: a file name with control sequences is shown
    escaped, on the main screen and in a drill-down."""
    topology = load_topology(None)
    path = synthetic_recording(tmp_path / "chain.sqlite", topology, 0.5)
    engine = ChainEngine(topology)
    with Recording(path) as opened:
        replay = Replay(Player(opened, engine, Topics()), speed=None, name=HOSTILE)

        async def feed(_: object) -> None:
            await replay.run()

        app = PlaybackApp(engine, feed, control=replay, broker_url="recording")
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: "END OF RECORDING" in str(app.banner.render()), within=30)
            await pilot.pause(0.3)
            assert_inert(app, shows=1)
            app.open_org("om")
            await until(lambda: isinstance(app.screen, OrgScreen), within=3)
            await pilot.pause(0.5)
            assert_inert(app, shows=1)

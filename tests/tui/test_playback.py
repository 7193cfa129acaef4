"""Replay on the screen: the banner, and the exercise leader's keys driving the player."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chain.engine import ChainEngine
from chain.topics import Topics
from chain.views import OrgState
from ketenwacht.startup import load_topology
from playback.player import Player
from playback.replay import Replay
from recording.reader import Recording
from tests.conftest import until
from tests.playback.test_replay import played_to, snapshot, synthetic_recording
from tui.playback import Banner, PlaybackApp
from tui.screens.org import OrgScreen


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_recording(tmp_path_factory.mktemp("rec") / "chain.sqlite",
                               load_topology(None), 2.5)


async def test_flat_out_to_the_end_then_seek_back_by_keyboard(recording: Path) -> None:
    """Played as fast as possible it stops at the end; `s` and a typed time seek back, and
    the screen then shows exactly what playing up to that moment shows."""
    engine = ChainEngine(load_topology(None))
    with Recording(recording) as opened:
        replay = Replay(Player(opened, engine, Topics()), speed=None, name="chain.sqlite")

        async def feed(_: object) -> None:
            await replay.run()

        app = PlaybackApp(engine, feed, control=replay, broker_url="recording")
        async with app.run_test(size=(120, 30)) as pilot:

            def ended() -> bool:
                """the banner says the recording ended"""
                return "END OF RECORDING" in str(app.banner.render())

            await until(ended, within=30)
            assert str(app.banner.render()).startswith("REPLAY")
            assert app.view is not None and app.view.org("om").state is OrgState.STALE
            target = float(int(opened.span.first_at) + 3600)
            shown = ZoneInfo(engine.topology.timezone)  # typed as the screen shows times
            typed = datetime.fromtimestamp(target, shown).strftime("%Y-%m-%d %H:%M:%S")
            await pilot.press("s")
            await pilot.press(*typed)
            await pilot.press("enter")

            def arrived() -> bool:
                """the seek is done"""
                return not replay.seeking and replay.player.position == target

            await until(arrived, within=10)
            assert snapshot(engine, target) == played_to(recording, target)
            await pilot.pause()
            assert app.view is not None and app.view.org("om").state is not OrgState.STALE
            assert app.view.org("om").seq_gaps == 0
            assert "PAUSED" in str(app.banner.render())

            await pilot.press("space")
            await pilot.press("plus")
            assert replay.clock.speed == 2.0 and not replay.clock.paused
            await pilot.press("left_square_bracket")
            await until(lambda: not replay.seeking, within=10)
            assert replay.player.position < target

            await pilot.press("s", *"next tuesday", "enter")
            await pilot.pause()
            assert any("not a moment" in str(n.message) for n in app._notifications)

            app.open_org("om")
            await pilot.pause()
            await pilot.pause(0.3)
            assert isinstance(app.screen, OrgScreen)
            assert app.screen.query(Banner), "the drill-down shows the banner too"


class CountingPlayback(PlaybackApp):
    """A replay's screen whose bell is counted."""

    bells = 0

    def bell(self) -> None:
        self.bells += 1


@pytest.mark.parametrize(("speed", "rings"), [(None, False), (3600.0, True)])
async def test_a_replay_rings_at_its_pace_but_not_flat_out(
        recording: Path, speed: float | None, rings: bool) -> None:
    """om goes dark two hours in: a new problem. Played at 3600x the screen rings for it as
    the room heard it; played flat out it rings for nothing, not even once it stops at the
    end (what it skipped past is no news), though the problem is there, new."""
    engine = ChainEngine(load_topology(None))
    with Recording(recording) as opened:
        replay = Replay(Player(opened, engine, Topics()), speed=speed, name="chain.sqlite")

        async def feed(_: object) -> None:
            await replay.run()

        app = CountingPlayback(engine, feed, control=replay, broker_url="recording")
        async with app.run_test(size=(120, 30)) as pilot:
            await until(lambda: "END OF RECORDING" in str(app.banner.render()), within=30)
            await pilot.pause(0.5)
            assert app.view is not None and app.view.problem("org:om") is not None
            assert app.view.problem("org:om").new  # type: ignore[union-attr]
            assert (app.bells > 0) is rings, app.bells

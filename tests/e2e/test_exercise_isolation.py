"""An exercise on the same broker as the live chain: players see it under the banner, on the
exercise's clock; the live screen sees nothing of it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.exercise import Exercise
from agents.scripted import ScriptedChain
from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.inbox import EngineSink
from chain.topics import Topics, exercise_root
from chain.views import OrgState
from ketenwacht.exercise import load_scenario
from ketenwacht.startup import load_topology
from mqtt.address import BrokerAddress
from mqtt.monitor import Monitor
from playback.following import ExerciseFollower, FollowingSink
from playback.republish import Republisher
from recording.reader import Recording
from recording.recorder import Recorder
from tests.agents.test_exercise import SCENARIO
from tests.conftest import until
from tests.playback.test_replay import synthetic_recording
from tui.playback import PlaybackApp


async def test_live_screen_sees_nothing_players_see_it_with_the_banner(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    topology = load_topology(None)
    scenario = load_scenario(SCENARIO, topology)
    topics = Topics(exercise_root(scenario.scenario.name))
    live = ChainEngine(topology)
    live_sink = EngineSink(live)
    recorded = tmp_path / "live.sqlite"
    async with Recorder(recorded) as recorder:
        watching = asyncio.create_task(
            Monitor(any_broker, Topics()).run(live_sink, record=recorder.record))
        exercise = Exercise(ScriptedChain(topology, scenario), any_broker, topics, scale=86_400)
        driving = asyncio.create_task(exercise.run())

        follower = ExerciseFollower(scenario.scenario.name)
        player = ChainEngine(topology)
        monitor = Monitor(any_broker, topics, clock=follower.now)

        async def feed(_: object) -> None:
            await monitor.run(FollowingSink(player, follower))

        app = PlaybackApp(player, feed, control=follower, broker_url=any_broker.url)
        try:
            async with app.run_test(size=(120, 30)) as pilot:

                def om_dark() -> bool:
                    """the player's screen shows om OFFLINE (day 1 of the scenario)"""
                    return app.view is not None and (
                        app.view.org("om").state is OrgState.OFFLINE
                    )

                await until(om_dark, within=20)
                banner = str(app.banner.render())
                assert banner.startswith("EXERCISE") and "NOT REAL" in banner
                assert "om-offline-2025" in banner
                assert app.title.startswith("Ketenwacht — EXERCISE")
                assert 1.0 <= (follower.now() - exercise.chain.start) / 86_400 < 30

                def injected() -> bool:
                    """the day-6 injects reached the player's crisis log"""
                    return any(e.kind is EntryKind.INJECT for e in player.log.entries)

                await until(injected, within=20)

                await pilot.press("space")  # a player cannot pause the exercise
                await pilot.pause()
                assert not exercise.clock.paused
                assert any("leader" in str(n.message) for n in app._notifications)
        finally:
            for task in (driving, watching):
                task.cancel()
            await asyncio.gather(driving, watching, return_exceptions=True)
    assert exercise.published > 500
    assert live_sink.received == 0 and live.rejected == 0
    assert recorder.written == 0
    assert all(o.state is OrgState.UNKNOWN for o in live.view(exercise.now()).orgs)


async def test_a_recording_replayed_into_the_broker_reaches_followers_only(
    any_broker: BrokerAddress, tmp_path: Path
) -> None:
    """Ten recorded minutes of the chain, flat out into the broker under an exercise root:
    a following screen gets every organisation ONLINE on the recording's clock; the live
    screen gets nothing."""
    topology = load_topology(None)
    path = synthetic_recording(tmp_path / "chain.sqlite", topology, 10 / 60)
    live = ChainEngine(topology)
    live_sink = EngineSink(live)
    watching = asyncio.create_task(Monitor(any_broker, Topics()).run(live_sink))
    follower = ExerciseFollower("drill")
    player = ChainEngine(topology)
    monitor = Monitor(any_broker, Topics(exercise_root("drill")), clock=follower.now)
    following = asyncio.create_task(monitor.run(FollowingSink(player, follower)))
    try:
        # Subscribed; the screen counts itself connected only once the clock tells when.
        await until(lambda: monitor.subscribed, within=5)
        with Recording(path) as recording:
            republisher = Republisher(recording, any_broker, recorded_root="keten/v1",
                                      target=Topics(exercise_root("drill")), speed=None,
                                      title="drill")
            await asyncio.wait_for(republisher.run(), timeout=60)
            rows = recording.span.last_id

        def all_online() -> bool:
            """every organisation ONLINE on the follower's screen"""
            view = player.view(follower.now())
            return all(o.state is OrgState.ONLINE for o in view.orgs)

        await until(all_online, within=10)
        assert republisher.published == rows and republisher.skipped == 0
        assert abs(follower.now() - recording.span.last_at) < 120
    finally:
        for task in (watching, following):
            task.cancel()
        await asyncio.gather(watching, following, return_exceptions=True)
    assert live_sink.received == 0

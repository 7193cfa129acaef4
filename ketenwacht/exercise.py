"""`ketenwacht exercise` (the leader) and `ketenwacht tui --exercise` (the players)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from agents.exercise import Exercise
from agents.scripted import ScriptedChain
from agents.session import default_state_dir
from broker.embedded import EmbeddedBroker
from chain.engine import ChainEngine
from chain.errors import ConfigError
from chain.inbox import EngineSink, MonitorSink
from chain.scenario import Scenario, parse_scenario
from chain.topics import Topics, exercise_root
from chain.topology import Topology
from ketenwacht.oversized import guarded
from ketenwacht.record import ExerciseDating, RecorderSink
from ketenwacht.startup import ALERTS, Alerts, cancel_on_signals, configure_logging
from mqtt.address import Brokers, describe
from mqtt.monitor import Monitor
from playback.following import ExerciseFollower, FollowingSink
from recording.recorder import Recorder

SUBSCRIBE_WITHIN = 10.0
"""Seconds the leader waits for the recorder's subscription before the exercise starts."""
POLL = 0.05
log = logging.getLogger("ketenwacht.exercise")


def load_scenario(path: Path, topology: Topology) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the scenario: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the scenario is not UTF-8 text") from None
    return parse_scenario(text, topology, origin=str(path))


async def lead(topology: Topology, scenario: Scenario, *, broker: Brokers | None,
               scale: float, headless: bool, record: Path | None,
               alerts: Alerts = ALERTS) -> None:
    """Run the scenario under its exercise root, on the embedded broker unless one is given;
    the leader's screen steers it and records everything it shows."""
    from tui.playback import PlaybackApp

    name = scenario.scenario.name
    topics = Topics(exercise_root(name))
    log_file = None if headless else default_state_dir() / "exercise.log"
    configure_logging(verbose=False, file=log_file)
    async with contextlib.AsyncExitStack() as stack:
        if broker is None:
            embedded = EmbeddedBroker(log_file=default_state_dir() / "exercise-broker.log")
            broker = ((await stack.enter_async_context(embedded)).address,)
        exercise = Exercise(ScriptedChain(topology, scenario), broker, topics, scale=scale)
        # Recorded by the same recorder, on the exercise's clock, with or without a screen.
        path = record or default_state_dir() / f"exercise-{name}.sqlite"
        recorder = await stack.enter_async_context(Recorder(path))
        store = await guarded(recorder, path)
        recording: asyncio.Task[None] | None = None
        if headless:
            monitor = Monitor(broker, topics, clock=exercise.now)
            recording = asyncio.create_task(
                monitor.run(RecorderSink(), record=ExerciseDating(exercise.now, store)),
                name="recording")
            await _subscribed(monitor, recording)
            exercise.clock.seek(exercise.chain.start, time.time())  # day 0 once recorded
        driving = asyncio.create_task(exercise.run(), name="exercise")
        try:
            if headless and recording is not None:
                print(f"exercise {name} under {topics.root} on {describe(broker)}, recorded "
                      f"in {path}; players run `ketenwacht tui --exercise {name} --broker URL` "
                      "(Ctrl-C stops it)", flush=True)
                cancel_on_signals(driving)
                try:
                    with contextlib.suppress(asyncio.CancelledError):
                        await driving
                finally:
                    recording.cancel()
                    await asyncio.gather(recording, return_exceptions=True)
                return
            engine = ChainEngine(topology)
            monitor = Monitor(broker, topics, clock=exercise.now)

            async def feed(_: MonitorSink) -> None:
                sink = EngineSink(engine, dated_by_sender=True)
                await monitor.run(sink, record=ExerciseDating(exercise.now, store))

            app = PlaybackApp(engine, feed, control=exercise, broker_url=describe(broker),
                              publish=monitor.publish_op, bell=alerts.bell,
                              notify=alerts.notify)
            await app.run_async()
        finally:
            driving.cancel()
            await asyncio.gather(driving, return_exceptions=True)


async def _subscribed(monitor: Monitor, recording: asyncio.Task[None]) -> None:
    """Until the recorder's monitor is subscribed (the exercise's first round is then in the
    recording), or has failed trying (its error says why)."""
    for _ in range(int(SUBSCRIBE_WITHIN / POLL)):
        if monitor.subscribed or recording.done():
            break
        await asyncio.sleep(POLL)
    if recording.done():
        recording.result()
    elif not monitor.subscribed:
        log.warning("the recorder could not subscribe within %.0f s; the exercise starts, and "
                    "is recorded from when the broker answers", SUBSCRIBE_WITHIN)


async def follow(topology: Topology, name: str, broker: Brokers, *,
                 alerts: Alerts = ALERTS) -> None:
    """A player's screen: the exercise's root only, on the exercise's clock."""
    from tui.playback import PlaybackApp

    topics = Topics(exercise_root(name))
    follower = ExerciseFollower(name, zone=topology.timezone)
    engine = ChainEngine(topology)
    monitor = Monitor(broker, topics, clock=follower.now)

    async def feed(_: MonitorSink) -> None:
        await monitor.run(FollowingSink(engine, follower))

    app = PlaybackApp(engine, feed, control=follower, broker_url=describe(broker),
                      publish=monitor.publish_op, bell=alerts.bell, notify=alerts.notify)
    await app.run_async()

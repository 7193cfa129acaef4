"""`ketenwacht replay`: a recording on the screen (virtual clock, keys), or indexed for seeking."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from pathlib import Path

from chain.engine import ChainEngine
from chain.topics import Topics, exercise_root
from chain.topology import Topology
from ketenwacht.startup import ALERTS, Alerts, cancel_on_signals, warn
from mqtt.address import Brokers, describe
from playback.indexer import build_index, index_needed
from playback.player import Player
from playback.replay import Replay
from playback.republish import Republisher
from recording.checkpoints import CheckpointStore
from recording.reader import Recording


def index(topology: Topology, path: Path, root: str | None, *, quiet: bool) -> int:
    with Recording(path) as recording:
        topics = Topics(root or recording.topic_root())

        def progress(done: float, played: int) -> None:
            print(f"\rindexing {path.name}: {done:6.1%}  ({played:,} messages)", end="",
                  file=sys.stderr, flush=True)

        played = build_index(recording, topology, topics, None if quiet else progress)
    if not quiet:
        print(f"\nindexed {path.name}: {played:,} messages played; seeking is instant now",
              file=sys.stderr)
    _warn_about(recording)
    return 0


async def on_screen(topology: Topology, path: Path, root: str | None,
                    speed: float | None, *, alerts: Alerts = ALERTS) -> None:
    """The recording in the TUI. While checkpoints are missing, an indexer process makes them
    (one writer), and seeks use what it has made so far."""
    from tui.playback import PlaybackApp

    with Recording(path) as recording:
        topics = Topics(root or recording.topic_root())
        store = CheckpointStore(path, recording.identity, topology)
        indexer = None
        if index_needed(recording, store):
            indexer = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ketenwacht", "replay", str(path), "--index", "--quiet",
                *(["--root", root] if root else []),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
        engine = ChainEngine(topology)
        replay = Replay(Player(recording, engine, topics, store=store), speed=speed,
                        name=f"{path.name} ({topics.root})")

        async def feed(_: object) -> None:
            await replay.run()

        app = PlaybackApp(engine, feed, control=replay, broker_url=f"recording {path.name}",
                          bell=alerts.bell, notify=alerts.notify)
        try:
            await app.run_async()
        finally:
            if indexer is not None and indexer.returncode is None:
                indexer.terminate()
                with contextlib.suppress(ProcessLookupError):
                    await indexer.wait()
            store.close()
    _warn_about(recording)  # after the screen, where it can be read


async def into_broker(path: Path, brokers: Brokers, *, root: str | None, name: str | None,
                      speed: float | None) -> None:
    """The recording published under `keten-exercise/<name>/v1` for a room of screens."""
    with Recording(path) as recording:
        recorded_root = root or recording.topic_root()
        name = name or _name_of(path)
        target = Topics(exercise_root(name))
        republisher = Republisher(recording, brokers, recorded_root=recorded_root,
                                  target=target, speed=speed, title=f"replay of {path.name}")
        print(f"replaying {path.name} ({recorded_root}) into {describe(brokers)} under "
              f"{target.root}; "
              f"screens follow with `ketenwacht tui --exercise {name} --broker URL`",
              file=sys.stderr, flush=True)
        task = asyncio.create_task(republisher.run())
        cancel_on_signals(task)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        print(f"published {republisher.published:,} messages"
              + (f", skipped {republisher.skipped:,}" if republisher.skipped else ""),
              file=sys.stderr)
    _warn_about(recording)


def _warn_about(recording: Recording) -> None:
    """What was skipped or ignored in reading (damaged rows, unknown columns)."""
    for line in recording.warnings():
        warn(line)


def _name_of(path: Path) -> str:
    stem = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-_") or "recording"
    return f"replay-{stem}"[:64]

"""Checkpoints: typed data that restores the very engine, and that no file can turn into code."""

from __future__ import annotations

import pickle
import random
import sqlite3
import zlib
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from chain.engine import ChainEngine
from chain.errors import ConfigError
from chain.topics import Topics
from ketenwacht.startup import load_topology
from playback.indexer import build_index
from playback.player import Player
from recording.checkpoints import CheckpointStore, freeze, store_path, thaw
from recording.reader import Recording
from tests.playback.test_replay import played_to, snapshot, synthetic_recording


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_recording(tmp_path_factory.mktemp("rec") / "chain.sqlite",
                               load_topology(None), 3)


def engine_played(path: Path, hours: float) -> ChainEngine:
    with Recording(path) as opened:
        player = Player(opened, ChainEngine(load_topology(None)), Topics())
        player.advance(opened.span.first_at + hours * 3600)
        return player.engine


def state_of(value: Any, seen: set[int] | None = None) -> Any:
    """Everything an object graph holds, as plain data: what a restore must reproduce."""
    seen = set() if seen is None else seen
    if isinstance(value, str | int | float | bool | bytes | type(None)):
        return value
    if isinstance(value, dict):
        return [(state_of(k, seen), state_of(v, seen)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [state_of(item, seen) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(repr(item) for item in value)
    if id(value) in seen:
        return "<seen>"
    seen.add(id(value))
    if isinstance(value, deque):
        return [state_of(item, seen) for item in value]
    names = [*getattr(value, "__dict__", {})]
    for klass in type(value).__mro__:
        names.extend(n for n in getattr(klass, "__slots__", ()) if n not in names)
    if not names:
        return repr(value)
    return (type(value).__name__,
            [(name, state_of(getattr(value, name), seen)) for name in sorted(set(names))
             if hasattr(value, name)])


def code_running_pickle(marker: Path) -> bytes:
    """The reported attack: a protocol-4 dotted name reaches FunctionType and CodeType
    through a module of the core, and the code they build runs while the file is loaded."""
    source = compile(f"open({str(marker)!r}, 'w').write('ran')", "<attack>", "exec")
    code_args = (source.co_argcount, source.co_posonlyargcount, source.co_kwonlyargcount,
                 source.co_nlocals, source.co_stacksize, source.co_flags, source.co_code,
                 source.co_consts, source.co_names, source.co_varnames, source.co_filename,
                 source.co_name, source.co_qualname, source.co_firstlineno,
                 source.co_linetable, source.co_exceptiontable, source.co_freevars,
                 source.co_cellvars)

    def global_(module: str, name: str) -> bytes:
        return b"".join(b"\x8c" + bytes([len(part)]) + part.encode()
                        for part in (module, name)) + b"\x93"

    args = pickle.dumps(code_args, protocol=3)[2:-1]  # without PROTO and STOP
    return (b"\x80\x04" + global_("chain.wire", "decode.__class__")
            + global_("chain.wire", "decode.__code__.__class__") + args + b"R"
            + b"}" + b"\x86" + b"R" + b")" + b"R" + b".")


def test_the_reported_attack_runs_nothing_and_the_replay_plays_from_the_start(
        recording: Path, tmp_path: Path) -> None:
    """Checkpoints replaced by a pickle that runs code when unpickled: nothing runs, each is
    refused, and a seek lands exactly where playing from the start lands."""
    marker = tmp_path / "ran"
    attack = zlib.compress(code_running_pickle(marker))
    pickle.loads(zlib.decompress(attack))  # the payload is live: plain pickle runs it
    assert marker.exists()
    marker.unlink()
    topology = load_topology(None)
    with Recording(recording) as opened:
        build_index(opened, topology, Topics())
        store = CheckpointStore(recording, opened.identity, topology)
        with sqlite3.connect(store.path) as db:
            assert db.execute("UPDATE checkpoints SET state = ?", (attack,)).rowcount > 0
        with pytest.raises(ConfigError, match="damaged checkpoint"):
            thaw(attack, topology)
        player = Player(opened, ChainEngine(topology), Topics(), store=store)
        at = opened.span.first_at + 2.5 * 3600
        player.seek(at)
        assert not marker.exists()
        assert snapshot(player.engine, at) == played_to(recording, at, steps=1)


def test_a_restored_engine_is_the_engine_that_was_frozen(recording: Path) -> None:
    """Every field of every part survives freeze and thaw (a field a snapshot forgets fails
    here), and freezing the restored engine gives the same bytes."""
    engine = engine_played(recording, 2.5)
    frozen = freeze(engine)
    restored = thaw(frozen, engine.topology)
    assert state_of(restored) == state_of(engine)
    assert freeze(restored) == frozen
    at = engine.log.entries[-1].at + 600
    assert snapshot(restored, at) == snapshot(engine, at)


def test_a_fuzzed_checkpoint_is_refused_in_one_line_or_restores_an_engine(
        recording: Path) -> None:
    """Flipped bytes, before and after compression: thaw either refuses with one line or
    gives an engine that can be evaluated; nothing else escapes."""
    engine = engine_played(recording, 2.5)
    topology = engine.topology
    raw = zlib.decompress(freeze(engine))
    rng = random.Random(16)
    refused = restored = 0
    lines: set[int] = set()
    for trial in range(400):
        damaged = bytearray(raw if trial % 2 else zlib.compress(raw, 1))
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        blob = zlib.compress(bytes(damaged), 1) if trial % 2 else bytes(damaged)
        try:
            thawed = thaw(blob, topology)
        except ConfigError as error:
            lines.add(str(error).count("\n"))
            refused += 1
            continue
        thawed.evaluate(engine.log.entries[-1].at + 600)
        restored += 1
    assert refused > 0 and restored > 0, (refused, restored)
    assert lines == {0}


def test_checkpoints_that_came_with_a_recording_are_never_read(
        recording: Path, tmp_path: Path) -> None:
    """A `.checkpoints` file beside a recording handed over is ignored: a player reads only
    this machine's cache, kept per recording and per topology."""
    topology = load_topology(None)
    copy = tmp_path / "handed-over.sqlite"
    copy.write_bytes(recording.read_bytes())
    beside = copy.with_name(copy.name + ".checkpoints")
    beside.write_bytes(b"whatever came with it")
    with Recording(copy) as opened:
        store = CheckpointStore(copy, opened.identity, topology)
        assert store.path != beside
        assert store.path == store_path(copy, store.path.parent)
        assert store.latest_slot() is None
        build_index(opened, topology, Topics())
        assert store.latest_slot() is not None
        assert beside.read_bytes() == b"whatever came with it"


def test_a_cache_file_that_is_not_a_database_is_made_anew(recording: Path) -> None:
    """A damaged checkpoint cache neither stops the indexer nor a player: it is rebuilt."""
    topology = load_topology(None)
    with Recording(recording) as opened:
        store = CheckpointStore(recording, opened.identity, topology)
        store.path.parent.mkdir(parents=True, exist_ok=True)
        store.path.write_bytes(b"\0garbage" * 512)
        assert store.latest_slot() is None
        assert build_index(opened, topology, Topics()) > 0
        assert CheckpointStore(recording, opened.identity, topology).latest_slot() is not None

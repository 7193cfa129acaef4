"""The embedded broker keeps persistent sessions across restarts (a recorder's), holds what
arrives for them while they are away, delivers it unflagged, and bounds it."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiomqtt
import pytest

from broker.connection import make_client
from broker.embedded import EmbeddedBroker
from broker.limits import EXPIRY
from broker.session_store import read_sessions, write_sessions

RECORDER = "ketenwacht-recorder-test"


async def received(client: aiomqtt.Client, within: float = 1.0) -> list[tuple[bytes, bool]]:
    """(payload, retain) of everything that arrives within `within` seconds."""
    found: list[tuple[bytes, bool]] = []
    try:
        async with asyncio.timeout(within):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                found.append((message.payload, message.retain))
    except TimeoutError:
        pass
    return found


async def subscribe_as_recorder(broker: EmbeddedBroker) -> None:
    async with make_client(broker.address, identifier=RECORDER, clean_session=False) as client:
        await client.subscribe("keten/v1/#", qos=1)


async def publish(broker: EmbeddedBroker, *payloads: bytes) -> None:
    async with make_client(broker.address, identifier="om") as client:
        for payload in payloads:
            await client.publish("keten/v1/om/flow/om-justid", payload, qos=1)


def test_sessions_file_missing_expired_and_unreadable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No file: none. Expired sessions are left out. A file that is not ours is set aside
    with one warning naming it, and nothing is restored."""
    path = tmp_path / "sessions.json"
    assert read_sessions(path, now=0.0) == {}
    write_sessions(path, {"old": {"subscriptions": {"k/#": 1}, "seen": 0.0},
                          "new": {"subscriptions": {"k/#": 1}, "seen": EXPIRY}})
    assert list(read_sessions(path, now=EXPIRY + 1)) == ["new"]
    path.write_text('{"rec": {"subscriptions": {"k/#": 7}, "seen": 1}}')
    with caplog.at_level(logging.WARNING, logger="ketenwacht.sessions"):
        assert read_sessions(path, now=0.0) == {}
    assert not path.exists() and (tmp_path / "sessions.json.unreadable").exists()
    assert "sessions.json: not a sessions file (session 'rec' is malformed)" in caplog.text


async def test_session_outlives_a_restart_and_gets_what_was_held_unflagged(
    tmp_path: Path
) -> None:
    """Subscribed, broker stopped and started again, readings published: the recorder
    returns to them, each once and not flagged retained (amqtt flags them)."""
    sessions = tmp_path / "sessions.json"
    async with EmbeddedBroker(sessions=sessions) as first:
        await subscribe_as_recorder(first)
        port = first.address.port
    assert json.loads(sessions.read_text())[RECORDER]["subscriptions"] == {"keten/v1/#": 1}
    async with EmbeddedBroker(port=port, sessions=sessions) as second:
        await publish(second, b"1", b"2", b"3")
        async with make_client(second.address, identifier=RECORDER,
                               clean_session=False) as recorder:
            assert recorder.session_present
            assert await received(recorder) == [(b"1", False), (b"2", False), (b"3", False)]


async def test_a_clean_connect_with_the_same_id_ends_the_session(tmp_path: Path) -> None:
    """Connecting clean under the recorder's id forgets its session: after a restart nothing
    is held for it any more."""
    sessions = tmp_path / "sessions.json"
    async with EmbeddedBroker(sessions=sessions) as first:
        await subscribe_as_recorder(first)
        async with make_client(first.address, identifier=RECORDER):
            pass
        await asyncio.sleep(0.1)  # the plugin saves on the connect event
        port = first.address.port
    assert RECORDER not in json.loads(sessions.read_text())
    async with EmbeddedBroker(port=port, sessions=sessions) as second:
        await publish(second, b"1")
        async with make_client(second.address, identifier=RECORDER,
                               clean_session=False) as recorder:
            assert not recorder.session_present
            assert await received(recorder, within=0.5) == []


async def test_what_is_held_is_bounded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """More than MAX_HELD while away: the oldest MAX_HELD are delivered, one warning."""
    monkeypatch.setattr("broker.amqtt_broker.MAX_HELD", 3)
    async with EmbeddedBroker() as broker:
        await subscribe_as_recorder(broker)
        with caplog.at_level(logging.WARNING, logger="ketenwacht.sessions"):
            await publish(broker, *(str(n).encode() for n in range(1, 7)))
            await asyncio.sleep(0.2)
        async with make_client(broker.address, identifier=RECORDER,
                               clean_session=False) as recorder:
            assert [payload for payload, _ in await received(recorder)] == [b"1", b"2", b"3"]
    assert caplog.text.count("has been away for 3 messages") == 1

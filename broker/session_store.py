"""Persistent sessions for the embedded broker: kept on disk, restored at start.

amqtt keeps a persistent (clean_session false) session only in memory, so after a restart
it no longer knows that a recorder had subscribed, and drops what agents publish until the
recorder is back. This plugin writes each persistent session's subscriptions to a small JSON
file whenever they change and subscribes them again, as offline sessions, when the broker
starts: what is published before the recorder returns is then held for it, as Mosquitto
does with `persistence true`. The messages held are kept in memory only (Mosquitto writes
its own at each autosave).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from amqtt.plugins.base import BasePlugin

from broker.limits import EXPIRY

log = logging.getLogger("ketenwacht.sessions")

REFRESH_EVERY: Final = 3600.0
"""Seconds between saves that note connected clients as seen, so a recorder connected for
longer than EXPIRY is not taken for a retired one after a crash of the broker."""

Sessions = dict[str, dict[str, Any]]
"""client id -> {"subscriptions": {filter: qos}, "seen": wall-clock time}."""


def read_sessions(path: Path, *, now: float) -> Sessions:
    """The sessions in `path` not yet expired at `now`; a file that is not what this module
    writes is set aside (renamed *.unreadable) with one warning, and none are restored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        log.warning("%s: cannot read the broker's sessions (%s); starting without them",
                    path, error.strerror or error)
        return {}
    try:
        found = _checked(json.loads(text))
    except (ValueError, TypeError) as error:
        aside = path.with_name(path.name + ".unreadable")
        try:
            os.replace(path, aside)
            kept = f"set aside as {aside.name}"
        except OSError as cannot:
            kept = f"left in place ({cannot.strerror or cannot})"
        log.warning("%s: not a sessions file (%s); %s, starting without them",
                    path, error, kept)
        return {}
    return {client: session for client, session in found.items()
            if now - session["seen"] <= EXPIRY}


def _checked(data: object) -> Sessions:
    if not isinstance(data, dict):
        raise TypeError("expected an object of sessions")
    for client, session in data.items():
        subscriptions = session.get("subscriptions") if isinstance(session, dict) else None
        if (not isinstance(subscriptions, dict)
                or not all(isinstance(q, int) and q in (0, 1, 2) for q in subscriptions.values())
                or not isinstance(session.get("seen"), int | float)):
            raise TypeError(f"session {client!r} is malformed")
    return data


def write_sessions(path: Path, sessions: Sessions) -> None:
    """Replace the file in one step (write aside, flush to disk, rename)."""
    aside = path.with_name(path.name + ".new")
    with aside.open("w", encoding="utf-8") as out:
        json.dump(sessions, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(aside, path)


class PersistentSessions(BasePlugin):  # type: ignore[misc]
    @dataclass
    class Config:
        file: str

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.path = Path(self.config.file)
        self.sessions: Sessions = {}
        self._connected: set[str] = set()
        self._refresh: asyncio.Task[None] | None = None

    async def on_broker_post_start(self) -> None:
        self.sessions = read_sessions(self.path, now=time.time())
        for client_id, session in self.sessions.items():
            await self.context.add_subscription(client_id, None, None)
            for topic_filter, qos in session["subscriptions"].items():
                await self.context.add_subscription(client_id, topic_filter, qos)
            restored = self.context.get_session(client_id)
            if restored is not None:
                restored.clean_session = False
        if self.sessions:
            log.info("restored %d persistent session(s) from %s", len(self.sessions), self.path)
        self._refresh = asyncio.create_task(self._refresh_forever())

    async def on_broker_pre_shutdown(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            if self._connected:
                self._save()

    async def on_broker_client_connected(self, client_id: str, client_session: Any) -> None:
        if client_session.clean_session is False:
            self._connected.add(client_id)
            self._touch(client_id)
            self._save()
        elif self.sessions.pop(client_id, None) is not None:
            self._save()  # a clean connect with the same id ends the persistent session

    async def on_broker_client_disconnected(self, client_id: str, client_session: Any) -> None:
        self._connected.discard(client_id)
        if client_id in self.sessions:
            self._touch(client_id)
            self._save()

    async def on_broker_client_subscribed(self, client_id: str, topic: str, qos: int) -> None:
        session = self.context.get_session(client_id)
        if session is None or session.clean_session is not False:
            return
        subscriptions = self._touch(client_id)["subscriptions"]
        subscriptions[topic] = qos
        self._save()

    async def on_broker_client_unsubscribed(self, client_id: str, topic: str) -> None:
        session = self.sessions.get(client_id)
        if session is not None and session["subscriptions"].pop(topic, None) is not None:
            self._save()

    def _touch(self, client_id: str) -> dict[str, Any]:
        session = self.sessions.setdefault(client_id, {"subscriptions": {}, "seen": 0.0})
        session["seen"] = time.time()
        return session

    def _save(self) -> None:
        now = time.time()
        for client_id in self._connected & self.sessions.keys():
            self.sessions[client_id]["seen"] = now
        try:
            write_sessions(self.path, self.sessions)
        except OSError as error:
            log.error("%s: cannot save the broker's sessions: %s (a restart will forget them)",
                      self.path, error.strerror or error)

"""An amqtt plugin that makes the embedded broker enforce the files `broker init` wrote for
Mosquitto: the password file (`$7$` hashes) and the ACL.

amqtt differs from Mosquitto in two places that matter here, and this plugin closes both:
it publishes a client's Last Will without any topic check, so the Will is checked against
the ACL at connect; and it sends retained messages to a new subscription without checking
each one, so a subscription must lie wholly inside what the user may read (Mosquitto grants
any subscription and filters each delivery instead).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from broker.acl import Policy, parse_acl
from broker.passwords import parse_password_file, verify_password

log = logging.getLogger("ketenwacht.access")


class _AccessFiles:
    """The password file and ACL, read again whenever either changes on disk, so a rotated
    credential stops working at the next connect without a restart (Mosquitto needs SIGHUP)."""

    def __init__(self, password_file: Path, acl_file: Path) -> None:
        self.password_file = password_file
        self.acl_file = acl_file
        self._stamp: tuple[int, int] | None = None
        self.passwords: dict[str, str] = {}
        self.policy = Policy({})
        self.refresh()

    def refresh(self) -> None:
        stamp = (os.stat(self.password_file).st_mtime_ns, os.stat(self.acl_file).st_mtime_ns)
        if stamp == self._stamp:
            return
        self.passwords = parse_password_file(
            self.password_file.read_text(), str(self.password_file)
        )
        self.policy = Policy(parse_acl(self.acl_file.read_text(), str(self.acl_file)))
        self._stamp = stamp


class AccessControlPlugin(BaseAuthPlugin, BaseTopicPlugin):  # type: ignore[misc]
    """Authentication and topic checks in one object, so both read the same files."""

    @dataclass
    class Config:
        password_file: str
        acl_file: str

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.files = _AccessFiles(Path(self.config.password_file), Path(self.config.acl_file))

    async def authenticate(self, *, session: Any) -> bool:
        try:
            self.files.refresh()
        except Exception:  # a half-written file must not crash the broker; refuse instead
            log.exception("cannot read the access files; refusing the connection")
            return False
        username, password = session.username, session.password
        hashed = self.files.passwords.get(username) if username else None
        if hashed is None or not verify_password(password or "", hashed):
            log.info("refused %s: unknown user or wrong password", session.client_id)
            return False
        if session.will_flag and not self.files.policy.may_write(username, session.will_topic):
            log.info("refused %s (%s): Last Will on %s is not theirs to write",
                     session.client_id, username, session.will_topic)
            return False
        return True

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Any = None
    ) -> bool:
        username = session.username if session is not None else None
        if topic is None:
            return False
        policy = self.files.policy
        if action == Action.PUBLISH:
            allowed = policy.may_write(username, topic)
        elif action == Action.SUBSCRIBE:
            allowed = policy.may_subscribe(username, topic)
        elif action == Action.RECEIVE:
            allowed = policy.may_read(username, topic)
        else:
            allowed = False
        return allowed


class LoopbackAuth(BaseAuthPlugin):  # type: ignore[misc]
    """Everyone may connect: the embedded broker without credentials binds loopback only.

    Not amqtt's AnonymousAuthPlugin, which marks every session anonymous; amqtt holds
    nothing for an anonymous persistent session while it is away."""

    async def authenticate(self, *, session: Any) -> bool:
        return True

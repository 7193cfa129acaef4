"""Who may write and read which topics: the roles of the security model, as a Mosquitto ACL
file (and, in broker/nats_conf.py, as NATS permissions), and that file read back to check it.

Each user gets its own `user` block of explicit topics. There are no `pattern ... %u` lines:
with those, every account in the password file (the recorder too) would get a writable
subtree named after itself.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from chain.errors import ConfigError, UsageError
from chain.topics import OPS, exercise_root

MAX_USERNAME: Final = 64
FORBIDDEN_IN_USERNAME: Final = "/+#:"
"""Topic separators and wildcards (an identity must never be able to stand for a subtree in
a topic or an ACL line) and the password file's separator."""

EXERCISES: Final = exercise_root("+")


class Role(enum.StrEnum):
    ORG = "org"
    TUI = "tui"
    RECORDER = "recorder"
    REPLAY = "replay"


class Access(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


@dataclass(frozen=True)
class Grant:
    access: Access
    pattern: str

    @property
    def reads(self) -> bool:
        return self.access is not Access.WRITE

    @property
    def writes(self) -> bool:
        return self.access is not Access.READ


def check_username(name: str, where: str) -> str:
    """Refuse a name that could not be an MQTT identity of ours; `where` names its origin."""
    if not name:
        raise UsageError(f"{where}: a username cannot be empty")
    if len(name) > MAX_USERNAME:
        raise UsageError(f"{where}: username {name!r} is longer than {MAX_USERNAME} characters")
    bad = sorted({c for c in name if c in FORBIDDEN_IN_USERNAME})
    if bad:
        raise UsageError(
            f"{where}: username {name!r} contains {' '.join(repr(c) for c in bad)}: "
            "'/', '+' and '#' have a meaning in topics and ':' in the password file"
        )
    if any(not c.isprintable() or c.isspace() for c in name):
        raise UsageError(f"{where}: username {name!r} contains a space or a control character")
    return name


def grants(role: Role, username: str, root: str) -> list[Grant]:
    """The least each identity needs: an agent only its own subtree, the screens the live root
    and every exercise root, writing only operator actions; replay only exercise roots."""
    match role:
        case Role.ORG:
            return [Grant(Access.WRITE, f"{root}/{username}/#"),
                    Grant(Access.READ, f"{root}/{username}/#")]
        case Role.TUI:
            return [Grant(Access.READ, f"{root}/#"), Grant(Access.WRITE, f"{root}/{OPS}/#"),
                    Grant(Access.READ, f"{EXERCISES}/#"),
                    Grant(Access.WRITE, f"{EXERCISES}/{OPS}/#")]
        case Role.RECORDER:
            return [Grant(Access.READ, f"{root}/#"), Grant(Access.READ, f"{EXERCISES}/#")]
        case Role.REPLAY:
            return [Grant(Access.READWRITE, f"{EXERCISES}/#")]


def render_acl(users: Iterable[tuple[str, Role]], root: str) -> str:
    lines = [
        "# Ketenwacht ACL, made by `ketenwacht broker init`. One block per user; a user not",
        "# listed here may do nothing. Read by Mosquitto and by `ketenwacht broker --config`.",
    ]
    for name, role in users:
        lines += ["", f"# {role.value}", f"user {name}"]
        lines += [f"topic {g.access.value} {g.pattern}" for g in grants(role, name, root)]
    return "\n".join(lines) + "\n"


def parse_acl(text: str, origin: str) -> dict[str, list[Grant]]:
    """The subset of Mosquitto's ACL syntax we write. Anything else is refused rather than
    ignored, so what is read back is what Mosquitto enforces."""
    users: dict[str, list[Grant]] = {}
    current: list[Grant] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{origin}:{number}"
        keyword, _, rest = line.partition(" ")
        rest = rest.strip()
        if keyword == "user" and rest:
            try:
                check_username(rest, where)
            except UsageError as error:
                raise ConfigError(str(error)) from None
            current = users.setdefault(rest, [])
        elif keyword == "topic" and rest:
            if current is None:
                raise ConfigError(f"{where}: a topic line before any user line (anonymous "
                                  "access) is not supported")
            current.append(_grant(rest, where))
        else:
            raise ConfigError(f"{where}: expected 'user NAME' or 'topic [read|write|readwrite] "
                              f"TOPIC', got {line!r}")
    return users


def _grant(rest: str, where: str) -> Grant:
    first, _, pattern = rest.partition(" ")
    pattern = pattern.strip()
    if not pattern:
        access, pattern = Access.READWRITE, first  # Mosquitto's default
    elif first in Access.__members__.values():
        access = Access(first)
    else:
        raise ConfigError(f"{where}: access must be read, write or readwrite, got {first!r}")
    if not valid_filter(pattern):
        raise ConfigError(f"{where}: {pattern!r} is not a valid topic filter")
    return Grant(access, pattern)


def valid_filter(pattern: str) -> bool:
    levels = pattern.split("/")
    return bool(pattern) and "\0" not in pattern and all(
        level in ("+", "#") or ("+" not in level and "#" not in level) for level in levels
    ) and "#" not in levels[:-1]

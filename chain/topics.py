"""Topic names of wire contract v1 and the check that a payload fits the topic it came on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from chain.errors import PayloadError, UsageError
from chain.wire import (
    ID_PATTERN,
    BacklogGauge,
    ChannelReading,
    Control,
    ExerciseClock,
    FlowCounter,
    Heartbeat,
    Isolation,
    Message,
    Op,
    Payload,
    Status,
)

DEFAULT_ROOT: Final = "keten/v1"
OPS: Final = "_ops"
CONTROL: Final = "_exercise"
EXERCISE_PREFIX: Final = "keten-exercise/"
MAX_TOPIC_LENGTH: Final = 512
_ID: Final = re.compile(ID_PATTERN)
_HOSTILE: Final = re.compile("[+#\0\ufffd]")
"""Wildcards and NUL have no place in a published topic; U+FFFD stands for what could not
be read as UTF-8 (see mqtt/aiomqtt_internals.py)."""


def exercise_root(name: str) -> str:
    return f"keten-exercise/{name}/v1"


@dataclass(frozen=True)
class Topics:
    root: str = DEFAULT_ROOT

    def __post_init__(self) -> None:
        if not self.root or any(c in self.root for c in "+#\0") or self.root.endswith("/"):
            raise UsageError(f"topic root {self.root!r}: no wildcards, no trailing '/'")

    def status(self, org: str) -> str:
        return f"{self.root}/{org}/status"

    def heartbeat(self, org: str) -> str:
        return f"{self.root}/{org}/heartbeat"

    def channel(self, org: str, channel: str) -> str:
        return f"{self.root}/{org}/channel/{channel}"

    def flow(self, org: str, link: str) -> str:
        return f"{self.root}/{org}/flow/{link}"

    def backlog(self, org: str, process: str) -> str:
        return f"{self.root}/{org}/backlog/{process}"

    def of(self, message: Message) -> str:
        """The topic a message belongs on."""
        match message:
            case Status():
                return self.status(message.org)
            case Heartbeat():
                return self.heartbeat(message.org)
            case ChannelReading():
                return self.channel(message.org, message.channel)
            case FlowCounter():
                return self.flow(message.org, message.link)
            case BacklogGauge():
                return self.backlog(message.org, message.process)

    def op(self, op: Op) -> str:
        """Isolations are state, one retained topic per organisation; the rest are events."""
        kind = type(op).__struct_config__.tag
        if isinstance(op, Isolation):
            return f"{self.root}/{OPS}/{kind}/{op.org}"
        return f"{self.root}/{OPS}/{kind}/{op.id}"

    def check_op(self, topic: str, op: Op) -> None:
        expected = self.op(op)
        if topic != expected:
            raise PayloadError(f"topic {topic!r}: this operator action belongs on {expected!r}")

    @property
    def everything(self) -> str:
        return f"{self.root}/#"

    @property
    def is_exercise(self) -> bool:
        return self.root.startswith(EXERCISE_PREFIX)

    def clock(self) -> str:
        return f"{self.root}/{CONTROL}/clock"

    def inject(self, inject_id: str) -> str:
        return f"{self.root}/{CONTROL}/inject/{inject_id}"

    def check_control(self, topic: str, control: Control) -> None:
        expected = self.clock() if isinstance(control, ExerciseClock) else self.inject(
            control.id)
        if topic != expected:
            raise PayloadError(f"topic {topic!r}: this exercise message belongs on {expected!r}")

    def org_of(self, topic: str) -> str | None:
        """The organisation a topic belongs to, to whom a bad payload on it is counted: the
        level after the root, if the topic is well formed and that level is an id. None for
        anything else (too long, wildcards, `_ops`, another root): no one to blame."""
        if len(topic) > MAX_TOPIC_LENGTH or _HOSTILE.search(topic):
            return None
        if not topic.startswith(f"{self.root}/"):
            return None
        head = topic.removeprefix(f"{self.root}/").partition("/")[0]
        return head if _ID.match(head) else None

    def check(self, topic: str, payload: Payload) -> None:
        """Refuse a payload whose part of the contract, org or kind does not match the topic
        it arrived on: readings on an organisation's topics, operator actions under `_ops`,
        exercise control under `_exercise` of an exercise root only."""
        if len(topic) > MAX_TOPIC_LENGTH:
            raise PayloadError(f"topic longer than {MAX_TOPIC_LENGTH} characters")
        if isinstance(payload, Control):
            if not self.is_exercise:
                raise PayloadError(f"topic {topic!r}: exercise control belongs under an "
                                   "exercise root, not a live one")
            self.check_control(topic, payload)
        elif isinstance(payload, Op):
            self.check_op(topic, payload)
        else:
            expected = self.of(payload)
            if topic != expected:
                kind = type(payload).__struct_config__.tag
                raise PayloadError(
                    f"topic {topic!r}: a {kind} of {payload.org!r} belongs on {expected!r}"
                )

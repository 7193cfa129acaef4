"""Exercise control messages, under `<exercise root>/_exercise/`: the exercise's clock, so that
every screen in the room shows the same moment of the scenario, and injects for the players.

Only exercise roots carry them; a live root has no `_exercise` level.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec
from msgspec import Meta

from chain.validation import decode_payload
from chain.wire import MAX_PAYLOAD_BYTES, SCHEMA_VERSION, UtcTime


class _Control(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    v: Annotated[int, Meta(ge=1)] = SCHEMA_VERSION


class ExerciseClock(_Control, frozen=True, kw_only=True, tag="clock"):
    """Retained: the exercise's moment `at`, running `speed` times wall time unless paused."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    title: Annotated[str, Meta(max_length=300)] = ""
    at: UtcTime
    speed: Annotated[float, Meta(gt=0, le=1_000_000)]
    paused: bool = False
    day_zero: UtcTime


class ExerciseInject(_Control, frozen=True, kw_only=True, tag="inject"):
    """A message for the players, e.g. an advisory arriving at T+2d."""

    id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}\Z")]
    at: UtcTime
    text: Annotated[str, Meta(min_length=1, max_length=500)]
    source: Annotated[str, Meta(max_length=100)] = ""


Control = ExerciseClock | ExerciseInject

_decoder: Final[msgspec.json.Decoder[Control]] = msgspec.json.Decoder(Control)
_encoder: Final = msgspec.json.Encoder()


def decode_control(payload: bytes) -> Control:
    return decode_payload(_decoder, payload, max_bytes=MAX_PAYLOAD_BYTES, version=SCHEMA_VERSION)


def encode_control(control: Control) -> bytes:
    return _encoder.encode(control)

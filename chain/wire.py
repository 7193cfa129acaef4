"""Wire contract v1: every payload an agent or operator publishes, as one tagged union.

Payloads are JSON objects with a `kind` field. Unknown fields are tolerated so that newer
agents can add fields without breaking older monitors; a newer *schema version* is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from chain.validation import decode_payload

SCHEMA_VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 16 * 1024

ID_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,63}\Z"
"""`\\Z`, not `$`: `$` also matches before a final newline, and "om\n" is not an id."""
Id = Annotated[str, Meta(pattern=ID_PATTERN)]
"""Organisation, link and process ids: safe as one MQTT topic level."""
MAX_COUNT: Final = 2**63 - 1
Count = Annotated[int, Meta(ge=0, le=MAX_COUNT)]
"""Bounded like an SQLite INTEGER: JSON integers have no limit, Python's neither."""
Seconds = Annotated[float, Meta(gt=0, le=86_400)]
UtcTime = Annotated[datetime, Meta(tz=True)]
ChannelName = Literal["email", "phone", "portal", "messaging"]
Direction = Literal["sent", "received"]
OfflineCause = Literal["stopped", "lost"]


class _Envelope(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Fields every payload carries."""

    v: Annotated[int, Meta(ge=1, le=MAX_COUNT)] = SCHEMA_VERSION
    org: Id
    session: Count
    seq: Count
    ts: UtcTime
    hist: bool = False


class Status(_Envelope, frozen=True, kw_only=True, tag="status"):
    """Birth (`online`), planned stop (`offline`, cause `stopped`) or Last Will (cause `lost`)."""

    state: Literal["online", "offline"]
    cause: OfflineCause | None = None
    interval: Seconds | None = None


class Heartbeat(_Envelope, frozen=True, kw_only=True, tag="heartbeat"):
    """The agent is alive; the next heartbeat follows within `interval` seconds."""

    interval: Seconds
    buffered: Count = 0
    """Messages waiting in the agent's store-and-forward buffer."""
    dropped: Count = 0
    """Messages the full buffer had to discard, ever (cumulative)."""


class ChannelReading(_Envelope, frozen=True, kw_only=True, tag="channel"):
    """Reachability of one communication channel of the organisation."""

    channel: ChannelName
    up: bool
    latency_ms: Annotated[float, Meta(ge=0)] | None = None
    detail: Annotated[str, Meta(max_length=200)] = ""


class FlowCounter(_Envelope, frozen=True, kw_only=True, tag="flow"):
    """Cumulative count of messages this end has sent or received on a link."""

    link: Id
    direction: Direction
    count: Count


class BacklogGauge(_Envelope, frozen=True, kw_only=True, tag="backlog"):
    """Items currently waiting in one of the organisation's processes."""

    process: Id
    items: Count


Message = Status | Heartbeat | ChannelReading | FlowCounter | BacklogGauge

_decoder: Final[msgspec.json.Decoder[Message]] = msgspec.json.Decoder(Message)
_encoder: Final = msgspec.json.Encoder()


def decode(payload: bytes) -> Message:
    """Decode one payload, or raise PayloadError naming the field and the problem."""
    return decode_payload(_decoder, payload, max_bytes=MAX_PAYLOAD_BYTES, version=SCHEMA_VERSION)


def encode(message: Message) -> bytes:
    return _encoder.encode(message)

"""Wire contract v1: every payload published under a topic root, as one tagged union with one
decoder: an agent's readings, the crisis room's own actions (under `<root>/_ops/`), and an
exercise's clock and injects (under `<exercise root>/_exercise/`).

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
WILL_SEQ: Final = 0
"""A Last Will is composed at connect time, before any seq is known; it always carries 0."""


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
"""What an agent publishes about its organisation."""


# ------------------------------------------------------------------ operator actions
# Published by the TUI under `<root>/_ops/`: the crisis room's own record. Annotations,
# acknowledgements and manual reports are events (not retained); an isolation is state
# (retained on `_ops/isolation/<org>`), so every monitor agrees who is cut off on purpose.

Author = Annotated[str, Meta(min_length=1, max_length=64)]
Note = Annotated[str, Meta(max_length=500)]
OpId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}\Z")]


class _Op(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    v: Annotated[int, Meta(ge=1)] = SCHEMA_VERSION
    id: OpId
    author: Author
    ts: UtcTime


class Annotation(_Op, frozen=True, kw_only=True, tag="annotation"):
    text: Annotated[str, Meta(min_length=1, max_length=500)]
    org: Id | None = None


SUBJECT_PATTERN: Final = (r"^(?:(?:org|link|process):[a-z0-9][a-z0-9_-]{0,63}"
                          r"|inject:[A-Za-z0-9_-]{1,64})\Z")
"""What an acknowledgement names: `org:<id>`, `link:<id>`, `process:<id>` or `inject:<id>`."""


class Acknowledgement(_Op, frozen=True, kw_only=True, tag="ack"):
    """An operator has seen a problem (docs/attention.md): `subject` is `org:<id>`,
    `link:<id>`, `process:<id>` or an exercise's `inject:<id>`. It holds until the problem
    recovers, or until `until` if given (then it is new again if still there)."""

    subject: Annotated[str, Meta(pattern=SUBJECT_PATTERN)]
    text: Note = ""
    until: UtcTime | None = None


class ManualReport(_Op, frozen=True, kw_only=True, tag="report"):
    """Evidence gathered by hand, e.g. "called CJIB duty desk 14:03: phones work"."""

    org: Id
    text: Annotated[str, Meta(min_length=1, max_length=500)]
    channel: ChannelName | None = None
    up: bool | None = None
    observed_at: UtcTime


class Isolation(_Op, frozen=True, kw_only=True, tag="isolation"):
    """Declares an organisation deliberately disconnected (or, with `isolated: false`, not)."""

    org: Id
    isolated: bool
    reason: Note = ""


Op = Annotation | Acknowledgement | ManualReport | Isolation
OPS_KINDS: Final = ("annotation", "ack", "report", "isolation")


# ------------------------------------------------------------------ exercise control
# The exercise's clock, so that every screen in the room shows the same moment of the
# scenario, and injects for the players. Only exercise roots carry them.

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


Payload = Message | Op | Control
"""Everything the contract lets anyone publish; the topic it came on says which part."""

_decoder: Final[msgspec.json.Decoder[Payload]] = msgspec.json.Decoder(Payload)
_encoder: Final = msgspec.json.Encoder()


def decode(payload: bytes) -> Payload:
    """Decode one payload, or raise PayloadError naming the field and the problem."""
    return decode_payload(_decoder, payload, max_bytes=MAX_PAYLOAD_BYTES, version=SCHEMA_VERSION)


def encode(payload: Payload) -> bytes:
    return _encoder.encode(payload)

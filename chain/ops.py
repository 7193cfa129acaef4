"""Operator actions, published by the TUI under `<root>/_ops/`: the crisis room's own record.

Annotations, acknowledgements and manual reports are events (not retained); an isolation is
state (retained on `_ops/isolation/<org>`), so every monitor agrees who is cut off on purpose.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec
from msgspec import Meta

from chain.validation import decode_payload
from chain.wire import MAX_PAYLOAD_BYTES, SCHEMA_VERSION, ChannelName, Id, UtcTime

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


class Acknowledgement(_Op, frozen=True, kw_only=True, tag="ack"):
    """An operator has seen an alarm: `subject` is `org:<id>`, `link:<id>` or `process:<id>`."""

    subject: Annotated[str, Meta(pattern=r"^(org|link|process):[a-z0-9][a-z0-9_-]{0,63}\Z")]
    text: Note = ""


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

_decoder: Final[msgspec.json.Decoder[Op]] = msgspec.json.Decoder(Op)
_encoder: Final = msgspec.json.Encoder()


def decode_op(payload: bytes) -> Op:
    return decode_payload(_decoder, payload, max_bytes=MAX_PAYLOAD_BYTES, version=SCHEMA_VERSION)


def encode_op(op: Op) -> bytes:
    return _encoder.encode(op)

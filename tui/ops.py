"""An operator's filled-in form as the wire message it publishes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chain.wire import Acknowledgement, Annotation, ChannelName, Isolation, ManualReport, Op
from tui.screens.actions import ActionForm


def op_of(form: ActionForm, *, author: str, at: float) -> Op:
    op_id, ts = uuid.uuid4().hex, datetime.fromtimestamp(at, UTC)
    match form.kind:
        case "annotation":
            return Annotation(id=op_id, author=author, ts=ts, text=form.text, org=form.org)
        case "report":
            assert form.org is not None
            return ManualReport(
                id=op_id, author=author, ts=ts, org=form.org, text=form.text,
                channel=_channel(form.channel), up=form.up, observed_at=ts,
            )
        case "isolation" | "lift":
            assert form.org is not None
            return Isolation(
                id=op_id, author=author, ts=ts, org=form.org,
                isolated=form.kind == "isolation", reason=form.text,
            )
        case _:
            until = None if form.until is None else datetime.fromtimestamp(form.until, UTC)
            return Acknowledgement(
                id=op_id, author=author, ts=ts, subject=form.subject or f"org:{form.org}",
                text=form.text, until=until,
            )


def _channel(name: str | None) -> ChannelName | None:
    match name:
        case "email" | "phone" | "portal" | "messaging":
            return name
        case _:
            return None

"""The after-action reports show what a recording holds as visible escapes: terminal control
sequences and bidi overrides from agents and operators never reach the Markdown or HTML raw
(a report is also read with `cat` and `less`), and the Markdown tables stay whole."""

from __future__ import annotations

import asyncio
import base64
import html as html_text
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chain.wire import Acknowledgement, Annotation, ChannelReading, ManualReport
from ketenwacht.cli import main
from tests.hostile import HOSTILE, SHOWN, raw_controls
from tests.report import scenario

HOSTILE_FILE = "oefening\x1b[2J\u202e"
"""A recording's file name is text from a file too: it titles the report."""


def hostile_rows() -> list[scenario.Recorded]:
    """The scenario, with hostile text in every field an agent or an operator fills in:
    a channel detail, an annotation, an acknowledgement, a manual report and its author,
    and the reason a payload was rejected."""
    ex = scenario.Exercise()
    rows = scenario.exercise()
    at = scenario.T0 + 75 * scenario.MINUTE

    def ts(seconds: float) -> datetime:
        return datetime.fromtimestamp(at + seconds, UTC)

    ex.op(at, Annotation(id="h1", author=HOSTILE, ts=ts(0), text=HOSTILE, org="om"))
    ex.op(at + 1, Acknowledgement(id="h2", author="duty officer", ts=ts(1),
                                  subject="org:justid", text=HOSTILE))
    ex.op(at + 2, ManualReport(id="h3", author=HOSTILE, ts=ts(2), org="cjib", text=HOSTILE,
                               channel="email", up=False, observed_at=ts(2)))
    ex.send(at + 3, ChannelReading(org="justid", session=1, seq=10_000, ts=ts(3),
                                   channel="email", up=False, detail=HOSTILE))
    ex.rows.append((at + 4, "keten/v1/om/heartbeat", b"{}", False, f"kind: {HOSTILE}"))
    return sorted(rows + ex.rows, key=lambda row: row[0])


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / f"{HOSTILE_FILE}.sqlite"
    return asyncio.run(scenario.record(path, hostile_rows()))


def test_markdown_shows_every_hostile_field_escaped(recording: Path) -> None:
    """No control or bidi character in the file; the title, the rejected reason, the log
    (annotation, acknowledgement, report, their authors) and the timeline's channel detail
    show the escapes; every table row keeps its number of cells."""
    assert main(["report", str(recording)]) == 0
    markdown = recording.with_suffix(".md").read_text(encoding="utf-8")
    assert raw_controls(markdown) == []
    # Markdown escapes each backslash of the visible form: rendered, it reads as SHOWN.
    escaped = [re.sub(r"([\\`\[\]<>|])", r"\\\1", part) for part in SHOWN]
    assert markdown.splitlines()[0].endswith("/oefening\\\\x1b\\[2J\\\\u202e.sqlite")
    assert min(markdown.count(part) for part in escaped) >= 7, markdown
    for table in re.findall(r"(?:^\|.*\|$\n?)+", markdown, re.MULTILINE):
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(widths) == 1, table


def test_html_shows_every_hostile_field_escaped(recording: Path) -> None:
    """No control or bidi character in the page or its charts' SVG; title, log, timeline
    and rejected reason show the escapes as text."""
    assert main(["report", str(recording), "--format", "html"]) == 0
    page = recording.with_suffix(".html").read_text(encoding="utf-8")
    assert raw_controls(page) == []
    charts = [base64.b64decode(src).decode() for src in
              re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page)]
    assert charts and all(raw_controls(svg) == [] for svg in charts)
    text = html_text.unescape(page)
    assert "/oefening\\x1b[2J\\u202e.sqlite</title>" in text
    assert min(text.count(part) for part in SHOWN) >= 7, text


def test_json_keeps_the_raw_text_and_holds_no_raw_controls(recording: Path) -> None:
    """The JSON report gives a reader the exact strings recorded, while the document itself
    holds nothing a terminal obeys (C0 escaped as JSON does, DEL, C1 and bidi as `\\u`)."""
    out = recording.with_suffix(".json")
    assert main(["report", str(recording), "--format", "json", "--out", str(out)]) == 0
    document = out.read_text(encoding="utf-8")
    assert raw_controls(document) == []
    data = json.loads(document)
    assert {(e["text"], e["author"]) for e in data["log"] if e["kind"] == "annotation"} >= {
        (HOSTILE, HOSTILE)}
    assert HOSTILE in {c["detail"] for c in data["channels"]}

"""`ketenwacht report`: the Markdown and HTML an exercise leader gets, and bad input."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ketenwacht.cli import main
from tests.report import scenario

VOID = {"meta", "img", "br", "hr", "link", "input"}


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "exercise.sqlite"
    return asyncio.run(scenario.record(path))


@pytest.fixture(scope="module")
def markdown(recording: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("md") / "exercise.md"
    assert main(["report", str(recording), "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def html(recording: Path) -> str:
    assert main(["report", str(recording), "--format", "html"]) == 0
    return recording.with_suffix(".html").read_text(encoding="utf-8")


def in_order(text: str, *parts: str) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


def test_markdown_header(markdown: str, recording: Path) -> None:
    """File, span in Amsterdam and UTC, counts, rejected reasons, root, recorder outage."""
    assert markdown.startswith(f"# After-action report: {recording}\n")
    for row in (
        "| from | Thu 17 Jul 2025 11:00:00 CEST (09:00:00 UTC) |",
        "| to | Thu 17 Jul 2025 15:00:00 CEST (13:00:00 UTC) |",
        "| span | 4 h |",
        "| topic root | keten/v1 |",
        f"| rejected payloads | 2, most often: {scenario.MALFORMED} (1 times); topic 'keten/v1/",
        "| recorder outages | 1: 14:20:00 to 14:30:00 (10 min).",
        "| times | Europe/Amsterdam |",
    ):
        assert row in markdown


def test_markdown_crisis_log_is_dated_and_in_order(markdown: str) -> None:
    """Under the day's heading, every entry with its local time, in order; the hostile
    annotation is escaped so it neither breaks the table nor becomes HTML."""
    assert in_order(
        markdown,
        "## Crisis log",
        "### Thursday 17 July 2025",
        "| 11:30:00 | om | ◐ DEGRADED: email down |  |",
        "| 12:00:00 | om | ✖ OFFLINE: lost |  |",
        "| 12:00:00 | links politie-om, om-rechtspraak,",
        '| 12:05:00 | om | note: phoned OM \\<script\\>alert("x")\\</script\\> \\| no answer '
        "| duty officer |",
        "| 12:32:00 | justid | ▲ STALE: no heartbeat for 240s |  |",
        "| 13:30:00 | cjib | ⊘ ISOLATED: cut off on purpose |  |",
        "| 14:20:00 | recorder | MONITOR DISCONNECTED from the broker |  |",
        "| 14:30:00 | recorder | monitor connected again |  |",
        "## Organisations",
    )
    assert "<script>" not in markdown


def test_markdown_timeline_per_organisation(markdown: str) -> None:
    """om's timeline with how long each state lasted; the quiet ones on one line."""
    assert in_order(
        markdown,
        "### om: Openbaar Ministerie",
        "Not online: ✖ OFFLINE 1 h, ◐ DEGRADED 20 min, ? UNKNOWN 10 min, ≠ INVALID 7 min. "
        "At the end: ● ONLINE.",
        "| 11:00:00 | start: ● ONLINE | 10 min |",
        f"| 11:10:00 | ≠ INVALID: 1 invalid reading (last: {scenario.MALFORMED}) | 7 min |",
        "| 11:17:00 | ● ONLINE | 13 min |",
        "| 11:30:00 | ◐ DEGRADED: email down | 20 min |",
        f"| 11:30:00 | ✗ email down: {scenario.EMAIL_DOWN} | 20 min |",
        "| 11:50:00 | ✓ email up |  |",
        "| 12:00:00 | ✖ OFFLINE: lost | 1 h |",
        "| 13:00:00 | ● ONLINE | 1 h 20 min |",
        "| 14:20:00 | ? UNKNOWN: monitor disconnected | 10 min |",
        "| 14:30:00 | ● ONLINE | 30 min, to the end |",
        "### justid: Justitiële Informatiedienst",
        "### cjib: Centraal Justitieel Incassobureau",
        "### Unchanged throughout the recording",
        "- ? UNKNOWN (nothing received): justis, rvdk,",
    )


def test_markdown_backlog_table(markdown: str) -> None:
    """One row per backlog: first, lowest, highest and last reading with their times."""
    assert ("| om | jds_pending: OM decisions not yet registered in JDS | 100 at 11:00:00 | "
            "50 at 15:00:00 | 900 at 13:00:00 | 50 at 15:00:00 | 47 |") in markdown
    assert "| cjib | execution_orders: Judgments waiting to be executed | 310 at 11:30:00 |" \
        in markdown


class Document(HTMLParser):
    """Checks nesting as it parses; keeps every tag with its attributes and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unexpected </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Document:
    document = Document()
    document.feed(html)
    document.close()
    assert not document.errors and not document.open, (document.errors, document.open)
    return document


def test_html_is_well_formed_self_contained_and_escaped(html: str) -> None:
    """Every tag closed in order; nothing loaded from elsewhere; no script anywhere; the
    hostile annotation shown as text."""
    document = parse(html)
    assert not [t for t, _ in document.tags if t == "script"]
    assert not re.search(r"<script", html, re.IGNORECASE)
    sources = [attrs.get("src") or attrs.get("href") for tag, attrs in document.tags
               if "src" in attrs or "href" in attrs]
    assert sources and all(str(s).startswith("data:") for s in sources)
    assert f"note: {scenario.HOSTILE}" in "".join(document.text)
    assert "Content-Security-Policy" in html


def test_html_has_one_chart_per_backlog(html: str) -> None:
    """An SVG image per backlog, each a valid SVG document with the backlog's title."""
    images = [attrs for tag, attrs in parse(html).tags if tag == "img"]
    assert [attrs["alt"] for attrs in images] == ["Chart of cjib execution_orders",
                                                  "Chart of om jds_pending"]
    for attrs, title in zip(images, ("cjib · execution_orders", "om · jds_pending"),
                            strict=True):
        src = str(attrs["src"])
        assert src.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(src.split(",", 1)[1])
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert title in svg.decode()


def test_html_carries_the_same_content_as_markdown(html: str) -> None:
    """Header, log, timelines and backlog table are all there, dated."""
    text = " ".join(parse(html).text)
    for part in ("Thu 17 Jul 2025 11:00:00 CEST (09:00:00 UTC)", "Thursday 17 July 2025",
                 "✖ OFFLINE: lost", "om: Openbaar Ministerie", "start: ● ONLINE",
                 "900 at 13:00:00", "MONITOR DISCONNECTED from the broker"):
        assert part in text


def test_report_goes_beside_the_recording_and_says_so(recording: Path, tmp_path: Path) -> None:
    """The real command: REC.md next to REC.sqlite by default, one line saying where;
    `--out -` writes the report to standard output and nothing else."""
    copy = tmp_path / "oefening.sqlite"
    copy.write_bytes(recording.read_bytes())
    result = run("report", str(copy))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"after-action report of {copy} written to {copy.with_suffix('.md')}\n"
    assert copy.with_suffix(".md").read_text(encoding="utf-8").startswith("# After-action")
    piped = run("report", str(copy), "--out", "-")
    assert piped.stdout == copy.with_suffix(".md").read_text(encoding="utf-8")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketenwacht", *args], capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_without_matplotlib_markdown_works_and_html_says_how_to_get_it(
    recording: Path, tmp_path: Path
) -> None:
    """The charts are an optional extra: Markdown needs none of it; HTML names the install."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    env = {**os.environ, "PYTHONPATH": f"{blocked}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = tmp_path / "r.md"
    assert run("report", str(recording), "--out", str(out), env=env).returncode == 0
    assert "## Backlogs" in out.read_text(encoding="utf-8")
    result = run("report", str(recording), "--format", "html", "--out", str(tmp_path / "r.html"),
                 env=env)
    assert result.returncode == 78
    assert result.stderr.strip().splitlines() == [
        "ketenwacht: the HTML report draws its charts with matplotlib, which is not installed: "
        "pip install 'ketenwacht[report]' (the Markdown report needs nothing more)"
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["{tmp}/none.sqlite"], 66, "{tmp}/none.sqlite: no such file"),
        (["{tmp}/notes.sqlite"], 78, "{tmp}/notes.sqlite: not a readable SQLite database"),
        (["{tmp}/other.sqlite"], 78, "{tmp}/other.sqlite: not a Ketenwacht recording"),
        (["{rec}", "--format", "pdf"], 64, "argument --format: invalid choice: 'pdf'"),
        (["{rec}", "--out", "{tmp}/no/such/dir/r.md"], 78,
         "{tmp}/no/such/dir/r.md: cannot write the report: No such file or directory; "
         "choose another place with --out FILE"),
        (["{rec}", "--out", "{rec}"], 64, "that is the recording itself"),
        (["{rec}", "--root", "keten/v2"], 78, "no messages under the root 'keten/v2'; "
                                               "found keten/v1"),
        (["{rec}", "--root", "keten/#"], 64, "topic root 'keten/#': no wildcards"),
    ],
    ids=["missing", "not-sqlite", "not-a-recording", "format", "unwritable", "overwrite",
         "root", "bad-root"],
)
def test_bad_input_is_one_line_with_a_sysexits_code(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    args: list[str], code: int, message: str,
) -> None:
    """Each bad file or argument: one line naming what and where, no traceback."""
    (tmp_path / "notes.sqlite").write_text("minutes of the exercise\n" * 50)
    (tmp_path / "other.sqlite").write_bytes(b"")
    fill = {"tmp": str(tmp_path), "rec": str(recording)}
    argv = ["report", *(arg.format(**fill) for arg in args)]
    try:
        returned = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        returned = int(str(exit_.code))
    captured = capsys.readouterr()
    assert returned == code
    assert message.format(**fill) in captured.err
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert "Traceback" not in captured.err


def test_the_global_root_option_is_honoured(
    recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ketenwacht --root R report REC` reports on R, as `report --root R` does."""
    assert main(["--root", "keten-exercise/x/v1", "report", str(recording), "--out", "-"]) == 78
    assert "no messages under the root 'keten-exercise/x/v1'" in capsys.readouterr().err

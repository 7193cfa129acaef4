"""`ketenwacht report REC.sqlite`: fold the recording, render it, write it where asked.

By default the report goes next to the recording (`exercise.sqlite` → `exercise.md` or
`exercise.html`): an exercise leader wants a file to open, mail and print, and finds it
where the recording is. `--out -` writes to standard output instead.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Final

from chain.errors import ConfigError, UsageError
from chain.topology import Topology
from ketenwacht.startup import warn
from report.fold import fold_recording

FORMATS: Final = ("md", "html", "json")
STDOUT: Final = "-"
INSTALL_CHARTS: Final = "pip install 'ketenwacht[report]'"


def run_report(recording: Path, *, fmt: str, out: str | None, root: str | None,
               topology: Topology) -> int:
    target = _target(recording, fmt, out)
    if fmt == "html":
        try:
            from report import charts
        except ImportError:
            raise ConfigError("the HTML report draws its charts with matplotlib, which is not "
                              f"installed: {INSTALL_CHARTS} (the Markdown report needs "
                              "nothing more)") from None
    report = fold_recording(recording, topology, root=root)
    if fmt == "html":
        from report import html

        facts = report.facts
        chart = partial(charts.backlog_svg, start=facts.first_at, end=facts.last_at,
                        gaps=facts.gaps)
        document = html.render(report, chart)
    elif fmt == "json":
        from report import json

        document = json.render(report)
    else:
        from report import markdown

        document = markdown.render(report)
    for line in report.facts.warnings:
        warn(line)
    if target is None:
        sys.stdout.write(document)
        return 0
    try:
        target.write_text(document, encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{target}: cannot write the report: {error.strerror}; "
                          "choose another place with --out FILE") from None
    print(f"after-action report of {recording} written to {target}")
    return 0


def _target(recording: Path, fmt: str, out: str | None) -> Path | None:
    """Where the report goes: None for standard output."""
    if fmt not in FORMATS:
        raise UsageError(f"report --format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if out == STDOUT:
        return None
    target = Path(out) if out else recording.with_suffix(f".{fmt}")
    if target.exists() and recording.exists() and target.resolve() == recording.resolve():
        raise UsageError(f"report --out {target}: that is the recording itself; "
                         "a report never overwrites the evidence")
    return target

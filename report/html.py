"""The after-action report as one self-contained HTML file: styles inline, charts as data
URIs, nothing fetched from anywhere, so it opens the same on a laptop without a network.

Every string goes through `_safe`: annotation texts, channel details, topics and the file's
name come from the recording and are untrusted; their control and bidi characters are shown
as escapes (chain/printable.py), their markup escaped. The page also forbids scripts
outright (its CSP), in case something ever slips past.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from html import escape
from importlib.resources import files
from typing import Final

from chain.printable import visible
from report import text as t
from report.model import AfterActionReport, BacklogSummary, LogLine, OrgTimeline, TimelineRow

Chart = Callable[[BacklogSummary], bytes]
"""Draws one backlog as SVG (the renderer is given one, so it can be tested without it)."""
CSP: Final = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _safe(value: str) -> str:
    """Untrusted text as HTML text: controls visible, `<`, `&` and quotes escaped."""
    return escape(visible(value))


def render(report: AfterActionReport, chart: Chart) -> str:
    title = f"After-action report: {report.facts.source}"
    css = files("report").joinpath("report.css").read_text(encoding="utf-8")
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_safe(title)}</title>",
        f"<style>\n{css}</style>",
        "</head>",
        "<body>",
        f"<h1>{_safe(title)}</h1>",
        _facts(report),
        *_log(report),
        *_attention(report),
        *_organisations(report),
        *_backlogs(report, chart),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _table(head: Sequence[str], rows: Iterable[str], css: str = "") -> str:
    heading = "".join(f"<th>{_safe(name)}</th>" for name in head)
    return (f'<table class="{css}"><thead><tr>{heading}</tr></thead><tbody>\n'
            + "\n".join(rows) + "\n</tbody></table>")


def _cells(*cells: tuple[str, str], row_class: str = "") -> str:
    """A row of (css class, untrusted text) cells."""
    body = "".join(f'<td class="{css}">{_safe(value)}</td>' for css, value in cells)
    return f'<tr class="{_safe(row_class)}">{body}</tr>'


def _facts(report: AfterActionReport) -> str:
    rows = (f"<tr><th>{_safe(label)}</th><td>{_safe(value)}</td></tr>"
            for label, value in t.header(report))
    return '<table class="facts"><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"


def _log(report: AfterActionReport) -> Iterable[str]:
    yield '<section id="log"><h2>Crisis log</h2>'
    if not report.log:
        yield "<p>Nothing changed and nobody wrote anything during the recording.</p></section>"
        return
    yield (f"<p>{t.count(len(report.log))} entries: every change of state, every operator "
           f"action, the recorder's own outages. Times in {_safe(t.zone_name())}.</p>")
    days: dict[str, list[LogLine]] = {}
    for line in report.log:
        days.setdefault(t.day(line.at), []).append(line)
    for day, lines in days.items():
        yield f"<h3>{_safe(day)}</h3>"
        yield _table(("time", "about", "what", "by"), (
            _cells(("time", t.clock(line.at)), ("", t.about(line)), ("", t.what(line)),
                   ("", line.author), row_class=line.state or line.kind.value)
            for line in lines), "log")
    yield "</section>"


def _attention(report: AfterActionReport) -> Iterable[str]:
    yield '<section id="attention"><h2>Attention</h2>'
    if not report.problems:
        yield "<p>No problem needed attention during the recording.</p></section>"
        return
    with_date = t.spans_days(report.facts.first_at, report.facts.last_at)
    yield f"<p>{_safe(t.attention_intro(report))}</p>"
    css = ("time", "", "", "time", "", "num", "num", "time")
    yield _table(t.ATTENTION_HEAD, (
        _cells(*zip(css, t.problem_row(problem, with_date=with_date), strict=True),
               row_class=problem.states[-1] if problem.states else problem.kind)
        for problem in report.problems), "attention")
    yield "</section>"


def _organisations(report: AfterActionReport) -> Iterable[str]:
    yield '<section id="organisations"><h2>Organisations</h2>'
    with_date = t.spans_days(report.facts.first_at, report.facts.last_at)
    unchanged: dict[str, list[str]] = {}
    for timeline in report.timelines:
        if timeline.changed:
            yield _timeline(timeline, with_date)
        else:
            unchanged.setdefault(timeline.end_state, []).append(timeline.id)
    if unchanged:
        yield "<h3>Unchanged throughout the recording</h3><ul>"
        for state, orgs in unchanged.items():
            yield (f'<li><span class="{_safe(state)}">{_safe(t.unchanged(state))}</span>: '
                   f"{_safe(', '.join(orgs))}</li>")
        yield "</ul>"
    yield "</section>"


def _timeline(timeline: OrgTimeline, with_date: bool) -> str:
    rows = (
        _cells(("time", t.moment(row.at, with_date=with_date)), ("", t.event(row)),
               ("num", t.lasted(row)),
               row_class=_row_class(row))
        for row in timeline.rows
    )
    return (f'<article><h3>{_safe(timeline.id)}: {_safe(timeline.name)}</h3>'
            f'<p class="summary">{_safe(t.standing(timeline))}</p>'
            + _table(("time", "what", "lasted"), rows, "timeline") + "</article>")


def _row_class(row: TimelineRow) -> str:
    if row.kind == "channel":
        return "channel-up" if row.up else "channel-down"
    return row.between[0] if row.kind == "flapping" else row.state


def _backlogs(report: AfterActionReport, chart: Chart) -> Iterable[str]:
    yield '<section id="backlogs"><h2>Backlogs</h2>'
    if not report.backlogs:
        yield "<p>No backlog was reported during the recording.</p></section>"
        return
    with_date = t.spans_days(report.facts.first_at, report.facts.last_at)
    yield "<p>Items waiting, with the time of each reading.</p>"
    yield _table(("organisation", "backlog", "first", "lowest", "highest", "last", "readings"), (
        _cells(("", b.org), ("", f"{b.process}: {b.name}"),
               *(("num", t.sample(s.items, s.at, with_date=with_date))
                 for s in (b.first, b.lowest, b.highest, b.last)),
               ("num", t.count(b.samples)))
        for b in report.backlogs), "backlogs")
    for backlog in report.backlogs:
        image = base64.b64encode(chart(backlog)).decode("ascii")
        caption = (f"{backlog.org} · {backlog.process}: {backlog.name}. The line is the last "
                   "reading of each stretch of time, the band its lowest and highest"
                   + ("; grey: the recorder was not listening" if report.facts.gaps else "")
                   + ".")
        yield (f'<figure><img alt="{_safe(f"Chart of {backlog.org} {backlog.process}")}" '
               f'src="data:image/svg+xml;base64,{image}">'
               f"<figcaption>{_safe(caption)}</figcaption></figure>")
    yield "</section>"

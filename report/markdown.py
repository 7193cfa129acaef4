"""The after-action report as Markdown: plain enough to read raw, tables when rendered.

Everything that came from the recording is untrusted (annotation texts, channel details,
rejected topics, ids, the file's own name): `cell` makes its control and bidi characters
visible (chain/printable.py), so `cat` or `less` on the report obeys none of them, and
escapes it so it can neither break a table nor smuggle in HTML or a link when rendered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from chain.printable import visible
from report import text as t
from report.model import AfterActionReport, BacklogSummary

_SPECIAL: Final = re.compile(r"([\\`\[\]<>|])")
"""What could break a table (`|`), start code, a link or raw HTML; emphasis is harmless."""
_AMPERSAND: Final = re.compile(r"&")


def cell(value: str) -> str:
    """Untrusted text, safe in a table cell or a line of Markdown: whitespace (newlines,
    tabs, Unicode line separators) folded into single spaces, other controls shown."""
    value = _AMPERSAND.sub("&amp;", visible(" ".join(value.split())))
    return _SPECIAL.sub(r"\\\1", value)


def render(report: AfterActionReport) -> str:
    lines = [f"# After-action report: {cell(report.facts.source)}", ""]
    lines += _table(("", ""), [(label, cell(value)) for label, value in t.header(report)])
    lines += ["", *_log(report), "", *_attention(report), "", *_organisations(report), "",
              *_backlogs(report)]
    return "\n".join(lines).rstrip() + "\n"


def _table(head: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head),
            *("| " + " | ".join(row) + " |" for row in rows)]


def _log(report: AfterActionReport) -> Iterable[str]:
    yield "## Crisis log"
    yield ""
    if not report.log:
        yield "Nothing changed and nobody wrote anything during the recording."
        return
    yield (f"{t.count(len(report.log))} entries: every change of state, every operator "
           "action, the recorder's own outages. Times in "
           f"{t.zone_name()}.")
    day = ""
    rows: list[tuple[str, ...]] = []
    for line in report.log:
        if t.day(line.at) != day:
            if rows:
                yield from ("", *_table(("time", "about", "what", "by"), rows))
            day, rows = t.day(line.at), []
            yield from ("", f"### {day}")
        rows.append((t.clock(line.at), cell(t.about(line)), cell(t.what(line)),
                     cell(line.author)))
    yield from ("", *_table(("time", "about", "what", "by"), rows))


def _attention(report: AfterActionReport) -> Iterable[str]:
    yield "## Attention"
    yield ""
    if not report.problems:
        yield "No problem needed attention during the recording."
        return
    with_date = t.spans_days(report.facts.first_at, report.facts.last_at)
    yield t.attention_intro(report)
    yield ""
    yield from _table(t.ATTENTION_HEAD, (tuple(cell(value) for value in t.problem_row(
        problem, with_date=with_date)) for problem in report.problems))


def _organisations(report: AfterActionReport) -> Iterable[str]:
    yield "## Organisations"
    with_date = t.spans_days(report.facts.first_at, report.facts.last_at)
    unchanged: dict[str, list[str]] = {}
    for timeline in report.timelines:
        if not timeline.changed:
            unchanged.setdefault(timeline.end_state, []).append(timeline.id)
            continue
        yield from ("", f"### {cell(timeline.id)}: {cell(timeline.name)}", "",
                    cell(t.standing(timeline)), "")
        yield from _table(("time", "what", "lasted"),
                          ((t.moment(row.at, with_date=with_date), cell(t.event(row)),
                            t.lasted(row)) for row in timeline.rows))
    if unchanged:
        yield from ("", "### Unchanged throughout the recording", "")
        for state, orgs in unchanged.items():
            yield f"- {cell(t.unchanged(state))}: {cell(', '.join(orgs))}"


def _backlogs(report: AfterActionReport) -> Iterable[str]:
    yield "## Backlogs"
    yield ""
    if not report.backlogs:
        yield "No backlog was reported during the recording."
        return
    with_date = t.spans_days(report.facts.first_at, report.facts.last_at)
    yield "Items waiting, with the time of each reading."
    yield ""
    yield from _table(("organisation", "backlog", "first", "lowest", "highest", "last",
                       "readings"),
                      (_backlog(b, with_date) for b in report.backlogs))


def _backlog(backlog: BacklogSummary, with_date: bool) -> tuple[str, ...]:
    return (cell(backlog.org), cell(f"{backlog.process}: {backlog.name}"),
            *(t.sample(s.items, s.at, with_date=with_date)
              for s in (backlog.first, backlog.lowest, backlog.highest, backlog.last)),
            t.count(backlog.samples))

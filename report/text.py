"""Words, times and durations shared by the Markdown and the HTML report.

Times are shown in Amsterdam time, the crisis room's own; the header gives UTC beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chain import vocabulary
from chain.crisislog import EntryKind
from chain.views import OrgState
from report.attention import ProblemHistory
from report.model import AfterActionReport, LogLine, OrgTimeline, TimelineRow

LOCAL_ZONE: Final = "Europe/Amsterdam"
MAX_GAPS_SHOWN: Final = 10


@cache
def zone() -> tzinfo:
    """Amsterdam time, or UTC on a host without a time-zone database (the header says so)."""
    try:
        return ZoneInfo(LOCAL_ZONE)
    except ZoneInfoNotFoundError:
        return UTC


def zone_name() -> str:
    return LOCAL_ZONE if zone() is not UTC else "UTC (no time-zone database on this host)"


def local(at: float) -> datetime:
    return datetime.fromtimestamp(at, zone())


def day(at: float) -> str:
    """`Thursday 17 July 2025`."""
    when = local(at)
    return f"{when:%A} {when.day} {when:%B %Y}"


def clock(at: float) -> str:
    return local(at).strftime("%H:%M:%S")


def moment(at: float, *, with_date: bool) -> str:
    """`11:30:00`, or `Thu 17 Jul 11:30:00` when the report spans more than one day."""
    when = local(at)
    return f"{when:%a} {when.day} {when:%b %H:%M:%S}" if with_date else f"{when:%H:%M:%S}"


def full(at: float) -> str:
    """`Thu 17 Jul 2025 11:00:00 CEST (09:00:00 UTC)`."""
    when = local(at)
    in_utc = datetime.fromtimestamp(at, UTC)
    utc_part = (f"{in_utc:%H:%M:%S} UTC" if in_utc.date() == when.date()
                else f"{in_utc:%a} {in_utc.day} {in_utc:%b %H:%M:%S} UTC")
    return f"{when:%a} {when.day} {when:%b %Y %H:%M:%S %Z} ({utc_part})"


def spans_days(first: float, last: float) -> bool:
    return local(first).date() != local(last).date()


def duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def count(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def label(state: str) -> str:
    """`✖ OFFLINE`; a state the vocabulary does not know (from a recording by another
    version) still gets a symbol and its own value as word, rather than failing the report."""
    term = vocabulary.of_value(state)
    return term.label if term is not None else f"· {state.upper().replace('_', ' ')}"


def _word(state: OrgState) -> str:
    return vocabulary.term(state).word


def stated(state: str, text: str) -> str:
    """A state change with its symbol: `✖ OFFLINE: lost`."""
    _, _, cause = text.partition(": ")
    return label(state) + (f": {cause}" if cause else "")


def about(line: LogLine) -> str:
    """What a crisis-log line concerns: `om`, `links om-justid, om-cjib`."""
    subjects = ", ".join(line.subjects)
    if line.kind is EntryKind.LINK:
        return f"link{'s' if len(line.subjects) > 1 else ''} {subjects}"
    if line.kind is EntryKind.PROCESS:
        return f"process{'es' if len(line.subjects) > 1 else ''} {subjects}"
    if line.kind is EntryKind.MONITOR:
        return "recorder"
    if line.kind is EntryKind.INJECT:
        return "exercise"
    return subjects


def what(line: LogLine) -> str:
    if line.state:
        return stated(line.state, line.text)
    if line.kind is EntryKind.ANNOTATION:
        return f"note: {line.text}"
    if line.kind is EntryKind.REPORT:
        return f"report: {line.text}"
    if line.kind is EntryKind.INJECT:
        return f"inject: {line.text}"
    return line.text


def event(row: TimelineRow) -> str:
    """A timeline row's event: `✖ OFFLINE: lost`, `✗ email down: no banner`."""
    if row.kind == "channel":
        return ("✓ " if row.up else "✗ ") + row.text
    if row.kind == "flapping":
        first, second = row.between
        return f"flapping: {label(first)} ↔ {label(second)}, {row.changes} changes"
    return ("start: " if row.kind == "start" else "") + stated(row.state, row.text)


def lasted(row: TimelineRow) -> str:
    if row.lasted is None:
        return ""
    return duration(row.lasted) + (", to the end" if row.to_end else "")


def standing(timeline: OrgTimeline) -> str:
    """`Not online: ✖ OFFLINE 1 h, ◐ DEGRADED 20 min. At the end: ● ONLINE.`"""
    away = ", ".join(f"{label(state)} {duration(seconds)}" for state, seconds in timeline.time_in)
    end = label(timeline.end_state) + (f": {timeline.end_cause}" if timeline.end_cause else "")
    return (f"Not online: {away}. " if away else "") + f"At the end: {end}."


def unchanged(state: str) -> str:
    return label(state) + (" (nothing received)" if state == "unknown" else "")


def sample(items: int, at: float, *, with_date: bool) -> str:
    return f"{count(items)} at {moment(at, with_date=with_date)}"


def counts(states: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{number} {label(state)}" for state, number in states)


def header(report: AfterActionReport) -> list[tuple[str, str]]:
    """The facts at the top of the report, as (label, plain text) pairs."""
    facts = report.facts
    with_date = spans_days(facts.first_at, facts.last_at)
    messages = count(facts.messages)
    if facts.folded != facts.messages:
        messages += f", of which {count(facts.folded)} under {facts.root}"
    others = [f"{root} ({count(rows)} rows)" for root, rows in facts.roots if root != facts.root]
    rejected = "none"
    if facts.rejected:
        reasons = "; ".join(f"{reason} ({count(n)} times)" for reason, n in facts.reasons)
        rejected = f"{count(facts.rejected)}, most often: {reasons}"
    outages = "none seen"
    if facts.gaps:
        shown = [f"{moment(lost, with_date=with_date)} to {moment(back, with_date=with_date)} "
                 f"({duration(back - lost)})" for lost, back in facts.gaps[:MAX_GAPS_SHOWN]]
        more = len(facts.gaps) - len(shown)
        outages = (f"{len(facts.gaps)}: " + "; ".join(shown) + (f"; {more} more" if more else "")
                   + ". Nothing was recorded in between; every organisation counts as "
                   f"{_word(OrgState.UNKNOWN)} there, never as {_word(OrgState.STALE)} or "
                   f"{_word(OrgState.OFFLINE)}")
    rows = [
        ("recording", facts.source),
        *([("exercise", facts.exercise)] if facts.exercise else []),
        ("from", full(facts.first_at)),
        ("to", full(facts.last_at)),
        ("span", duration(facts.last_at - facts.first_at)),
        ("messages", messages),
        ("topic root", facts.root + (f" (also in the recording, not in this report: "
                                     f"{', '.join(others)})" if others else "")),
        ("rejected payloads", rejected),
        ("recorder outages", outages),
        ("organisations at the start", counts(report.start_counts)),
        ("organisations at the end", counts(report.end_counts)),
        ("times", zone_name()),
    ]
    if report.log_dropped:
        rows.append(("crisis log", f"the {count(report.log_dropped)} earliest entries are "
                                   "left out (the log keeps the latest only)"))
    if report.channel_changes_dropped:
        rows.append(("channels", f"{count(report.channel_changes_dropped)} later channel "
                                 "changes are left out of the timelines"))
    return rows


ATTENTION_HEAD: Final = ("since", "about", "problem", "new at", "acknowledged",
                         "to acknowledge", "unacknowledged", "ended")


def attention_intro(report: AfterActionReport) -> str:
    left_out = (f" The {count(report.problems_dropped)} latest are left out (the report keeps "
                f"the first {count(len(report.problems))})." if report.problems_dropped else "")
    return (f"{count(len(report.problems))} problems: when each became new (marked on every "
            "screen and counted in its header), when and by whom it was acknowledged, how "
            "long it was before anyone did (to acknowledge: from when it first became new) "
            f"and how long it was new all told. Times in {zone_name()}." + left_out)


def problem_row(problem: ProblemHistory, *, with_date: bool) -> tuple[str, ...]:
    """One problem as plain text cells, in the order of ATTENTION_HEAD."""
    def at(moment_: float) -> str:
        return moment(moment_, with_date=with_date)

    about = {"org": problem.id, "link": f"link {problem.id}",
             "process": f"process {problem.id}", "inject": "exercise"}[problem.kind]
    if problem.group:
        about += f" (with {problem.group.partition(':')[2]})"
    what = (f"inject: {problem.text}" if problem.kind == "inject"
            else ", then ".join(label(state) for state in problem.states))
    new = ", ".join(at(when) for when in problem.new_at) or "never: acknowledged before"
    acknowledged = "; ".join(
        f"{at(ack.at)} by {ack.by}" + (f" until {at(ack.until)}" if ack.until else "")
        + (f": {ack.note}" if ack.note else "")
        for ack in problem.acknowledgements) or "never"
    waited = problem.time_to_acknowledge
    return (at(problem.since), about, what, new, acknowledged,
            "—" if waited is None else duration(waited), duration(problem.unacknowledged),
            "still at the end" if problem.ended is None else at(problem.ended))

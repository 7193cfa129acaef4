"""The report's attention: every problem with when it was new, who acknowledged it when, how
long it took and how long it was new, in the model, Markdown, HTML and JSON alike."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from chain.wire import Acknowledgement, Status
from ketenwacht.startup import load_topology
from report import html, markdown
from report import json as report_json
from report.attention import ProblemHistory
from report.fold import fold_recording
from report.model import AfterActionReport
from tests.report import scenario
from tests.report.scenario import MINUTE, T0, Exercise, ts

TOPOLOGY = load_topology(None)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AfterActionReport:
    path = tmp_path_factory.mktemp("attention") / "exercise.sqlite"
    asyncio.run(scenario.record(path))
    return fold_recording(path, TOPOLOGY)


def minutes(at: float | None) -> float | None:
    return None if at is None else (at - T0) / MINUTE


def summary(problem: ProblemHistory) -> tuple[object, ...]:
    return (problem.subject, problem.states, minutes(problem.since), minutes(problem.ended),
            tuple(minutes(at) for at in problem.new_at),
            tuple((minutes(a.at), a.by, minutes(a.until)) for a in problem.acknowledgements),
            problem.time_to_acknowledge, problem.unacknowledged)


def test_the_report_lists_each_problem_with_its_acknowledgement(
        report: AfterActionReport) -> None:
    """om's outage: new at 1:00, acknowledged by the duty officer at 1:10 (10 minutes to
    acknowledge), ended at 2:00; its BLOCKED process with it; justid's STALE never
    acknowledged; cjib's isolation is no problem, nor is its process waiting to be OK."""
    assert [summary(p) for p in report.problems] == [
        ("org:om", ("invalid",), 10, 17, (10,), (), None, 7 * MINUTE),
        ("org:om", ("stale", "offline"), 60, 120, (60,), ((70, "duty officer", None),),
         10 * MINUTE, 10 * MINUTE),
        ("process:charging", ("blocked",), 60, 120, (60,), ((70, "duty officer", None),),
         10 * MINUTE, 10 * MINUTE),
        ("org:justid", ("stale",), 92, 100, (92,), (), None, 8 * MINUTE),
    ]
    assert report.problems[2].group == "org:om"


def until_recording(path: Path) -> Path:
    """om stops at 0:10; Anna acknowledges it at 0:20 until 0:40; Bram at 0:50, for good;
    om is back at 1:30 and the recording ends at 2:00."""
    ex = Exercise()
    ex.birth(T0, "om", retain=True)
    for minute in range(1, 121):
        at = T0 + minute * MINUTE
        if minute == 10:
            ex.send(at, Status(org="om", session=1, seq=ex.seq("om"), ts=ts(at),
                               state="offline", cause="stopped"))
        if minute == 90:
            ex.sessions["om"] = 2
            ex.birth(at, "om")
        if not 10 <= minute < 90:
            ex.heartbeat(at, "om")
        for op_minute, who, until in ((20, "Anna", 40), (50, "Bram", None)):
            if minute == op_minute:
                ex.op(at, Acknowledgement(
                    id=f"k{minute}", author=who, ts=ts(at), subject="org:om", text="seen",
                    until=None if until is None else ts(T0 + until * MINUTE)))
    return asyncio.run(scenario.record(path, ex.rows))


def test_an_expired_acknowledgement_counts_again_as_unacknowledged(tmp_path: Path) -> None:
    """New at 0:10 and again when Anna's acknowledgement expires at 0:40: 10 minutes to
    acknowledge, 20 minutes new all told; both acknowledgements with their until."""
    report = fold_recording(until_recording(tmp_path / "until.sqlite"), TOPOLOGY)
    problem, process = report.problems
    assert (process.subject, process.group) == ("process:charging", "org:om")
    assert summary(problem) == (
        "org:om", ("offline",), 10, 90, (10, 40), ((20, "Anna", 40), (50, "Bram", None)),
        10 * MINUTE, 20 * MINUTE)
    texts = [line.text for line in report.log if line.kind.value == "ack"]
    assert texts == ["acknowledged OFFLINE until 2025-07-17 09:40:00 UTC: seen",
                     "acknowledgement by Anna expired: OFFLINE is new again",
                     "acknowledged OFFLINE: seen"]
    assert [line.until for line in report.log if line.kind.value == "ack"] == [
        T0 + 40 * MINUTE, None, None]


def test_markdown_html_and_json_say_who_acknowledged_and_how_long_it_took(
        report: AfterActionReport) -> None:
    """Each format has the Attention table: om's row with its acknowledgement by the duty
    officer at 12:10 (Amsterdam) and 10 min to acknowledge; the JSON reads back typed."""
    text = markdown.render(report)
    row = ("| 12:00:00 | om | ▲ STALE, then ✖ OFFLINE | 12:00:00 | 12:10:00 by duty officer "
           "| 10 min | 10 min | 13:00:00 |")
    assert "## Attention" in text and row in text
    page = html.render(report, lambda _: b"<svg/>")
    assert '<section id="attention">' in page and "12:10:00 by duty officer" in page
    document = msgspec.json.decode(report_json.render(report), type=report_json.Document)
    om = document.problems[1]
    assert (om.subject, om.time_to_acknowledge, om.unacknowledged) == ("org:om", 600.0, 600.0)
    assert [(a.by, a.at.timestamp()) for a in om.acknowledgements] == [
        ("duty officer", T0 + 70 * MINUTE)]
    assert document.version == 1 and document.problems_dropped == 0

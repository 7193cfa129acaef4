"""New problems on the screen: marked on their rows, counted above the tables, sorted first
on `o`, rung for and notified once each (never for history), acknowledged with `c` from any
tab, optionally until a time typed in the dialog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from textual.pilot import Pilot
from textual.widgets import Label

from chain.crisislog import EntryKind
from chain.engine import ChainEngine
from chain.views import ChainView, Problem
from chain.wire import Acknowledgement, ExerciseInject, Op, Status
from tests.conftest import until
from tests.tui.seed import END, connected, seeded_engine
from tui.app import KetenwachtApp
from tui.attention import Announcer, notices
from tui.rows import log_rows, org_rows, process_rows, subjects
from tui.screens.actions import ActionScreen
from tui.screens.org import OrgScreen
from tui.widgets.summary import ChainSummary

pytestmark = pytest.mark.usefixtures("utc")

SIZE = (120, 40)


class Screen(KetenwachtApp):
    """The seeded chain on a screen whose bell is counted and whose operator actions are
    kept instead of published; its clock is `now[0]`."""

    def __init__(self, engine: ChainEngine | None = None, **options: Any) -> None:
        self.now = [END]
        self.sent: list[Op] = []
        self.bells = 0

        async def publish(op: Op) -> None:
            self.sent.append(op)

        super().__init__(engine or seeded_engine(), connected, broker_url="mqtt://test:1",
                         clock=lambda: self.now[0], author="anna", publish=publish,
                         **options)

    def bell(self) -> None:
        self.bells += 1

    def notices(self) -> list[str]:
        return [str(n.message) for n in self._notifications if n.title == "New problem"]


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def justid_offline(app: Screen, seconds: float) -> None:
    app.engine.apply(Status(org="justid", session=1, seq=10_000, ts=at(seconds),
                            state="offline", cause="stopped"), received_at=seconds)
    app.now[0] = seconds


async def press(pilot: Pilot[Any], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()


def test_rows_carry_the_mark_of_their_problem() -> None:
    """om OFFLINE and ecris INVALID are NEW, ind's INVALID acknowledged shows `ack`, the
    rest nothing; om's BLOCKED process is NEW with it (part of om's problem)."""
    view = seeded_engine().view(END)
    marks = {r.key: (r.cells["mark"], r.new, r.subject) for r in org_rows(view)}
    assert marks["om"] == ("NEW", True, "org:om")
    assert marks["ecris"] == ("NEW", True, "org:ecris")
    assert marks["ind"] == ("ack", False, "org:ind")
    assert marks["justid"] == ("", False, "org:justid")
    charging = next(r for r in process_rows(view) if r.key == "charging")
    assert (charging.cells["mark"], charging.new) == ("NEW", True)


async def test_new_rows_have_their_class_and_the_summary_counts_them() -> None:
    """The NEW rows get `-new` (a bar in their margin), the summary begins with "2 new";
    once every problem is acknowledged the count is gone, not "0 new"."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.tables["overview"]
        assert [k for k in table.keys if table.row(k).has_class("-new")] == ["om", "ecris"]
        summary = app.query_one(ChainSummary)
        assert str(summary.render()).startswith(" 2 new ")
        assert summary.has_class("-new")
        for n, subject in enumerate(("org:om", "org:ecris")):
            app.engine.apply_op(Acknowledgement(id=f"k{n}", author="anna", ts=at(END),
                                                subject=subject), received_at=END)
        app.redraw()
        await pilot.pause()
        assert not any(table.row(k).has_class("-new") for k in table.keys)
        assert " new" not in str(summary.render()) and not summary.has_class("-new")


async def test_o_sorts_by_severity_then_recency_and_back() -> None:
    """`o`: om (OFFLINE) first, then the INVALID ones (as old as each other: in the
    topology's order), then the rest as the topology lists them, under a `State ▼`
    heading; `o` again: the topology's order."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.tables["overview"]
        listed = list(app.engine.topology.org_ids)
        assert table.keys == listed
        await press(pilot, "o")
        rest = [o for o in listed if o not in ("om", "ind", "ecris")]
        assert table.keys == ["om", "ind", "ecris", *rest]
        assert table.heading.text("state") == "" and "State ▼" in str(table.heading.render())
        # The most recent first among equals: justid goes OFFLINE now, after om's.
        justid_offline(app, END + 10)
        app.redraw()
        await pilot.pause()
        assert table.keys[:2] == ["justid", "om"]
        await press(pilot, "o")
        assert table.keys == listed
        assert "State ▼" not in str(table.heading.render())


async def test_the_drill_down_says_who_acknowledged_and_what_is_new() -> None:
    """ind's figures name who acknowledged it, when, and their note; om's say it is new."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for org, said in (("ind", "acknowledged by duty officer at 11:59:00: schema upgrade"),
                          ("om", "NEW since 11:53:00, nobody has acknowledged it")):
            app.open_org(org)
            await until(lambda: isinstance(app.screen, OrgScreen), within=2)
            await pilot.pause(0.3)
            app.redraw()
            await pilot.pause()
            assert said in str(app.screen.query_one("#org-figures").render())
            await press(pilot, "escape")


async def test_a_new_problem_rings_and_notifies_once_and_history_never() -> None:
    """At start-up the seed's problems ring nothing; justid going OFFLINE rings once and
    notifies its text, however often the screen redraws; with `b` and `n` off the next
    new problem (shn) does neither; they come back on."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert (app.bells, app.notices()) == (0, [])
        justid_offline(app, END + 10)
        for _ in range(3):
            app.redraw()
            await pilot.pause()
        assert (app.bells, app.notices()) == (1, ["justid OFFLINE: stopped"])
        await press(pilot, "b", "n")
        app.engine.apply(Status(org="shn", session=1, seq=10_000, ts=at(END + 20),
                                state="offline", cause="lost"), received_at=END + 20)
        app.now[0] = END + 20
        app.redraw()
        await pilot.pause()
        assert (app.bells, len(app.notices())) == (1, 1)
        await press(pilot, "b", "n")
        assert app.ring_bell and app.notify_new


async def test_bell_and_notifications_can_be_off_from_the_start() -> None:
    """`bell=False, notify=False` (the command line's switches): silent from the start."""
    app = Screen(bell=False, notify=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        justid_offline(app, END + 10)
        app.redraw()
        await pilot.pause()
        assert (app.bells, app.notices()) == (0, [])


def problem(subject: str, alert: int, *, new: bool = True, group: str = "",
            severity: int = 0) -> Problem:
    kind, _, ident = subject.partition(":")
    return Problem(subject=subject, kind=kind, id=ident, state="offline",  # type: ignore[arg-type]
                   severity=severity, since=END, text="OFFLINE: lost", new=new, alert=alert,
                   new_at=END, group=group)


def test_one_announcement_per_alert_number_the_organisation_for_its_process() -> None:
    """An OFFLINE organisation and its BLOCKED process share a number: announced once, as
    the organisation; an acknowledged problem is not announced, nor anything while quiet
    (a replay flat out), and what came while quiet is not announced after."""
    view = seeded_engine().view(END)

    def showing(*problems: Problem) -> ChainView:
        return msgspec.structs.replace(view, problems=problems)

    announcer = Announcer()
    assert announcer.fresh(view) == []  # the first view: history
    om, vog = problem("org:om", 7), problem("process:vog", 7, group="org:om", severity=1)
    assert announcer.fresh(showing(vog, om)) == [om]
    assert announcer.fresh(showing(problem("org:shn", 8, new=False))) == []
    quiet = showing(problem("org:cjib", 9))
    assert announcer.fresh(quiet, quiet=True) == []
    assert announcer.fresh(quiet) == []
    said = notices(announcer.fresh(showing(*(problem(f"org:o{n}", 10 + n) for n in range(5)))))
    assert [n.text for n in said] == ["o0 OFFLINE: lost", "o1 OFFLINE: lost",
                                      "o2 OFFLINE: lost", "and 2 more"]


def ack_dialog(app: KetenwachtApp) -> ActionScreen:
    screen = app.screen
    assert isinstance(screen, ActionScreen) and screen.kind == "ack", screen
    return screen


@pytest.mark.parametrize(
    ("keys", "subject"),
    [
        (("1",), "org:om"),
        (("3",), "process:lawful_detention"),  # dji's: BLOCKED, isolated, the first row
        (("2", "down", "down", "down"), "link:om-justid"),
    ],
)
async def test_c_acknowledges_the_highlighted_rows_subject(
        keys: tuple[str, ...], subject: str) -> None:
    """`c` on an organisation, a process or a flow: the dialog names it, and publishes an
    Acknowledgement of it by the operator, with the note typed."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, *keys, "c")
        assert ack_dialog(app).subject == subject
        await press(pilot, *"on it", "enter")
        await until(lambda: bool(app.sent), within=2)
        op = app.sent[0]
        assert isinstance(op, Acknowledgement)
        assert (op.subject, op.text, op.author, op.until) == (subject, "on it", "anna", None)


async def test_c_on_an_inject_in_the_log_acknowledges_the_inject() -> None:
    """An exercise inject is a problem with a line in the log (NEW on it): `c` there
    acknowledges `inject:<id>`."""
    engine = seeded_engine()
    engine.log.record_inject(ExerciseInject(id="advisory-1", at=at(END - 30),
                                            text="NCSC advisory: phishing wave"))
    engine.evaluate(END)
    app = Screen(engine)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "4")
        log = app.tables["log"]
        line = next(k for k in log.keys if log.row(k).text("kind") == EntryKind.INJECT.value)
        assert log.row(line).text("mark") == "NEW"
        log.cursor = line
        await press(pilot, "c")
        assert ack_dialog(app).subject == "inject:advisory-1"
        await press(pilot, "enter")
        await until(lambda: bool(app.sent), within=2)
        assert isinstance(app.sent[0], Acknowledgement)
        assert app.sent[0].subject == "inject:advisory-1"


def test_a_log_line_acknowledges_what_it_is_about() -> None:
    """A state change of a flow or process acknowledges that flow or process; an
    acknowledgement's line its subject; an annotation about an organisation that one."""
    engine = seeded_engine()
    rows = log_rows(engine.log.entries, END, subjects(engine.view(END)))
    by_kind = {r.cells["kind"]: r.subject for r in rows}
    assert by_kind["process"] is not None and by_kind["process"].startswith("process:")
    assert by_kind["ack"] == "org:ind"
    assert by_kind["isolation"] == "org:dji"


@pytest.mark.parametrize(
    ("typed", "until_at"),
    [("+2h", END + 7200), ("14:30", datetime(2025, 7, 17, 12, 30, tzinfo=UTC).timestamp())],
)
async def test_until_is_read_in_the_screens_zone(typed: str, until_at: float) -> None:
    """`+2h` is two hours on; `14:30` is 14:30 Amsterdam time (12:30 UTC in July), said
    under the field before it is published."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "c", *"calling them", "tab", *typed)
        said = ack_dialog(app).query_one("#until-said", Label)
        assert str(said.render()).startswith("until ")
        await press(pilot, "enter")
        await until(lambda: bool(app.sent), within=2)
        op = app.sent[0]
        assert isinstance(op, Acknowledgement) and op.until is not None
        assert (op.until.timestamp(), op.text) == (until_at, "calling them")


@pytest.mark.parametrize("typed", ["29", "-1h", "11:00 yesterday", "+40d"])
async def test_an_until_it_cannot_read_is_said_in_the_dialog(typed: str) -> None:
    """A time it cannot read, in the past or more than a month ahead: said under the field,
    the dialog stays open, nothing is published; emptied, it publishes without an end."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, "c", "tab", *typed, "enter")
        dialog = ack_dialog(app)
        said = dialog.query_one("#until-said", Label)
        assert said.has_class("-error") and "try 14:30" in str(said.render())
        assert app.sent == []
        await press(pilot, *["backspace"] * len(typed), "enter")
        await until(lambda: bool(app.sent), within=2)
        op = app.sent[0]
        assert isinstance(op, Acknowledgement) and op.until is None



HOSTILE = "[@click=app.quit]advisory[/] \x1b]2;pwned\x07"


async def test_a_hostile_inject_is_notified_and_asked_about_as_text() -> None:
    """An inject's text with markup and an ESC sequence, arriving on a running screen: the
    notification and the acknowledgement dialog show it escaped, never obey it."""
    app = Screen()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.engine.log.record_inject(ExerciseInject(id="hostile", at=at(END + 5), text=HOSTILE))
        app.now[0] = END + 5
        app.redraw()
        await pilot.pause()
        assert app.bells == 1
        (said,) = app.notices()
        assert "\x1b" not in said and "\\x1b]2;pwned\\x07" in said
        assert "\\[@click=app.quit]" in said  # escaped markup: shown, not a link
        await press(pilot, "4")
        log = app.tables["log"]
        log.cursor = next(k for k in log.keys if log.row(k).text("kind") == "inject")
        await press(pilot, "c")
        label = str(ack_dialog(app).query_one("#ack-subject", Label).render())
        assert "inject:hostile: [@click=app.quit]advisory[/] \\x1b]2;pwned\\x07" in label
        assert app.is_running

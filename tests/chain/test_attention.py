"""Attention: a problem is new until acknowledged, an acknowledgement ends with the problem or
at its `until`, flapping within the hold is one problem, injects are news (docs/attention.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from chain.attention import LINK_RECOVERY, RECOVERY
from chain.crisislog import HOLD, EntryKind
from chain.engine import ChainEngine
from chain.flows import stall_level
from chain.views import ChainView, LinkState, ProcessState
from chain.wire import Acknowledgement, ExerciseInject, Isolation, decode
from tests.chain import factory as f
from tests.chain.test_alarm_decisions import stall_for
from tests.chain.traffic import INTERVAL, Feed, declared_by

T0 = f.T0_EPOCH


def ack(subject: str, at: float, *, by: str = "Bram", until: float | None = None,
        op_id: str | None = None) -> Acknowledgement:
    return Acknowledgement(
        id=op_id or f"k{at:.0f}{subject.replace(':', '-')}", author=by,
        ts=datetime.fromtimestamp(at, UTC), subject=subject, text="calling them",
        until=None if until is None else datetime.fromtimestamp(until, UTC))


def om_offline(engine: ChainEngine, at: float = T0 + 10, session: int = 1) -> ChainView:
    """om's birth at T0, its planned stop at `at`, evaluated just after."""
    engine.apply(f.online(session=session), received_at=min(at - 5, T0))
    engine.apply(f.offline(session=session, seq=9, cause="stopped"), received_at=at)
    return engine.evaluate(at + 1)


def acks(engine: ChainEngine) -> list[tuple[float, str, str]]:
    return [(e.at, e.subject, e.text) for e in engine.log.filtered(kinds=[EntryKind.ACK])]


def test_a_problem_is_new_until_someone_acknowledges_it(connected: ChainEngine) -> None:
    """om OFFLINE: new, marked on its row and counted, with an alert number; acknowledged, it
    is marked by whom and when on every later view, and the log says what was marked."""
    view = om_offline(connected)
    problem = view.problem("org:om")
    assert problem is not None
    assert (problem.state, problem.since, problem.new, problem.alert, problem.new_at) == (
        "offline", T0 + 10, True, 1, T0 + 10)
    assert (view.new_problems, view.org("om").new) == (1, True)
    connected.apply_op(ack("org:om", T0 + 60), received_at=T0 + 60)
    for view in (connected.view(T0 + 61), connected.evaluate(T0 + 3600)):
        problem = view.problem("org:om")
        assert problem is not None and not problem.new
        assert (problem.acknowledged_by, problem.acknowledged_at, problem.acknowledgement) == (
            "Bram", T0 + 60, "calling them")
        assert (view.new_problems, view.org("om").new, view.org("om").acknowledged_by) == (
            0, False, "Bram")
    assert acks(connected) == [(T0 + 60, "org:om", "acknowledged OFFLINE: calling them")]


def test_an_acknowledgement_until_a_time_expires_then(connected: ChainEngine) -> None:
    """Acknowledged until T0 + 600: acknowledged just before, new again at T0 + 600 with a new
    alert number, and the log says so at that moment."""
    om_offline(connected)
    connected.apply_op(ack("org:om", T0 + 60, until=T0 + 600), received_at=T0 + 60)
    before = connected.evaluate(T0 + 599).problem("org:om")
    assert before is not None and not before.new and before.acknowledged_until == T0 + 600
    after = connected.evaluate(T0 + 600).problem("org:om")
    assert after is not None and after.new
    assert (after.alert, after.new_at, after.since) == (2, T0 + 600, T0 + 10)
    assert acks(connected) == [
        (T0 + 60, "org:om", "acknowledged OFFLINE until 2025-07-17 09:10:00 UTC: calling them"),
        (T0 + 600, "org:om", "acknowledgement by Bram expired: OFFLINE is new again"),
    ]


def test_recovery_ends_the_acknowledgement_and_a_return_is_new(connected: ChainEngine) -> None:
    """Acknowledged, then back ONLINE: recovering (still acknowledged) until that has lasted
    RECOVERY, then gone; OFFLINE again after that is a new problem, new again."""
    om_offline(connected)
    connected.apply_op(ack("org:om", T0 + 60), received_at=T0 + 60)
    connected.apply(f.online(session=2, interval=900), received_at=T0 + 100)
    recovering = connected.evaluate(T0 + 101).problem("org:om")
    assert recovering is not None and not recovering.new
    assert recovering.recovering_since == T0 + 100
    assert connected.evaluate(T0 + 100 + RECOVERY).problems == ()
    view = om_offline(connected, at=T0 + 1000, session=2)
    problem = view.problem("org:om")
    assert problem is not None and problem.new
    assert (problem.since, problem.alert, view.new_problems) == (T0 + 1000, 2, 1)


def test_a_return_before_recovery_is_the_same_problem(connected: ChainEngine) -> None:
    """Back ONLINE for less than RECOVERY, then OFFLINE again: the same problem, since and
    acknowledgement kept, no new alert."""
    om_offline(connected)
    connected.apply_op(ack("org:om", T0 + 60), received_at=T0 + 60)
    connected.apply(f.online(session=2, interval=900), received_at=T0 + 100)
    connected.evaluate(T0 + 101)
    view = om_offline(connected, at=T0 + 100 + RECOVERY - 10, session=2)
    problem = view.problem("org:om")
    assert problem is not None and not problem.new
    assert (problem.since, problem.alert, problem.recovering_since) == (T0 + 10, 1, None)
    assert connected.attention.alerts == 1


def test_worse_than_what_was_acknowledged_is_new_again(connected: ChainEngine) -> None:
    """STALE acknowledged, then OFFLINE (its planned stop): new again, one problem still."""
    connected.apply(f.online(interval=5.0), received_at=T0)
    connected.evaluate(T0 + 1)
    assert connected.evaluate(T0 + 30).org("om").new  # STALE since T0 + 15
    connected.apply_op(ack("org:om", T0 + 31), received_at=T0 + 31)
    connected.apply(f.offline(seq=9, cause="stopped"), received_at=T0 + 40)
    problem = connected.evaluate(T0 + 41).problem("org:om")
    assert problem is not None and problem.new
    assert (problem.state, problem.since, problem.alert) == ("offline", T0 + 15, 2)


def test_a_stall_that_does_not_hold_is_no_problem(connected: ChainEngine) -> None:
    """STALLED for less than HOLD, then moving again: the screen showed it, but it never
    became a problem: no alert, nothing new."""
    feed = Feed(connected)
    feed.start(T0)
    at = feed.run(T0, T0 + 3600, evaluate=True)
    _, at = stall_for(feed, at, HOLD - 2 * INTERVAL)
    assert connected.view(at - INTERVAL).link("om-justid").state is LinkState.STALLED
    at = feed.run(at, at + 3600, evaluate=True)
    assert connected.attention.alerts == 0
    assert connected.evaluate(at).problems == ()


def stalled(feed: Feed, at: float, held: float) -> float:
    """Silence on the feed's link until it has been STALLED for `held` s; then."""
    last = feed.engine.view(at).link(feed.link.id).last_movement
    assert last is not None
    declared = declared_by(feed.engine, feed.link, last,
                           stall_level(feed.engine.topology.messages_per_year))
    return feed.run(at, declared + held, send=False, evaluate=True)


def test_a_link_flapping_within_the_hold_is_one_problem(connected: ChainEngine) -> None:
    """justid-justis (declared STALLED in 2 min at 11:00) stalls until it held (new, one
    alert), then moves once and stalls again, three times, FLOWING never for HOLD: one
    problem with its first since, one alert, still new."""
    feed = Feed(connected, "justid-justis")
    feed.start(T0)
    at = feed.run(T0, T0 + 3600, evaluate=True)
    at = stalled(feed, at, HOLD + INTERVAL)
    first = connected.evaluate(at).problem("link:justid-justis")
    assert first is not None and first.new and first.alert == 1
    for _ in range(3):
        at = feed.run(at, at + INTERVAL, evaluate=True)
        assert connected.view(at).link("justid-justis").state is LinkState.FLOWING
        at = stalled(feed, at, INTERVAL)
    assert len(connected.log.filtered(subject="justid-justis", kinds=[EntryKind.LINK])) == 1
    problem = connected.evaluate(at).problem("link:justid-justis")
    assert problem is not None and problem.new
    assert (problem.since, problem.alert, connected.attention.alerts) == (first.since, 1, 1)


def test_a_link_stalling_again_within_the_flapping_window_is_the_same_problem(
        connected: ChainEngine) -> None:
    """justid-justis stalls, flows long enough to be logged FLOWING, and stalls again within
    the log's flapping window: one problem, its first since, one alert (the log: one run).
    FLOWING for LINK_RECOVERY ends it; the next stall is new, with a new alert."""
    feed = Feed(connected, "justid-justis")
    feed.start(T0)
    at = stalled(feed, feed.run(T0, T0 + 3600, evaluate=True), HOLD + INTERVAL)
    first = connected.evaluate(at).problem("link:justid-justis")
    assert first is not None and first.alert == 1
    connected.apply_op(ack("link:justid-justis", at), received_at=at)
    at = feed.run(at, at + HOLD + 2 * INTERVAL, evaluate=True)
    recovering = connected.view(at).problem("link:justid-justis")
    assert recovering is not None and recovering.recovering_since is not None
    at = stalled(feed, at, HOLD + INTERVAL)
    [run] = connected.log.filtered(subject="justid-justis", kinds=[EntryKind.LINK])
    assert run.changes == 3
    again = connected.evaluate(at).problem("link:justid-justis")
    assert again is not None and not again.new
    assert (again.since, again.alert, again.acknowledged_by) == (first.since, 1, "Bram")
    at = feed.run(at, at + HOLD + LINK_RECOVERY, evaluate=True)
    assert connected.evaluate(at).problems == ()
    at = stalled(feed, at, HOLD + INTERVAL)
    fresh = connected.evaluate(at).problem("link:justid-justis")
    assert fresh is not None and fresh.new and fresh.alert == 2


def test_an_organisation_flapping_within_recovery_is_one_problem(
        connected: ChainEngine) -> None:
    """om STALE and back every half minute for ten minutes (each change logged at once): one
    problem, one alert; back for RECOVERY, it ends."""
    connected.apply(f.online(interval=5.0), received_at=T0)
    at = T0
    for seq in range(2, 22):
        connected.evaluate(at + 25)  # STALE since at + 15
        at += 30
        connected.apply(f.heartbeat(seq=seq), received_at=at)
        connected.evaluate(at)
    assert len(connected.log.filtered(subject="om", kinds=[EntryKind.ORG])) == 40
    problem = connected.view(at).problem("org:om")
    assert problem is not None and problem.new
    assert (problem.since, problem.alert, connected.attention.alerts) == (T0 + 15, 1, 1)
    for seq in range(22, 22 + int(RECOVERY // 5)):
        at += 5
        connected.apply(f.heartbeat(seq=seq), received_at=at)
    assert connected.evaluate(at).problems == ()


def test_an_acknowledgement_before_the_problem_held_is_kept(connected: ChainEngine) -> None:
    """Acknowledged while STALLED on the screen but not yet held: the problem begins
    acknowledged, never new, no alert; the log says what was acknowledged."""
    feed = Feed(connected)
    feed.start(T0)
    at = feed.run(T0, T0 + 3600, evaluate=True)
    _, at = stall_for(feed, at, INTERVAL)
    assert connected.view(at).link("om-justid").state is LinkState.STALLED
    connected.apply_op(ack("link:om-justid", at), received_at=at)
    _, at = stall_for(feed, at, HOLD + INTERVAL)
    problem = connected.evaluate(at).problem("link:om-justid")
    assert problem is not None and not problem.new
    assert (problem.alert, problem.new_at, problem.acknowledged_by) == (0, None, "Bram")
    assert [text for _, _, text in acks(connected)] == ["acknowledged STALLED: calling them"]


def test_an_acknowledgement_of_a_subject_without_a_problem_marks_nothing(
        connected: ChainEngine) -> None:
    """cjib ONLINE, acknowledged: logged as marking nothing; cjib OFFLINE later is new."""
    connected.apply(f.online(org="cjib"), received_at=T0)
    connected.evaluate(T0 + 1)
    connected.apply_op(ack("org:cjib", T0 + 2), received_at=T0 + 2)
    assert acks(connected) == [
        (T0 + 2, "org:cjib", "acknowledged (no problem: nothing marked): calling them")]
    connected.apply(f.offline(org="cjib", seq=9, cause="stopped"), received_at=T0 + 50)
    problem = connected.evaluate(T0 + 51).problem("org:cjib")
    assert problem is not None and problem.new


def test_an_acknowledgement_whose_time_has_passed_marks_nothing(connected: ChainEngine) -> None:
    """`until` before the acknowledgement arrives: logged, nothing marked."""
    om_offline(connected)
    connected.apply_op(ack("org:om", T0 + 60, until=T0 + 30), received_at=T0 + 60)
    problem = connected.evaluate(T0 + 61).problem("org:om")
    assert problem is not None and problem.new
    assert acks(connected)[0][2].startswith("acknowledged until 2025-07-17 09:00:30 UTC "
                                            "(its time has passed: nothing marked)")


def test_injects_are_new_until_acknowledged(connected: ChainEngine) -> None:
    """An inject is a problem, new, dated at its moment; acknowledged, it stays so (an
    inject never recovers), or, until a time, is new again then."""
    for inject_id, day in (("x1", 0), ("x2", 1)):
        connected.log.record_inject(ExerciseInject(
            id=inject_id, at=datetime.fromtimestamp(T0 + day, UTC), text=f"advisory {day}"))
    view = connected.evaluate(T0 + 5)
    assert [(p.subject, p.new, p.text) for p in view.problems] == [
        ("inject:x2", True, "advisory 1"), ("inject:x1", True, "advisory 0")]
    assert view.new_problems == 2
    connected.apply_op(ack("inject:x1", T0 + 10), received_at=T0 + 10)
    connected.apply_op(ack("inject:x2", T0 + 10, until=T0 + 100), received_at=T0 + 10)
    view = connected.evaluate(T0 + 11)
    assert [(p.subject, p.new) for p in view.problems] == [
        ("inject:x2", False), ("inject:x1", False)]
    assert view.new_problems == 0
    later = connected.evaluate(T0 + 86_400)
    assert [(p.subject, p.new) for p in later.problems] == [
        ("inject:x2", True), ("inject:x1", False)]


def test_a_blocked_process_shares_its_organisations_problem(connected: ChainEngine) -> None:
    """om OFFLINE, then its process BLOCKED once held: listed, grouped with om, new with om's
    alert, counted once; acknowledging the process acknowledges om too."""
    om_offline(connected)
    view = connected.evaluate(T0 + 10 + HOLD)
    assert view.process("charging").state is ProcessState.BLOCKED
    process, org = view.problem("process:charging"), view.problem("org:om")
    assert process is not None and org is not None
    assert (process.group, process.new, process.alert, view.new_problems) == (
        "org:om", True, org.alert, 1)
    connected.apply_op(ack("process:charging", T0 + 400), received_at=T0 + 400)
    view = connected.view(T0 + 401)
    assert [(p.subject, p.acknowledged_by) for p in view.problems] == [
        ("org:om", "Bram"), ("process:charging", "Bram")]
    assert [text for _, _, text in acks(connected)] == ["acknowledged OFFLINE: calling them"]


def test_a_blocked_process_ends_with_its_organisations_problem(connected: ChainEngine) -> None:
    """om back ONLINE for RECOVERY: its problem and its BLOCKED process's end together, at
    the same evaluation, both listed as recovered since om came back."""
    om_offline(connected)
    connected.evaluate(T0 + 10 + HOLD)
    connected.apply(f.online(session=2, interval=900), received_at=T0 + 400)
    view = connected.evaluate(T0 + 400 + RECOVERY)
    assert view.problems == ()
    assert [(p.subject, p.recovering_since) for p in view.recovered] == [
        ("org:om", T0 + 400), ("process:charging", T0 + 400)]
    assert connected.view(T0 + 400 + RECOVERY).recovered == ()


def test_a_blocked_process_of_an_isolated_organisation_is_no_problem(
        connected: ChainEngine) -> None:
    """om ISOLATED by the operators: its BLOCKED process is their decision, not a problem;
    nor, once the isolation is lifted, while its OK waits to hold."""
    connected.apply(f.online(), received_at=T0)
    connected.apply_op(Isolation(id="i1", author="duty", ts=f.TS, org="om", isolated=True),
                       received_at=T0 + 5)
    view = connected.evaluate(T0 + 5 + HOLD + 60)
    assert view.process("charging").state is ProcessState.BLOCKED
    assert (view.problems, view.new_problems) == ((), 0)
    connected.apply_op(Isolation(id="i2", author="duty", ts=f.TS, org="om", isolated=False),
                       received_at=T0 + 1000)
    connected.apply(f.online(session=2, interval=900), received_at=T0 + 1000)
    for at in range(1000, 1000 + int(HOLD) + 60, 30):  # its OK is waiting to hold
        assert connected.evaluate(T0 + at).problems == ()
    assert connected.attention.alerts == 0


def test_problems_sort_by_severity_then_recency(connected: ChainEngine) -> None:
    """OFFLINE before STALE, the most recent OFFLINE first; a subject without a problem
    sorts after every problem."""
    for org in ("om", "cjib", "justid"):
        connected.apply(f.online(org=org, interval=5.0), received_at=T0)
    connected.evaluate(T0 + 1)
    connected.apply(f.offline(org="om", seq=9, cause="stopped"), received_at=T0 + 10)
    connected.apply(f.offline(org="cjib", seq=9, cause="stopped"), received_at=T0 + 12)
    connected.apply(f.heartbeat(org="om", seq=3), received_at=T0 + 13)
    view = connected.evaluate(T0 + 30)  # justid STALE since T0 + 15
    assert [p.subject for p in view.problems] == ["org:cjib", "org:om", "org:justid"]
    keys = [view.sort_key(subject) for subject in ("org:cjib", "org:justid", "org:ind")]
    assert keys == sorted(keys)


def test_attention_survives_a_snapshot(connected: ChainEngine) -> None:
    """Problems, acknowledgements, a pending acknowledgement and the alert count come back
    from a snapshot, and the restored engine goes on alike."""
    om_offline(connected)
    connected.apply_op(ack("org:om", T0 + 60, until=T0 + 900), received_at=T0 + 60)
    connected.log.record_inject(ExerciseInject(id="x1", at=f.TS, text="advisory"))
    connected.apply(f.online(org="cjib"), received_at=T0)
    connected.apply(f.offline(org="cjib", seq=9, cause="stopped"), received_at=T0 + 50)
    connected.apply_op(ack("org:cjib", T0 + 55), received_at=T0 + 55)  # before it is held
    assert connected.snapshot().attention.pending
    raw = msgspec.msgpack.encode(connected.snapshot())
    restored = ChainEngine.from_snapshot(
        connected.topology, msgspec.msgpack.decode(raw, type=type(connected.snapshot())))
    assert msgspec.msgpack.encode(restored.snapshot()) == raw
    for at in (T0 + 61, T0 + 900):
        assert restored.evaluate(at) == connected.evaluate(at)
    assert restored.attention.alerts == connected.attention.alerts == 3
    cjib = restored.evaluate(T0 + 901).problem("org:cjib")
    assert cjib is not None and (cjib.new, cjib.acknowledged_by) == (False, "Bram")


@pytest.mark.parametrize("subject", ["org:om", "link:om-justid", "process:vog", "inject:X_1"])
def test_an_acknowledgement_names_any_subject_with_an_optional_until(subject: str) -> None:
    """Acknowledgements of every kind of subject, with `until`, round-trip; one from an older
    screen (no `until`) and one with a field a newer screen added decode, schema version 1."""
    op = ack(subject, T0, until=T0 + 600)
    assert msgspec.json.decode(msgspec.json.encode(op), type=Acknowledgement) == op
    plain = (b'{"kind":"ack","id":"k1","author":"a","ts":"2025-07-17T09:00:00Z",'
             b'"subject":"' + subject.encode() + b'","colour":"red"}')
    decoded = decode(plain)
    assert isinstance(decoded, Acknowledgement) and (decoded.until, decoded.v) == (None, 1)


def test_the_documented_acknowledgement_decodes() -> None:
    """docs/protocol.md's `ack` example is a valid acknowledgement of om, until 10:00 UTC."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    payload = re.search(r"_ops/ack/k-20250717-1 -m \\\n  '(.*?)'", text)
    assert payload, "acknowledgement example missing"
    op = decode(payload.group(1).encode())
    assert isinstance(op, Acknowledgement)
    assert (op.subject, op.until) == ("org:om", datetime(2025, 7, 17, 10, tzinfo=UTC))

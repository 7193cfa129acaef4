"""Operator actions and the crisis log: isolations, reports, annotations, state changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chain.crisislog import HOLD, CrisisLog, EntryKind
from chain.engine import ChainEngine
from chain.errors import PayloadError
from chain.views import OrgState
from chain.wire import (
    Acknowledgement,
    Annotation,
    ExerciseInject,
    Isolation,
    ManualReport,
    Op,
    decode,
    encode,
)
from ketenwacht.startup import load_topology
from tests.chain import factory as f

T0 = 1_752_742_800.0
TS = datetime(2025, 7, 17, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> ChainEngine:
    engine = ChainEngine(load_topology(None))
    engine.monitor_connected(T0)
    return engine


def test_ops_round_trip_and_refuse_bad_input() -> None:
    """Each operator action encodes and decodes; a malformed one is refused with a reason."""
    ops: list[Op] = [
        Annotation(id="a1", author="duty officer", ts=TS, text="NCSC advisory received"),
        Acknowledgement(id="k1", author="duty officer", ts=TS, subject="org:om"),
        ManualReport(id="r1", author="duty officer", ts=TS, org="cjib", channel="phone",
                     up=True, text="called duty desk: phones work", observed_at=TS),
        Isolation(id="i1", author="duty officer", ts=TS, org="om", isolated=True,
                  reason="OM cut itself off the internet"),
    ]
    for op in ops:
        assert decode(encode(op)) == op
    with pytest.raises(PayloadError, match="subject: expected str matching"):
        decode(b'{"kind":"ack","id":"x","author":"a","ts":"2025-07-17T09:00:00Z",'
                  b'"subject":"everything"}')


def test_isolation_overrides_offline_and_can_be_lifted(engine: ChainEngine) -> None:
    """ISOLATED wins over OFFLINE, survives re-delivery with its first since, and lifts."""
    engine.apply(f.online(), received_at=T0)
    engine.apply(f.offline(cause="lost"), received_at=T0 + 10)
    isolate = Isolation(id="i1", author="duty", ts=TS, org="om", isolated=True,
                        reason="deliberately disconnected")
    engine.apply_op(isolate, received_at=T0 + 20)
    engine.apply_op(isolate, received_at=T0 + 99)  # retained, delivered again on reconnect
    view = engine.view(T0 + 100).org("om")
    assert (view.state, view.since, view.cause) == (
        OrgState.ISOLATED, T0 + 20, "deliberately disconnected"
    )
    lift = Isolation(id="i2", author="duty", ts=TS, org="om", isolated=False)
    engine.apply_op(lift, received_at=T0 + 200)
    assert engine.view(T0 + 201).org("om").state is OrgState.OFFLINE


def test_manual_report_is_evidence_for_a_channel(engine: ChainEngine) -> None:
    """A phoned-in report that CJIB's phones work shows as the phone channel, with author."""
    engine.apply(f.online(org="cjib"), received_at=T0)
    report = ManualReport(id="r1", author="Anna", ts=TS, org="cjib", channel="phone", up=True,
                          text="called duty desk 14:03", observed_at=TS)
    engine.apply_op(report, received_at=T0 + 5)
    phone = engine.view(T0 + 6).org("cjib").channel("phone")
    assert phone is not None and phone.up
    assert phone.detail == "reported by Anna: called duty desk 14:03"
    entries = engine.log.filtered(kinds=[EntryKind.REPORT])
    assert [(e.subject, e.author, e.at) for e in entries] == [("cjib", "Anna", TS.timestamp())]


def test_every_state_change_is_logged_at_its_since(engine: ChainEngine) -> None:
    """Evaluations log transitions (not the starting point), each at the time it happened."""
    engine.apply(f.online(interval=5.0), received_at=T0)
    engine.evaluate(T0 + 1)
    engine.evaluate(T0 + 30)  # stale since T0 + 15
    engine.apply(f.offline(cause="lost"), received_at=T0 + 40)
    engine.evaluate(T0 + 41)
    org_entries = engine.log.filtered(subject="om", kinds=[EntryKind.ORG])
    assert [(e.at, e.text) for e in org_entries] == [
        (T0 + 15, "STALE: no heartbeat for 30s"),
        (T0 + 40, "OFFLINE: lost"),
    ]
    assert engine.log.filtered(kinds=[EntryKind.PROCESS]) == []  # not held for HOLD yet
    engine.evaluate(T0 + 40 + HOLD)
    processes = engine.log.filtered(kinds=[EntryKind.PROCESS])
    assert {(e.subject, e.at) for e in processes} >= {("charging", T0 + 40)}  # BLOCKED


def test_annotations_and_acks_are_logged_once(engine: ChainEngine) -> None:
    """Operator entries carry their author; the same op delivered twice is logged once."""
    note = Annotation(id="n1", author="Bram", ts=TS, text="OM press release at 10:00", org="om")
    engine.apply_op(note, received_at=T0 + 1)
    engine.apply_op(note, received_at=T0 + 2)
    engine.apply_op(Acknowledgement(id="k1", author="Bram", ts=TS, subject="org:om"),
                    received_at=T0 + 3)
    entries = engine.log.filtered(subject="om")
    assert [(e.kind, e.author) for e in entries] == [
        (EntryKind.ANNOTATION, "Bram"), (EntryKind.ACK, "Bram"),
    ]


def test_clock_skew_is_measured_but_never_decides_freshness(engine: ChainEngine) -> None:
    """An agent 10 minutes behind is flagged with its skew and still judged ONLINE."""
    beat = f.heartbeat(seq=2)
    engine.apply(f.online(), received_at=T0)
    engine.apply(beat, received_at=beat.ts.timestamp() + 600)
    view = engine.view(beat.ts.timestamp() + 601).org("om")
    assert view.clock_skew == pytest.approx(-600)
    assert view.state is OrgState.ONLINE


def test_recovery_is_logged_when_it_happens(engine: ChainEngine) -> None:
    """Back ONLINE after DEGRADED is dated at the recovery, not at the first online time; an
    organisation's changes are each an entry of their own, however close together."""
    engine.apply(f.online(interval=5.0), received_at=T0)
    engine.evaluate(T0 + 1)
    engine.apply(f.channel(up=False, seq=2), received_at=T0 + 2)
    engine.evaluate(T0 + 3)
    engine.apply(f.channel(up=True, seq=3), received_at=T0 + 4)
    engine.evaluate(T0 + 5)
    entries = engine.log.filtered(subject="om", kinds=[EntryKind.ORG])
    assert [(e.at, e.text) for e in entries] == [
        (T0 + 2, "DEGRADED: email down"), (T0 + 5, "ONLINE"),
    ]


def test_entries_that_arrive_out_of_order_are_filed_by_time_even_when_alike() -> None:
    """Two injects of the same moment and text, told after a later entry: filed by time,
    after each other (comparing two equal entries field by field once failed on a None)."""
    log = CrisisLog()
    log.record_op(Annotation(id="a", author="Bram", ts=TS, text="later"), T0 + 20)
    moment = datetime.fromtimestamp(T0 + 10, UTC)
    for number in (1, 2):
        log.record_inject(ExerciseInject(id=f"i{number}", at=moment, text="advisory"))
    assert [(e.at, e.kind) for e in log.entries] == [
        (T0 + 10, EntryKind.INJECT), (T0 + 10, EntryKind.INJECT), (T0 + 20, EntryKind.ANNOTATION)]

"""`ketenwacht status`: a one-shot, headless snapshot of the chain.

Its problems are new unless an acknowledgement arrived while it listened: acknowledgements
are events, not retained, so a snapshot knows only those (docs/attention.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence
from datetime import tzinfo

import aiomqtt
import msgspec

from chain import vocabulary
from chain.engine import ChainEngine
from chain.errors import BrokerUnavailableError
from chain.inbox import EngineSink
from chain.printable import inert_json, visible
from chain.topics import Topics
from chain.topology import Topology
from chain.views import ChainView, OrgState, Problem
from mqtt.address import BrokerAddress, as_brokers
from mqtt.connection import make_client
from mqtt.monitor import Monitor
from playback.following import ExerciseFollower, FollowingSink
from tui import format as fmt


async def snapshot(
    topology: Topology, brokers: BrokerAddress | Sequence[BrokerAddress], topics: Topics, *,
    wait: float,
) -> ChainView:
    """Listen for `wait` seconds (retained state arrives at once, heartbeats as they come),
    on the first of `brokers` that answers."""
    failures = []
    for address in as_brokers(brokers):
        try:
            return await _snapshot(topology, address, topics, wait=wait)
        except aiomqtt.MqttError as error:
            failures.append(f"{address.url}: {error}")
    raise BrokerUnavailableError(f"status: cannot reach broker {'; '.join(failures)}")


async def _snapshot(
    topology: Topology, address: BrokerAddress, topics: Topics, *, wait: float
) -> ChainView:
    engine = ChainEngine(topology)
    # An exercise's state is in the exercise's time, on its clock, as its players see it.
    follower = ExerciseFollower(topics.root) if topics.is_exercise else None
    sink = EngineSink(engine) if follower is None else FollowingSink(engine, follower)
    clock = time.time if follower is None else follower.now
    monitor = Monitor(address, topics, clock=clock)
    client = make_client(address, identifier=f"ketenwacht-status-{uuid.uuid4().hex[:8]}")
    async with client:
        sink.connection_changed(True, clock())
        await client.subscribe(topics.everything, qos=1)

        async def listen() -> None:
            async for received in client.messages:
                monitor.dispatch(sink, received.topic.value, received.payload, received.retain)

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await listen()
    # Evaluated, not only viewed: what is a problem, and new, is decided by evaluating.
    return engine.evaluate(clock())


def as_json(view: ChainView) -> str:
    """The exact strings agents and operators sent (a JSON reader gets them back), written
    so that printing the document to a terminal sends it no control or bidi character."""
    return inert_json(msgspec.json.format(msgspec.json.encode(view), indent=2).decode())


def as_text(view: ChainView, zone: tzinfo | None = None) -> str:
    """One line per organisation; causes come from agents and operators, so `visible`.
    Times in `zone`: the topology's, as the screen and the report show them."""
    lines = [
        f"{'organisation':<14} {'state':<11} {'since':<13} {'heartbeat':>9}  "
        f"{'email':<9} {'phone':<9} {'backlog':>8}  {'':<3}  cause"
    ]
    for org in view.orgs:
        lines.append(
            f"{visible(org.id):<14} {vocabulary.label(org.state):<11} "
            f"{fmt.clock_time(org.since, view.at, zone):<13} {fmt.age(org.heartbeat_age):>9}  "
            f"{fmt.channel(org.channel('email')):<9} {fmt.channel(org.channel('phone')):<9} "
            f"{fmt.count(org.backlog_total):>8}  {_mark(org.new, org.acknowledged_by)}  "
            f"{visible(org.cause)}"
        )
    if view.problems:
        lines.append("")
        lines.append(f"{len(view.problems)} problems, {view.new_problems} new "
                     "(most severe first, then the most recent):")
        lines += [_problem(problem, view.at, zone) for problem in view.problems]
        lines.append("")
    # The totals keep the lower-case value, as `--json` and the agents' messages spell it.
    totals = ", ".join(f"{view.count(s)} {s.value}" for s in OrgState if view.count(s))
    unattributed = f" ({view.unattributed} on no organisation's topic)" if view.unattributed else ""
    unknown = f"; {visible(view.unknown_senders)}" if view.unknown_senders else ""
    new = f"{view.new_problems} new problem{'' if view.new_problems == 1 else 's'}"
    lines.append(f"{len(view.orgs)} organisations: {totals}; {new}; "
                 f"{view.rejected} payloads rejected" + unattributed + unknown)
    return "\n".join(lines)


def _mark(new: bool, acknowledged_by: str) -> str:
    """`NEW` for a problem nobody acknowledged, `ack` for one someone did."""
    return "NEW" if new else "ack" if acknowledged_by else "   "


def _problem(problem: Problem, now: float, zone: tzinfo | None) -> str:
    """`NEW  ■ STALLED   link om-justid   since 11:02:00  STALLED: …`; for an acknowledged
    one, by whom and when instead."""
    term = vocabulary.of_value(problem.state)
    word = term.label if term is not None else f"· {problem.state.upper()}"
    about = f"{problem.kind} {problem.id}" + (
        f" (with {problem.group.partition(':')[2]})" if problem.group else "")
    if problem.new:
        said = problem.text
    else:
        until = (f" until {fmt.clock_time(problem.acknowledged_until, now, zone)}"
                 if problem.acknowledged_until is not None else "")
        said = (f"acknowledged by {problem.acknowledged_by} at "
                f"{fmt.clock_time(problem.acknowledged_at, now, zone)}{until}"
                + (f": {problem.acknowledgement}" if problem.acknowledgement else ""))
    return (f"  {_mark(problem.new, problem.acknowledged_by)}  {word:<11} {visible(about):<28} "
            f"since {fmt.clock_time(problem.since, now, zone):<13} {visible(said)}")

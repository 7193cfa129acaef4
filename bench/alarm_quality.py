"""Alarm quality: false alarms on a healthy simulated chain, and recall and delay on faults.

Healthy: every organisation and link of seeds/chain.toml, traffic from agents.traffic
(profiles, Poisson-like irregularity), heartbeats, channels and counters every 60 s, for
--weeks simulated weeks through the real ChainEngine, judged after every reading round.
A false alarm is a judgement showing a link neither FLOWING nor UNKNOWN (counted as
episodes: such a state beginning), and any crisis-log entry of kind LINK or PROCESS.
Targets: 0 and 0.

--traffic: agents.traffic shuffles arrivals within blocks of 6 expected messages, so its
healthy silences never exceed 12 expected messages, below the stall level (15.27): zero
false alarms there is partly by construction. "poisson" feeds every link a true seeded
Poisson stream at the same expected rate (bench/alarm_faults.PoissonTraffic), whose
silences are as long as chance makes them; the design then expects messages x e^-level
false STALLED episodes, printed beside what was found. The default runs both.

Faults (--seed): --faults faults at random moments of the same weeks, each in a fresh
engine (bench/alarm_faults.py): a sender stops (expect STALLED), a receiver stops while the
sender goes on (STUCK), an organisation dies without a Will (STALE; its links are shown
apart: those it sends on STALLED on what their receivers count, those it receives on
UNKNOWN "not reporting" once it is STALE), a channel goes down (DEGRADED). Per kind and
per link: recall (target 100 %), median delay from fault to declared, the median
theoretical delay for STALLED and STUCK (stall_level messages expected after the last
movement, by an integration of the topology's prior apart from the engine's, plus one
reading cadence), and the median of the ratios delay / theoretical (target <= 1.5).

Run: .venv/bin/python bench/alarm_quality.py [--weeks 8] [--faults 200] [--seed 1]
        [--traffic {simulator,poisson,both}] [--poisson-weeks W]
"""

from __future__ import annotations

import argparse
import math
import random
import shlex
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from alarm_faults import (
    EXPECTED,
    INTERVAL,
    KINDS,
    Outcome,
    PoissonTraffic,
    SimChain,
    plan,
    run,
)

from chain.crisislog import EntryKind, LogEntry
from chain.flows import stall_level
from chain.topology import Topology
from chain.views import LinkState, OrgState
from ketenwacht.startup import load_topology

EVALUATE_EVERY = INTERVAL
JUDGED = "every 60 s, after each reading round"
"""Every round: a silence is judged up to the latest report (chain.flows), so any STALLED
or STUCK shows from one round to a later one and is seen here, however short; on a busy
link a chance silence passes the level for a round or two only, which judging every 5 min
would mostly miss."""
QUIET = (LinkState.FLOWING, LinkState.UNKNOWN)
ALARMS = (LinkState.STALLED, LinkState.STUCK, LinkState.SLOW, LinkState.DOWN)
TRAFFICS = ("simulator", "poisson")


@dataclass
class Healthy:
    """What one healthy run showed."""

    traffic: str
    weeks: float
    judgements: int = 0
    episodes: list[tuple[str, str, float, float | None, str]] = field(default_factory=list)
    """Each false alarm episode: (link, state, judged at, since, cause)."""
    logged: list[LogEntry] = field(default_factory=list)
    """Crisis-log entries of kind LINK or PROCESS."""
    orgs: Counter[str] = field(default_factory=Counter)
    """Judgements of an organisation other than ONLINE, per "org state"."""
    messages: int = 0
    """What the links carried in the run, all together."""
    long_gaps: list[tuple[str, float, float]] | None = None
    """For Poisson traffic: the silences of the stream of at least the stall level."""
    took: float = 0.0


def healthy(topology: Topology, start: float, weeks: float, traffic: str,
            seed: int, level: float) -> Healthy:
    """Run the whole chain healthy for `weeks` on `traffic` ("simulator" or "poisson")."""
    began = time.perf_counter()
    result = Healthy(traffic, weeks)
    stream = PoissonTraffic(topology, seed, start - 3600, level) if traffic == "poisson" else None
    chain = SimChain(topology, topology.org_ids, topology.links, traffic=stream)
    chain.start(start - INTERVAL)
    end = start + weeks * 7 * 86_400
    previous: dict[str, LinkState] = {}
    at = start
    while at < end:
        chain.tick(at)
        if (at - start) % EVALUATE_EVERY == 0:
            result.judgements += 1
            view = chain.engine.evaluate(at)
            for link in view.links:
                if link.state not in QUIET and previous.get(link.id) is not link.state:
                    result.episodes.append((link.id, link.state.value, at, link.since,
                                            link.cause))
                previous[link.id] = link.state
            result.orgs.update(f"{o.id} {o.state.value}" for o in view.orgs
                               if o.state is not OrgState.ONLINE)
        at += INTERVAL
    result.logged = [entry for entry in chain.engine.log.entries
                     if entry.kind in (EntryKind.LINK, EntryKind.PROCESS)]
    result.messages = sum(chain.traffic(link, end) - chain.traffic(link, start)
                          for link in topology.links)
    if stream is not None:
        result.long_gaps = [g for g in stream.long_gaps if start <= g[1] < end]
    result.took = time.perf_counter() - began
    return result


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def row(label: str, rows: list[tuple[float | None, float | None]]) -> str:
    """One table line from (delay, theory) pairs; a delay of None is a miss."""
    found = [(d, t) for d, t in rows if d is not None]
    ratios = [d / t for d, t in found if t is not None and t > 0]
    ratio = median(ratios)
    return (f"  {label:<38} {len(rows):>3} {100 * len(found) / len(rows):>6.0f} % "
            f"{duration(median(d for d, _ in found)):>10} "
            f"{duration(median(t for _, t in rows)):>10} "
            f"{'-' if ratio is None else f'{ratio:.2f}':>6}")


def report(outcomes: list[Outcome]) -> None:
    header = (f"  {'kind / subject':<38} {'n':>3} {'recall':>8} {'delay':>10} "
              f"{'theory':>10} {'ratio':>6}")
    by_kind: dict[str, list[tuple[float | None, float | None]]] = defaultdict(list)
    by_subject: dict[tuple[str, str], list[tuple[float | None, float | None]]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.fault.kind].append((o.delay, o.theory))
        by_subject[(o.fault.kind, o.fault.subject)].append((o.delay, o.theory))
        for link, theory in o.link_theory.items():
            state, delay = o.links.get(link, ("", None))
            key = f"org dies: its links {state or 'missed'}"
            by_kind[key].append((delay, theory))
            by_subject[("links of dead org", link)].append((delay, theory))
    expected = EXPECTED
    print("\nfaults per kind (median delay, median theoretical, median of delay/theoretical)")
    print(header)
    for kind in sorted(by_kind, key=lambda k: (KINDS.index(k) if k in KINDS else 9, k)):
        label = f"{kind} -> {expected[kind]}" if kind in expected else kind
        print(row(label, by_kind[kind]))
    print("\nper subject")
    print(header)
    for (kind, subject), rows in sorted(by_subject.items()):
        print(row(f"{kind}: {subject}", rows))


def report_healthy(runs: list[Healthy], topology: Topology, level: float) -> None:
    """Side by side: what each healthy run showed and what the design predicts."""
    zone = ZoneInfo(topology.timezone)

    def local(t: float | None) -> str:
        if t is None:
            return "-"
        return datetime.fromtimestamp(t, zone).strftime("%a %Y-%m-%d %H:%M:%S")

    def line(label: str, values: Iterable[object]) -> None:
        print(f"  {label:<50}" + "".join(f"{v!s:>12}" for v in values))

    print(f"\nhealthy chain: {len(topology.org_ids)} orgs, {len(topology.links)} links, "
          f"judged {JUDGED}; stall level {level:.2f}, e^-level = {math.exp(-level):.2e}")
    line("traffic", (r.traffic for r in runs))
    line("weeks", (f"{r.weeks:g}" for r in runs))
    line("judgements", (r.judgements for r in runs))
    line("messages carried", (r.messages for r in runs))
    line("false alarm episodes", (len(r.episodes) for r in runs))
    for state in ALARMS:
        line(f"  {state.value.upper()}",
             (sum(1 for e in r.episodes if e[1] == state.value) for r in runs))
    line("expected false STALLED by the budget (msgs x e^-level)",
         (f"{r.messages * math.exp(-level):.2f}" for r in runs))
    line("stream silences >= level (between arrivals)",
         ("0 (<= 12)" if r.long_gaps is None else len(r.long_gaps) for r in runs))
    line("crisis-log entries of kind link/process", (len(r.logged) for r in runs))
    line("org judgements other than online", (sum(r.orgs.values()) for r in runs))
    line("run time", (f"{r.took:.0f} s" for r in runs))
    links = sorted({e[0] for r in runs for e in r.episodes})
    if links:
        print("  false alarm episodes by link")
        for link in links:
            line(f"  {link}", (sum(1 for e in r.episodes if e[0] == link) for r in runs))
    for r in runs:
        if r.episodes:
            print(f"\n  false alarms ({r.traffic}): link, state, first judged, since, cause")
            for link, shown, at, since, cause in r.episodes:
                print(f"    {link} {shown.upper()} judged {local(at)} "
                      f"since {local(since)}: {cause}")
        if r.logged:
            print(f"\n  crisis-log link/process entries ({r.traffic})")
            for entry in r.logged:
                print(f"    {local(entry.at)} {entry.kind.value} {entry.subject} "
                      f"{entry.state}: {entry.text}")
        if r.long_gaps:
            print(f"\n  stream silences of at least the stall level ({r.traffic}): "
                  "link, began, length in expected messages")
            for link, began, gap in r.long_gaps:
                print(f"    {link} {local(began)} {gap:.2f}")
        if r.orgs:
            print(f"\n  organisation judgements other than online ({r.traffic})"
                  + "".join(f"\n    {k}: {n}" for k, n in r.orgs.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=float, default=8.0, help="healthy weeks simulated")
    parser.add_argument("--faults", type=int, default=200, help="faults injected, kinds in turn")
    parser.add_argument("--seed", type=int, default=1,
                        help="faults, and the Poisson traffic's streams")
    parser.add_argument("--traffic", choices=(*TRAFFICS, "both"), default="both",
                        help="healthy traffic: agents.traffic's (silences <= 12 expected "
                        "messages by construction), a true Poisson stream, or both")
    parser.add_argument("--poisson-weeks", type=float, default=None,
                        help="healthy weeks of the Poisson run (default: --weeks)")
    parser.add_argument("--start", default="2025-10-13",
                        help="first day (local midnight; the default spans a DST change)")
    args = parser.parse_args()
    topology = load_topology(None)
    level = stall_level(topology.messages_per_year)
    start = datetime.fromisoformat(args.start).replace(
        tzinfo=ZoneInfo(topology.timezone)).timestamp()
    print("command:", shlex.join([".venv/bin/python", "bench/alarm_quality.py", *sys.argv[1:]]))
    print(f"stall level {level:.1f} expected messages; readings every {INTERVAL:.0f} s")
    traffics = TRAFFICS if args.traffic == "both" else (args.traffic,)
    weeks = {"simulator": args.weeks, "poisson": args.poisson_weeks or args.weeks}
    runs = [healthy(topology, start, weeks[t], t, args.seed, level) for t in traffics]
    report_healthy(runs, topology, level)
    rng = random.Random(args.seed)
    faults = plan(topology, rng, args.faults, start + 86_400, start + args.weeks * 7 * 86_400)
    began = time.perf_counter()
    outcomes = [run(topology, fault, level) for fault in faults]
    report(outcomes)
    print(f"\n{len(outcomes)} faults ({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()

"""Command-line entry point: parses arguments, runs one command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from chain.errors import EX_USAGE, KetenwachtError, UsageError
from chain.printable import visible
from chain.topics import DEFAULT_ROOT, Topics
from ketenwacht.startup import Alerts, load_topology
from mqtt.address import Brokers, Identity, parse_brokers, with_identity


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EX_USAGE, f"{self.prog}: {message} (see --help)\n")


def _number(text: str, expected: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def _positive(text: str) -> float:
    value = _number(text, "a number")
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"expected a number above 0 and at most 86400, got {text}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65_536:
        raise argparse.ArgumentTypeError(f"expected a port 1-65535, got {text!r}")
    return int(text)


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    value = _number(text, "a speed or 'max'")
    if not 0 < value <= 10_000_000:
        raise argparse.ArgumentTypeError(f"expected a speed above 0, or 'max', got {text}")
    return value


def _speed_number(text: str) -> float:
    value = _speed(text)
    if value is None or value > 86_400:
        raise argparse.ArgumentTypeError(f"expected a scale above 0 and at most 86400, got {text}")
    return value


def _seed(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise argparse.ArgumentTypeError(f"expected a whole number 0 or more, got {text!r}")
    return int(text)


def _exercise_name(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", text):
        raise argparse.ArgumentTypeError(
            f"expected an exercise name (lower case, digits, - and _), got {text!r}")
    return text


def _client_id(text: str) -> str:
    # Printable ASCII without MQTT's wildcards and separator: safe on every broker we support.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", text):
        raise argparse.ArgumentTypeError(
            f"expected a client id (1-64 letters, digits, '_', '-'), got {text!r}")
    return text


def _hours(text: str) -> float:
    value = _number(text, "a number of hours")
    if not 0 <= value <= 24 * 366:
        raise argparse.ArgumentTypeError(f"expected 0 to 8784 hours, got {text}")
    return value


def _history_options(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument(
        "--history", type=Path,
        help=f"recording kept across restarts (default: the state directory's {default_name})",
    )
    parser.add_argument(
        "--history-hours", type=_hours, default=24.0,
        help="hours of it to replay at start (default 24; 0: no history, no recording)",
    )


def _alert_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-bell", action="store_true",
                        help="no terminal bell for a new problem (b switches it on the screen)")
    parser.add_argument("--no-notify", action="store_true",
                        help="no notification for a new problem (n switches it)")


def _alerts(args: argparse.Namespace) -> Alerts:
    return Alerts(bell=not args.no_bell, notify=not args.no_notify)


BROKER_HELP = ("mqtt[s]://[user@]host[:port]; the nodes of a cluster comma-separated, "
               "tried in turn")


def _broker_options(parser: argparse.ArgumentParser, *, required: bool,
                    text: str = BROKER_HELP) -> None:
    parser.add_argument("--broker", required=required, help=text)
    parser.add_argument(
        "--identity", type=Path, metavar="DIR",
        help="a folder from `broker init` (clients/USER/): its ca.pem verifies the broker, "
             "its client certificate (and password, for a URL naming the user) log in")


def _brokers(args: argparse.Namespace) -> Brokers:
    identity = Identity.of(args.identity) if args.identity else None
    return with_identity(parse_brokers(args.broker), identity)


def _nats_server_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nats-server", type=Path, metavar="PATH",
                        help="the nats-server binary (default: the one installed with "
                             "ketenwacht, else nats-server on PATH)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ketenwacht", description=__doc__)
    parser.add_argument("--topology", type=Path, help="chain topology (default: seeds/chain.toml)")
    parser.add_argument("--root", help=f"topic root (default {DEFAULT_ROOT}; "
                                         "replay and report: the recording's own)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="embedded broker, simulated chain and the live TUI")
    demo.add_argument("--port", type=_port, help="embedded broker port (default: a free one)")
    demo.add_argument("--interval", type=_positive, default=2.0, help="heartbeat seconds")
    demo.add_argument("--pace", type=_positive, default=60.0,
                      help="simulated time per second; the links carry that many times "
                           "their traffic (default 60)")
    demo.add_argument("--seed", type=_seed,
                      help="which incidents the simulated chain has, and when (default: the "
                           "demo's own, the same every start)")
    demo.add_argument("--calm", action="store_true",
                      help="no incidents: a healthy chain, but for a channel's blip now and "
                           "then")
    _history_options(demo, "demo-history.sqlite")
    _alert_options(demo)
    _nats_server_option(demo)

    agent = commands.add_parser(
        "agent",
        help="run one organisation's agent",
        usage="ketenwacht agent --config FILE [--check]\n"
        "       ketenwacht agent set --config FILE TARGET VALUE\n"
        "       ketenwacht agent --simulate --org ORG --broker URL",
        description="TARGET is flow:LINK or backlog:PROCESS, as named by a [[probe]] of "
        "type manual.",
    )
    actions = agent.add_subparsers(dest="agent_action", metavar="")
    manual = actions.add_parser(
        "set", prog="ketenwacht agent set", help="set a value for a probe of type manual"
    )
    manual.add_argument("--config", dest="set_config", type=Path, required=True)
    manual.add_argument("target", help="flow:LINK or backlog:PROCESS")
    manual.add_argument("value", help="a whole number, 0 or more")
    agent.add_argument("--config", type=Path, help="the agent's TOML configuration")
    agent.add_argument("--check", action="store_true", help="validate, run each probe once")
    agent.add_argument("--simulate", action="store_true", help="simulated readings (demo)")
    agent.add_argument("--org", help="with --simulate: organisation id from the topology")
    _broker_options(agent, required=False, text=f"with --simulate: {BROKER_HELP}")
    agent.add_argument("--interval", type=_positive, default=5.0, help="with --simulate")
    agent.add_argument("--pace", type=_positive, default=1.0, help="with --simulate")
    agent.add_argument("--state-dir", type=Path, help="with --simulate: session counter dir")
    agent.add_argument("-v", "--verbose", action="store_true")

    broker = commands.add_parser(
        "broker",
        help="run the embedded broker (NATS) or a node of a NATS setup; `broker init` makes "
        "a production setup for Mosquitto or NATS",
        usage="ketenwacht broker [--host HOST] [--port PORT] [--nats-server PATH]\n"
        "       ketenwacht broker --config NODE_DIR [--nats-server PATH]\n"
        "       ketenwacht broker init --out DIR --hostname NAME [--engine nats --nodes 3] "
        "[options]\n"
        "       ketenwacht broker init --out DIR --rotate USER",
        description="Without --config the embedded broker (a supervised nats-server) has no "
        "credentials and binds loopback only; with --config NODE_DIR (a node's folder from "
        "`broker init --engine nats`) it runs that node: TLS, client certificates and the "
        "ACL.",
    )
    broker_actions = broker.add_subparsers(dest="broker_action", metavar="")
    from ketenwacht.broker_commands import add_init_options

    add_init_options(
        broker_actions.add_parser("init", prog="ketenwacht broker init",
                                  help="write a production setup (Mosquitto or a NATS "
                                  "cluster) from the topology"),
        port=_port,
    )
    broker.add_argument("--host", default="127.0.0.1")
    broker.add_argument("--port", type=_port, help="default 1883, or the setup's TLS port")
    broker.add_argument("--config", type=Path,
                        help="a node's folder made by `broker init --engine nats`")
    _nats_server_option(broker)

    tui = commands.add_parser("tui", help="the live TUI against an existing broker")
    _broker_options(tui, required=True)
    tui.add_argument("--exercise", metavar="NAME", type=_exercise_name,
                     help="follow exercise NAME (its root only, on its clock) instead of the "
                          "live chain")
    _history_options(tui, "history.sqlite")
    _alert_options(tui)

    exercise = commands.add_parser(
        "exercise", help="run a scenario under its exercise root, with the leader's screen")
    exercise.add_argument("scenario", type=Path, help="e.g. seeds/scenarios/om-offline-2025.toml")
    _broker_options(exercise, required=False,
                    text=f"publish on this broker (default: an embedded one): {BROKER_HELP}")
    exercise.add_argument("--scale", type=_speed_number, default=None,
                          help="exercise seconds per second (default: the scenario's, "
                               "1440 is a day a minute; at most 86400)")
    exercise.add_argument("--headless", action="store_true",
                          help="no screen: players follow with `tui --exercise NAME`")
    _alert_options(exercise)
    exercise.add_argument("--record", type=Path,
                          help="recording of the exercise (default: the state directory's "
                               "exercise-NAME.sqlite)")

    record = commands.add_parser("record", help="record every message under the root to SQLite")
    _broker_options(record, required=True)
    record.add_argument("--out", type=Path,
                        help="the recording (default: the state directory's recording.sqlite)")
    record.add_argument("--keep-days", type=_positive, help="prune what is older (default: keep)")
    record.add_argument(
        "--session", type=_client_id, metavar="ID",
        help="client id of the recorder's persistent session, in which the broker holds what "
             "arrives while the recorder is away (default: from this host and --out)")

    replay = commands.add_parser(
        "replay", help="play a recording on the screen, on its own clock (space, + -, s)")
    replay.add_argument("recording", type=Path, help="a recording (ketenwacht record, demo, tui)")
    replay.add_argument("--speed", type=_speed, default=60.0,
                        help="recorded seconds per second, or 'max' (default 60)")
    replay.add_argument("--index", action="store_true",
                        help="only make the checkpoints that let a replay seek at once")
    replay.add_argument("--quiet", action="store_true", help="with --index: no progress")
    _alert_options(replay)
    _broker_options(replay, required=False,
                    text="publish into this broker under an exercise root instead of showing "
                         f"it here: {BROKER_HELP}")
    replay.add_argument("--name", type=_exercise_name,
                        help="with --broker: the exercise name (default replay-<file name>)")

    status = commands.add_parser("status", help="one-shot snapshot of chain state")
    _broker_options(status, required=True)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--wait", type=_positive, default=3.0, help="seconds to listen")

    report = commands.add_parser("report", help="after-action report of a recording")
    report.add_argument("recording", type=Path, help="a recording (record, tui, demo, exercise)")
    report.add_argument("--format", choices=("md", "html", "json"), default="md",
                        help="md (default), html (with charts: needs ketenwacht[report]) or "
                        "json (machine-readable, docs/report-json.md)")
    report.add_argument("--out", metavar="FILE", help="where to write it (default: beside "
                        "the recording, REC.md, REC.html or REC.json; '-': standard output)")
    report.add_argument("--root", dest="report_root", metavar="ROOT",
                        help="topic root (default: the most common root in the recording)")
    return parser


def run(args: argparse.Namespace) -> int:
    # Each command imports only what it needs: `--help` stays fast, and an agent daemon
    # never loads the UI or the embedded broker.
    topics = Topics(args.root or DEFAULT_ROOT)
    if args.command == "agent":
        return _agent(args, topics)
    if args.command == "record":
        from agents.session import default_state_dir
        from ketenwacht.record import recorder_session, run_recorder
        from ketenwacht.startup import configure_logging

        configure_logging(verbose=False)
        out = args.out or default_state_dir() / "recording.sqlite"
        asyncio.run(run_recorder(_brokers(args), topics, out,
                                 keep_days=args.keep_days,
                                 session=args.session or recorder_session(out, topics)))
        return 0
    if args.command == "broker":
        from ketenwacht import broker_commands

        if args.broker_action == "init":
            return broker_commands.broker_init(args)
        asyncio.run(broker_commands.run_broker(args.host, args.port, args.config,
                                                 args.nats_server))
        return 0
    if args.command == "report":
        from ketenwacht.report import run_report

        return run_report(
            args.recording, fmt=args.format, out=args.out, topology=load_topology(args.topology),
            root=args.report_root or args.root,
        )
    if args.command == "status":
        from ketenwacht.status import as_json, as_text, snapshot
        from tui.format import zone_of

        topology = load_topology(args.topology)
        view = asyncio.run(snapshot(topology, _brokers(args), topics, wait=args.wait))
        print(as_json(view) if args.json else as_text(view, zone_of(topology.timezone)))
        return 0
    if args.command == "exercise" or (args.command == "tui" and args.exercise):
        from ketenwacht import exercise

        topology = load_topology(args.topology)
        if args.command == "tui":
            asyncio.run(exercise.follow(topology, args.exercise, _brokers(args),
                                        alerts=_alerts(args)))
            return 0
        scenario = exercise.load_scenario(args.scenario, topology)
        asyncio.run(exercise.lead(
            topology, scenario,
            broker=_brokers(args) if args.broker else None,
            scale=args.scale or scenario.scenario.scale, headless=args.headless,
            record=args.record, alerts=_alerts(args),
        ))
        return 0
    if args.command == "replay":
        from ketenwacht import replay

        if args.index:
            return replay.index(load_topology(args.topology), args.recording, args.root,
                                quiet=args.quiet)
        if args.broker:
            asyncio.run(replay.into_broker(args.recording, _brokers(args),
                                           root=args.root, name=args.name, speed=args.speed))
            return 0
        asyncio.run(replay.on_screen(load_topology(args.topology), args.recording, args.root,
                                     args.speed, alerts=_alerts(args)))
        return 0
    from agents.session import default_state_dir
    from ketenwacht import commands

    topology = load_topology(args.topology)
    if args.command in ("demo", "tui"):
        name = "demo-history.sqlite" if args.command == "demo" else "history.sqlite"
        history = commands.History(args.history or default_state_dir() / name,
                                   args.history_hours)
    match args.command:
        case "demo":
            if args.calm and args.seed is not None:
                raise UsageError("demo --calm has no incidents: leave out --seed")
            from agents.incidents import DEFAULT_SEED

            seed = None if args.calm else DEFAULT_SEED if args.seed is None else args.seed
            asyncio.run(
                commands.run_demo(
                    topology, port=args.port, interval=args.interval, pace=args.pace,
                    topics=topics, history=history, seed=seed,
                    nats_server=args.nats_server, alerts=_alerts(args),
                )
            )
        case "tui":
            asyncio.run(
                commands.run_tui(topology, _brokers(args), topics, history,
                                 alerts=_alerts(args))
            )
    return 0


def _agent(args: argparse.Namespace, topics: Topics) -> int:
    from agents.session import default_state_dir
    from ketenwacht import agent_commands
    from ketenwacht.startup import configure_logging

    if args.agent_action == "set":
        return agent_commands.set_manual(args.set_config, args.target, args.value)
    if args.simulate:
        if args.config or not (args.org and args.broker):
            raise UsageError("agent --simulate takes --org ORG --broker URL, and no --config")
        configure_logging(verbose=args.verbose, org=args.org)
        agent = agent_commands.simulated_agent(
            load_topology(args.topology),
            args.org,
            _brokers(args),
            topics=topics,
            interval=args.interval,
            pace=args.pace,
            state_dir=args.state_dir or default_state_dir(),
        )
        asyncio.run(agent_commands.run_agent(agent))
        return 0
    if args.config is None:
        raise UsageError("agent needs --config FILE (or --simulate --org ORG --broker URL)")
    if args.check:
        return agent_commands.check(args.config, load_topology(args.topology))
    return agent_commands.run_configured(args.config, verbose=args.verbose)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except KetenwachtError as error:
        # A file name or a value quoted from a file may carry control sequences.
        print(f"ketenwacht: {visible(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130

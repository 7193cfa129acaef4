"""The command palette (ctrl+p, or g): every action of the screen and every organisation.

Unfiltered it lists the actions first, then the organisations; typing narrows both. An
action runs as its key would: on the highlighted row of the table in view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui import untrusted

if TYPE_CHECKING:
    from tui.app import KetenwachtApp


@dataclass(frozen=True, slots=True)
class Command:
    title: str
    """Textual markup (the palette reads it): anything from a file is escaped."""
    help: str
    run: Callable[[], object]


ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Overview", "1 · every organisation", "tab('overview')"),
    ("Flows", "2 · every link between organisations", "tab('flows')"),
    ("Impact", "3 · processes at risk, why, data as of when", "tab('impact')"),
    ("Crisis log", "4 · every change, annotation and report", "tab('log')"),
    ("Filter the table", "/ · rows containing a word; Esc clears it", "filter"),
    ("Annotate the crisis log", "a", "act('annotation')"),
    ("Manual report", "r · evidence, e.g. called CJIB: phones work", "act('report')"),
    ("Isolate or lift", "i · the highlighted row's organisation", "act('isolation')"),
    ("Acknowledge the problem", "c · the highlighted row's, on every screen", "act('ack')"),
    ("Sort by severity", "o · problems first, then the most recent; again: topology order",
     "sort"),
    ("Bell for new problems", "b · on / off", "toggle_bell"),
    ("Notifications of new problems", "n · on / off", "toggle_notify"),
    ("Theme", "t · dark, light, colour-blind", "toggle_theme"),
    ("Help", "? · every key", "help"),
    ("Quit", "q", "quit"),
)
"""Title, help (the key first) and the app action each runs."""


def commands(app: KetenwachtApp) -> Iterator[Command]:
    for title, help_text, action in ACTIONS:
        yield Command(title, help_text, partial(app.run_action, action))
    for org in app.engine.topology.organisations:
        yield Command(untrusted.markup(f"Open {org.id} · {org.name}"), "drill-down",
                      partial(app.open_org, org.id))


class ScreenCommands(Provider):
    def _commands(self) -> list[Command]:
        from tui.app import KetenwachtApp

        app = self.app
        return list(commands(app)) if isinstance(app, KetenwachtApp) else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            if (score := matcher.match(command.title)) > 0:
                yield Hit(score, matcher.highlight(command.title), command.run,
                          help=command.help)

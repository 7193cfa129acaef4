"""The screen in replay and exercise mode: a banner no one can mistake for the live chain,
and the exercise leader's keys: pause, speed, seek."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Header, Input, Label, Static

from chain.engine import ChainEngine
from chain.errors import UsageError
from tui import untrusted
from tui.app import Feed, KetenwachtApp, Publish
from tui.moments import SEEK_HELP, parse_moment
from tui.screens.org import OrgScreen


class PlaybackControl(Protocol):
    """A replay or an exercise, as the keyboard steers it. A replay's `flat_out` and
    `seeking`, where it has them, silence the bell and notifications (`quiet`)."""

    kind: str
    """REPLAY or EXERCISE: the banner's first word."""
    day_zero: float

    def now(self) -> float: ...
    def describe(self) -> str: ...
    def toggle_pause(self) -> None: ...
    def faster(self) -> None: ...
    def slower(self) -> None: ...
    def seek(self, at: float) -> None: ...


class Banner(Static):
    """Shown for the whole replay or exercise, on every tab and in every drill-down."""


class SeekScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="seek-form"):
            yield Label("Go to which moment?")
            yield Input(placeholder=SEEK_HELP, id="moment")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class PlaybackApp(KetenwachtApp):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "Pause/resume"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("s", "seek", "Seek"),
        Binding("left_square_bracket", "step(-3600)", "-1h", show=False),
        Binding("right_square_bracket", "step(3600)", "+1h", show=False),
        Binding("left_curly_bracket", "step(-86400)", "-1d", show=False),
        Binding("right_curly_bracket", "step(86400)", "+1d", show=False),
    ]

    def __init__(self, engine: ChainEngine, feed: Feed, *, control: PlaybackControl,
                 broker_url: str, subtitle: str = "", publish: Publish | None = None,
                 bell: bool = True, notify: bool = True) -> None:
        super().__init__(engine, feed, broker_url=broker_url, subtitle=subtitle,
                         publish=publish, clock=control.now, bell=bell, notify=notify)
        self.control = control
        self._skipping = False
        self.title = f"Ketenwacht — {control.kind} — not the live chain"

    def compose(self) -> ComposeResult:
        self.banner = Banner("", id="banner")
        widgets = iter(super().compose())
        yield next(widgets)  # the header stays on top; the banner right under it
        yield self.banner
        yield from widgets

    def quiet(self) -> bool:
        """No bell, no notification while a replay plays flat out or seeks, nor at the first
        redraw after (what it skipped past is no news): only at a pace one can follow."""
        skipping = bool(getattr(self.control, "flat_out", False)
                        or getattr(self.control, "seeking", False))
        quiet, self._skipping = skipping or self._skipping, skipping
        return quiet

    def _refresh_if_due(self) -> None:
        self.redraw()  # virtual time moves on its own: every tick is due

    def redraw(self) -> None:
        super().redraw()
        if not self.screen_stack:
            return
        # Names and titles come off the wire, a recording's name from its file.
        text = untrusted.markup(f"{self.control.kind}  ·  {self.control.describe()}")
        self.banner.update(text)
        if isinstance(self.screen, OrgScreen):
            shown, header = self.screen.query(Banner), self.screen.query(Header)
            if shown:
                shown.first().update(text)
            elif header:  # composed: the banner goes right under its header
                self.screen.mount(Banner(text), after=header.first())

    def _steer(self, step: Callable[[], None]) -> None:
        try:
            step()
        except UsageError as error:
            self.notify(untrusted.markup(str(error)), severity="warning", timeout=6)
        self.redraw()

    def action_pause(self) -> None:
        self._steer(self.control.toggle_pause)

    def action_faster(self) -> None:
        self._steer(self.control.faster)

    def action_slower(self) -> None:
        self._steer(self.control.slower)

    def action_step(self, seconds: float) -> None:
        self._seek_to(self.control.now() + seconds)

    def action_seek(self) -> None:
        self.push_screen(SeekScreen(), self._seek_typed)

    def _seek_typed(self, typed: str | None) -> None:
        if not typed:
            return
        try:
            at = parse_moment(typed, now=self.control.now(), day_zero=self.control.day_zero,
                              zone=self.zone)
        except UsageError as error:
            self.notify(untrusted.markup(str(error)), severity="error", timeout=8)
            return
        self._seek_to(at)

    def _seek_to(self, at: float) -> None:
        self._steer(lambda: self.control.seek(at))

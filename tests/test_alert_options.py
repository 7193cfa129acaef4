"""`--no-bell` and `--no-notify` reach the screen that `tui` starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ketenwacht import cli
from mqtt.address import BrokerAddress
from tui.app import KetenwachtApp


@pytest.mark.parametrize(("flags", "bell", "notify"), [
    ((), True, True), (("--no-bell",), False, True), (("--no-bell", "--no-notify"), False, False),
])
def test_the_options_reach_the_live_screen(
        flags: tuple[str, ...], bell: bool, notify: bool, mosquitto: BrokerAddress,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The screen `ketenwacht tui` builds rings and notifies as its options say."""
    seen: list[KetenwachtApp] = []

    async def instead_of_running(self: KetenwachtApp) -> None:
        seen.append(self)

    monkeypatch.setattr(KetenwachtApp, "run_async", instead_of_running)
    assert cli.main(["tui", "--broker", mosquitto.url, "--history-hours", "0", *flags]) == 0
    (app,) = seen
    assert (app.ring_bell, app.notify_new) == (bell, notify)

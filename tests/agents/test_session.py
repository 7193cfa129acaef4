"""The agent's session number grows across starts, even when its state directory is lost."""

from __future__ import annotations

from pathlib import Path

from agents.session import next_session

NOW = 1_752_742_800.0


def test_a_lost_state_directory_still_gives_a_higher_session(tmp_path: Path) -> None:
    """A reinstalled host (no counter on disk) starts above every earlier session."""
    first = next_session(tmp_path / "state", "om", now=NOW)
    second = next_session(tmp_path / "state", "om", now=NOW + 60)
    reinstalled = next_session(tmp_path / "fresh", "om", now=NOW + 120)
    assert first < second < reinstalled


def test_a_clock_set_back_still_gives_a_higher_session(tmp_path: Path) -> None:
    """With the counter kept, a clock that goes back an hour changes nothing."""
    first = next_session(tmp_path, "om", now=NOW)
    assert next_session(tmp_path, "om", now=NOW - 3600) == first + 1
    assert (tmp_path / "om.session").read_text() == f"{first + 1}\n"

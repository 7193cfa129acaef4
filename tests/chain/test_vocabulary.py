"""The one table of state words: complete, unambiguous, and in step with the style sheets."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from chain import vocabulary
from chain.vocabulary import ENUMS, TABLE, State

ROOT = Path(__file__).resolve().parents[2]
EVERY_STATE: list[State] = [state for enum in ENUMS for state in enum]


@pytest.mark.parametrize("state", EVERY_STATE, ids=lambda s: f"{type(s).__name__}.{s.name}")
def test_every_state_has_a_symbol_and_a_word(state: State) -> None:
    """A new state without a row fails here, not as a KeyError on the operator's screen."""
    term = vocabulary.term(state)
    assert term.state is state
    assert term.symbol.strip() and term.word.strip()
    assert vocabulary.label(state) == f"{term.symbol} {term.word}"


def test_each_state_has_one_row_and_nothing_else_has_one() -> None:
    rows = Counter((type(t.state), t.state) for t in TABLE)
    assert sorted(rows.values()) == [1] * len(EVERY_STATE)
    assert set(rows) == {(type(s), s) for s in EVERY_STATE}


def test_the_word_is_the_value_written_large() -> None:
    """The crisis log writes a change as its value in capitals (`AT RISK: ...`) and the TUI's
    log reads the state back from that text: both must agree with the table's word."""
    for term in TABLE:
        assert term.word == term.state.value.upper().replace("_", " ")


def test_a_value_names_one_symbol_and_word() -> None:
    """Recordings carry a state as its bare value; `unknown` is an organisation's and a
    flow's, so the two must be written alike for the report to write it at all."""
    for term in TABLE:
        found = vocabulary.of_value(term.state.value)
        assert found is not None
        assert (found.symbol, found.word) == (term.symbol, term.word)
    assert vocabulary.of_value("no-such-state") is None


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_within_one_kind_the_symbols_tell_the_states_apart(enum: type[State]) -> None:
    symbols = [vocabulary.term(state).symbol for state in enum]
    assert len(set(symbols)) == len(symbols)


@pytest.mark.parametrize(("sheet", "rule"), [("tui/app.tcss", r"\.row--{}\b"),
                                              ("report/report.css", r"\.{}\b")])
def test_every_state_has_a_colour(sheet: str, rule: str) -> None:
    """The colours stay in the style sheets, which style a state by its value."""
    css = (ROOT / sheet).read_text(encoding="utf-8")
    missing = {t.state.value for t in TABLE if not re.search(rule.format(t.state.value), css)}
    assert not missing

"""How every state is written: one row a state, for the TUI, `status` and the after-action report.

Each state has a symbol beside its word, so colour is never the only signal (a colour-blind
operator, a grey printout). The colours themselves stay in the style sheets (tui/app.tcss,
report/report.css), which style a state by its enum value as class name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

from chain.views import LinkState, OrgState, ProcessState

State: TypeAlias = OrgState | LinkState | ProcessState
ENUMS: Final = (OrgState, LinkState, ProcessState)


@dataclass(frozen=True, slots=True)
class Term:
    state: State
    symbol: str
    word: str
    trouble: bool = False
    """Something an operator should look at: the TUI sets the row's name in bold."""
    silent: bool = False
    """The organisation is not being heard: its readings are last-known values (shown muted)."""

    @property
    def label(self) -> str:
        """`✖ OFFLINE`."""
        return f"{self.symbol} {self.word}"


TABLE: Final[tuple[Term, ...]] = (
    Term(OrgState.ONLINE, "●", "ONLINE"),
    Term(OrgState.DEGRADED, "◐", "DEGRADED"),
    Term(OrgState.STALE, "▲", "STALE", trouble=True, silent=True),
    Term(OrgState.OFFLINE, "✖", "OFFLINE", trouble=True, silent=True),
    Term(OrgState.UNKNOWN, "?", "UNKNOWN", silent=True),
    # Isolated is the operators' own decision, not news: muted, but not trouble.
    Term(OrgState.ISOLATED, "⊘", "ISOLATED", silent=True),
    # Invalid readings are still arriving, so they are not muted; they cannot be used.
    Term(OrgState.INVALID, "≠", "INVALID", trouble=True),
    Term(LinkState.FLOWING, "●", "FLOWING"),
    Term(LinkState.SLOW, "◐", "SLOW"),
    Term(LinkState.STALLED, "■", "STALLED", trouble=True),
    Term(LinkState.STUCK, "▲", "STUCK", trouble=True),
    Term(LinkState.DOWN, "✖", "DOWN", trouble=True),
    Term(LinkState.UNKNOWN, "?", "UNKNOWN"),
    Term(ProcessState.OK, "●", "OK"),
    Term(ProcessState.AT_RISK, "▲", "AT RISK", trouble=True),
    Term(ProcessState.BLOCKED, "✖", "BLOCKED", trouble=True),
)

# Keyed by enum and member, not by member alone: the enums are StrEnums, so
# OrgState.UNKNOWN == LinkState.UNKNOWN and a plain dict would fold the two rows into one.
_BY_STATE: Final = {(type(term.state), term.state): term for term in TABLE}
# The crisis log and the recordings carry a state as its bare value. Rows that share a value
# share symbol and word (the tests pin it), so the first row stands for all of them.
_BY_VALUE: Final = {term.state.value: term for term in reversed(TABLE)}


def term(state: State) -> Term:
    return _BY_STATE[type(state), state]


def label(state: State) -> str:
    """`✖ OFFLINE`."""
    return term(state).label


def of_value(value: str) -> Term | None:
    """The row for a state written as its value (`"at_risk"`), or None for one the table
    does not know (a recording from another version)."""
    return _BY_VALUE.get(value)


"""Ketenwacht's own theme: the Okabe-Ito colours, which stay distinct for colour-blind eyes."""

from __future__ import annotations

from textual.theme import Theme

COLOUR_BLIND = Theme(
    name="ketenwacht-colour-blind",
    primary="#56B4E9",
    secondary="#CC79A7",
    accent="#F0E442",
    success="#009E73",
    warning="#E69F00",
    error="#D55E00",
    foreground="#F0F0F0",
    background="#101418",
    surface="#1A2026",
    panel="#24303A",
    dark=True,
)

THEMES = ("textual-dark", "textual-light", COLOUR_BLIND.name)
"""What `t` cycles through."""

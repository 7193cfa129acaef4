"""The one path by which text from the wire or from a file becomes screen text.

A channel detail, an annotation and its author, a reason, an inject, a name from the
topology or a recording's file name: agents, operators and files supply them, so each is
shown through `plain` or `markup` (kept apart from tui/format.py, which headless `status`
imports and which must not load Textual).
"""

from __future__ import annotations

from textual.markup import escape

from chain.printable import visible


def plain(text: str) -> str:
    """For a widget that shows text as it is (a table cell, a header): control, bidi and
    line-break characters written as escapes, so the terminal never obeys them."""
    return visible(text)


def markup(text: str) -> str:
    """For text inside Textual markup (a `Static`, a `Label`, a notification): as `plain`,
    and its square brackets escaped, so `[@click=app.quit]` is read, not obeyed."""
    return escape(visible(text))

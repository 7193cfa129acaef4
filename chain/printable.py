"""Text from the wire or from a file, made safe to put on a terminal or into a report.

Agents, operators (`_ops/` messages) and recording files supply strings: channel details,
annotations, reasons, names. A terminal obeys the control characters in them: `ESC ] 52`
writes the clipboard, `ESC ] 2` the window title, `ESC [ 2 J` blanks the screen, and C1
`\\x9b` is the same CSI in one character. Bidi overrides reorder what the eye reads
("Trojan Source"). So every such string passes `visible` where it becomes screen or report
text, never at intake: the recording keeps the raw bytes as evidence.

`visible` writes each of these characters as Python writes it (`\\x1b`, `\\x9b`, `\\u202e`,
`\\n`), the text around it unchanged. Newline and tab too: each field it is given is one
line of someone else's text, where a raw newline would forge a second line (a log entry no
one wrote). A backslash is left alone, so a typed `\\x1b` reads the same as an
escaped ESC: harmless, and the recording tells them apart.
"""

from __future__ import annotations

import re
from typing import Final

_BIDI: Final = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Arabic letter mark, LRM, RLM, the embeddings and overrides, the isolates."""
_LINES: Final = "\u2028\u2029"
"""Line and paragraph separator: line breaks to `str.splitlines` and some renderers."""
_UNSAFE: Final = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_LINES}\ud800-\udfff]")
"""C0, DEL, C1, bidi controls, Unicode line breaks, and lone surrogates (which cannot be
written out as UTF-8 at all)."""
_IN_JSON: Final = re.compile(f"[\x7f-\x9f{_BIDI}{_LINES}]")
"""What a JSON encoder leaves raw (it escapes only C0 and the quote and backslash)."""

_SHORT: Final = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
"""As Python writes them: the ones a reader knows by sight."""


def visible(text: str) -> str:
    """`text` with every control, bidi and line-break character shown as its escape."""
    if _UNSAFE.search(text) is None:
        return text  # the usual case: no copy
    return _UNSAFE.sub(_escape, text)


def inert_json(document: str) -> str:
    """A JSON document with DEL, C1, bidi and line-break characters as `\\u` escapes: the
    same values to any JSON reader, nothing a terminal obeys when it is printed. Valid
    JSON holds such characters only inside strings, where `\\uXXXX` means the same."""
    return _IN_JSON.sub(lambda found: f"\\u{ord(found[0]):04x}", document)


def _escape(found: re.Match[str]) -> str:
    char = found[0]
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

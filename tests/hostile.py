"""Text an agent, an operator or a recording could send to take over a terminal, and the
check that none of it reached a screen or a report raw."""

from __future__ import annotations

import re
from typing import Final

OSC_52: Final = "\x1b]52;c;aGFja2Vk\x1b\\"
"""Writes `hacked` to the clipboard of the operator's terminal."""
OSC_2: Final = "\x1b]2;all clear\x07"
"""Sets the terminal's title."""
CSI_2J: Final = "\x1b[2J"
"""Blanks the screen."""
C1_CSI: Final = "\x9b2J"
"""The same, with the one-character C1 CSI."""
BIDI: Final = "\u202eecnalubma"
"""A right-to-left override: reads as `ambulance`."""
HOSTILE: Final = f"mail{OSC_52} down{OSC_2}{CSI_2J}{C1_CSI} {BIDI}\u202c end"
"""All of them in one field of 63 characters: fits a channel detail (200) and an author (64)."""
SHOWN: Final = ("\\x1b]52;c;aGFja2Vk\\x1b\\", "\\x1b]2;all clear\\x07", "\\x1b[2J",
                "\\x9b2J", "\\u202eecnalubma\\u202c")
"""How each shows once made visible."""
_RAW: Final = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Every control but newline (which the screen and the reports use between lines)."""


def raw_controls(text: str) -> list[str]:
    """The control and bidi characters in `text`, for an assertion message."""
    return _RAW.findall(text)

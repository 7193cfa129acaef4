"""Untrusted text made visible: no control, bidi or line-break character survives, the
rest is left as it was, and JSON keeps its values while losing what a terminal obeys."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.printable import inert_json, visible
from tests.hostile import CSI_2J, HOSTILE, OSC_2, OSC_52, SHOWN, raw_controls

BOUNDED = settings(max_examples=300, deadline=None, derandomize=True, database=None)


@pytest.mark.parametrize(("raw", "shown"), [
    (OSC_52, "\\x1b]52;c;aGFja2Vk\\x1b\\"),
    (OSC_2, "\\x1b]2;all clear\\x07"),
    (CSI_2J, "\\x1b[2J"),
    ("\x9b2J", "\\x9b2J"),
    ("\x7f", "\\x7f"),
    ("\x00", "\\x00"),
    ("one\ntwo\tthree\r", "one\\ntwo\\tthree\\r"),
    ("\u202eecnalubma\u202c", "\\u202eecnalubma\\u202c"),
    ("\u2066x\u2069 \u200f", "\\u2066x\\u2069 \\u200f"),
    ("a\u2028b", "a\\u2028b"),
    ("lone \ud800", "lone \\ud800"),
], ids=["osc52", "osc2", "csi", "c1-csi", "del", "nul", "newline-tab-cr", "override",
        "isolate-mark", "line-separator", "surrogate"])
def test_each_control_shows_as_its_escape(raw: str, shown: str) -> None:
    """Each kind of control character becomes its Python escape, in place."""
    assert visible(raw) == shown


def test_ordinary_text_is_returned_unchanged() -> None:
    """Dutch, accents, emoji, symbols the screens use, markup and backslashes stay as typed."""
    text = 'Officier van Justitie: "één" 😀 ✖ ● → [b]x[/b] C:\\temp | `code`'
    assert visible(text) is text


def test_the_hostile_sample_shows_every_part() -> None:
    """The test suite's own hostile sample: nothing raw left, every part readable."""
    shown = visible(HOSTILE)
    assert raw_controls(shown) == []
    assert all(part in shown for part in SHOWN)


@BOUNDED
@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    """Whatever the text, none of C0, DEL, C1 (category Cc) or the bidi controls is left."""
    shown = visible(text)
    assert not [c for c in shown if unicodedata.category(c) in ("Cc", "Cs")
                or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]


@BOUNDED
@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp"))))
def test_printable_text_is_never_changed(text: str) -> None:
    """Text without controls, format characters or line separators comes back the same."""
    assert visible(text) == text


@BOUNDED
@given(st.text())
def test_inert_json_keeps_every_value(text: str) -> None:
    """A JSON reader gets the same string back; the document holds no raw DEL, C1 or bidi."""
    document = inert_json(json.dumps({"detail": text, "more": [text]}, ensure_ascii=False))
    assert json.loads(document) == {"detail": text, "more": [text]}
    assert raw_controls(document) == []

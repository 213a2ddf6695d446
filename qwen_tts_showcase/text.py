"""Text measures: how long a text is for a model's limit, and what it bills."""

from __future__ import annotations

import math
import re
import unicodedata

# The measure's pieces, shared with the page's counter (page.js receives them through the page
# head): regular expression sources, in the syntax Python's re and JavaScript's RegExp share
# except for HAN, which each gets in its own escapes.
# Han ideographs, in every CJK block: 1 token each, 2 billed characters (qwen3 bills "a Han
# character" as 2, hanzi, kanji and hanja alike, wherever Unicode put it).
HAN_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x2FA1F),  # Extensions B to F, and the Compatibility Supplement
    (0x30000, 0x323AF),  # Extensions G and H
)


def _class_ranges(escape) -> str:
    return "".join(f"{escape(start)}-{escape(end)}" for start, end in HAN_RANGES)


HAN = _class_ranges(lambda point: f"\\U{point:08x}")  # Python's re
HAN_JS = _class_ranges(lambda point: f"\\u{{{point:x}}}")  # JavaScript, with the "u" flag
# Every way of breaking a line becomes "\n", so removing control characters never joins words.
LINE_BREAKS = r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]"
# Controls, format characters (soft hyphen, zero-width, bidi marks and isolates, BOM, tags), lone
# surrogates and private use: nothing a listener hears, but they break limits and caching and can
# disguise text. Line breaks and tabs stay.
INVISIBLE_CATEGORIES = ("Cc", "Cf", "Cs", "Co")

_HAN = re.compile(f"[{HAN}]")
_WORD = re.compile(rf"[^\W{HAN}]+")  # a run of letters, digits and "_" that are not Han
_SYMBOL = re.compile(r"[^\w\s]")
_LINE_BREAKS = re.compile(LINE_BREAKS)
# What the page's counter measures with (theme.page_head writes it into the page for page.js).
PAGE_MEASURE = {
    "han": HAN_JS,
    "lineBreaks": LINE_BREAKS,
    "invisibleCategories": list(INVISIBLE_CATEGORIES),
}


def clean_text(text: str) -> str:
    """NFC-normalised text without control or invisible characters, line breaks unified, trimmed."""
    text = _LINE_BREAKS.sub("\n", unicodedata.normalize("NFC", text))
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in INVISIBLE_CATEGORIES
    )
    return text.strip()


def estimated_tokens(text: str) -> int:
    """A deliberately generous estimate of Qwen tokens: 1 per ideograph, 1 per 4 letters, 1 per symbol.

    DashScope does not publish its tokenizer for qwen-tts, so the count shown and enforced is an
    estimate; the API's own 400 still catches the rare text this lets through.
    """
    han = len(_HAN.findall(text))
    words = sum(math.ceil(len(word) / 4) for word in _WORD.findall(text))
    return han + words + len(_SYMBOL.findall(text))


def billed_characters(text: str) -> int:
    """qwen3-tts billing: a Han character counts 2, anything else 1."""
    return len(text) + len(_HAN.findall(text))


def input_size(text: str, unit: str) -> int:
    """The size of text in the unit a model's limit counts ("tokens" or "characters")."""
    return estimated_tokens(text) if unit == "tokens" else len(text)


# Where a long text may be cut, best first: after a sentence, after a clause, at a space, and
# as a last resort between Han characters (each one a word). A run of letters is never cut.
_CUTS = (
    re.compile(r"(?<=[。！？!?…；;\n])|(?<=[.](?=\s))"),
    re.compile(r"(?<=[，,、：:])"),
    re.compile(r"(?<=\s)"),
    re.compile(rf"(?<=[{HAN}])|(?=[{HAN}])"),
)


def split_text(text: str, max_size: int, unit: str) -> list[str]:
    """Parts of text in order, each within max_size where a cut allows, as few as possible.

    A part can only stay too long if it is one run of letters longer than the limit; the
    caller refuses that.
    """
    # Parts are trimmed only here: trimming inside would join the words on either side of a cut.
    return [part.strip() for part in _split(text, max_size, unit, 0) if part.strip()]


def _split(text: str, max_size: int, unit: str, level: int) -> list[str]:
    if input_size(text, unit) <= max_size or level == len(_CUTS):
        return [text]
    pieces = [piece for piece in _CUTS[level].split(text) if piece]
    return _pack(
        [part for piece in pieces for part in _split(piece, max_size, unit, level + 1)],
        max_size,
        unit,
    )


def _pack(pieces: list[str], max_size: int, unit: str) -> list[str]:
    """Join consecutive pieces greedily while they fit.

    Sizes add up: no cut falls inside a run of letters, so a joined part measures at most the
    sum of its pieces and measuring each piece once keeps this linear."""
    parts: list[str] = []
    size = 0
    for piece in pieces:
        piece_size = input_size(piece, unit)
        if parts and size + piece_size <= max_size:
            parts[-1] += piece
            size += piece_size
        else:
            parts.append(piece)
            size = piece_size
    return parts

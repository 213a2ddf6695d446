"""Text measures: how long a text is for a model's limit, and what it bills."""

from __future__ import annotations

import math
import re
import unicodedata

# Han ideographs (CJK Unified, Extension A, Compatibility) count 2 for qwen3 billing.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SYMBOL = re.compile(r"[^\w\s]")
# Invisible characters that change nothing a listener hears but break limits and caching.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def clean_text(text: str) -> str:
    """NFC-normalised text without control or zero-width characters, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
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

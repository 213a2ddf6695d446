"""Text measures and PCM/WAV helpers."""

from __future__ import annotations

import io
import re
import wave

import pytest

from qwen_tts_showcase.audio import AudioFormatError, duration_s, pcm_to_wav, wav_to_pcm
from qwen_tts_showcase.text import (
    billed_characters,
    clean_text,
    estimated_tokens,
    input_size,
    split_text,
)

from .helpers import HARD_STRINGS


def test_clean_text_drops_invisible_and_control_characters_and_trims():
    assert clean_text("  你\u200b好\x00\x07,\ufeff world \n") == "你好, world"
    assert clean_text("line one\nline two") == "line one\nline two"


@pytest.mark.parametrize("case", HARD_STRINGS, ids=[case["why"] for case in HARD_STRINGS])
def test_the_server_measures_each_hard_string_as_listed(case):
    """The list the page's counter is held to as well (tests/browser/test_measure.py)."""
    clean = clean_text(case["text"])
    assert (input_size(clean, "characters"), input_size(clean, "tokens")) == (
        case["characters"],
        case["tokens"],
    )


def test_the_han_ranges_count_as_han_for_billing_and_tokens():
    blocks = (
        ("\u3400", "\u4dbf"),
        ("\u4e00", "\u9fff"),
        ("\uf900", "\ufad9"),
        ("\U00020000", "\U0002a6df"),  # extension B
        ("\U0002f800", "\U0002fa1d"),  # compatibility supplement
        ("\U00030000", "\U0003134a"),  # extension G
    )
    for first, last in blocks:
        for han in (first, last):
            assert (billed_characters(han * 4), estimated_tokens(han * 4)) == (8, 4)
    for other in ("\u33ff", "\u4dc0", "\ua000", "\ufb00", "\U0001ffff", "\U00032400"):
        assert billed_characters(other * 4) == 4


def test_billing_counts_han_characters_twice():
    assert billed_characters("你好, AI!") == 2 * 2 + 5


def test_token_estimate_is_generous_for_chinese_and_english():
    assert estimated_tokens("你好世界") == 4
    assert estimated_tokens("internationalization") == 5  # 20 letters, 1 per 4
    assert estimated_tokens("Hi, you!") == 1 + 1 + 2  # two words and two symbols


def test_input_size_uses_the_models_unit():
    assert input_size("hello world", "characters") == 11
    assert input_size("hello world", "tokens") == 4


def test_wav_round_trip_keeps_every_sample():
    pcm = bytes(range(256)) * 100
    wav = pcm_to_wav(pcm)
    with wave.open(io.BytesIO(wav)) as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            24_000,
            1,
            2,
        )
    assert wav_to_pcm(wav) == pcm
    assert duration_s(pcm) == pytest.approx(len(pcm) / 48_000)


def test_a_wav_of_another_shape_or_no_wav_is_refused():
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(44_100)
        writer.writeframes(b"\0" * 400)
    with pytest.raises(AudioFormatError, match="unexpected WAV format"):
        wav_to_pcm(buffer.getvalue())
    with pytest.raises(AudioFormatError, match="not a WAV"):
        wav_to_pcm(b"<Error><Code>AccessDenied</Code></Error>")


def test_a_split_never_joins_the_words_on_either_side_of_a_cut():
    text = "中" * 600 + "abc def" + "中" * 10 + " ghi jkl." * 200
    parts = split_text(text, 512, "tokens")
    assert len(parts) > 1 and all(estimated_tokens(part) <= 512 for part in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text), "nothing lost or moved"
    assert re.findall("[a-z]+", " ".join(parts)) == re.findall("[a-z]+", text), "words stay apart"

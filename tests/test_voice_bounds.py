"""The custom voices against a hostile visitor (issue 14): with their own key nothing caps how
many voices they make, so what the app keeps of them is bounded here."""

from __future__ import annotations

import pytest

from qwen_tts_showcase import voices
from qwen_tts_showcase.errors import InputError
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import Synthesizer
from qwen_tts_showcase.voice_maker import VoiceMaker
from qwen_tts_showcase.voices import BOOK_FILE, VoiceBook, new_owner_token

from .conftest import simulator_settings

OWN_KEY = "sk-voicesbound0a1b2c3d4e"
VISITOR = Visitor("s1", "10.0.0.1")


@pytest.fixture
def maker(simulator, catalogue, monkeypatch, tmp_path):
    monkeypatch.setattr(voices, "MAX_VOICES_PER_OWNER", 3, raising=False)
    monkeypatch.setattr(voices, "MAX_VOICES", 6, raising=False)
    simulator.keys[OWN_KEY] = "beijing"
    settings = simulator_settings(
        simulator, catalogue, SHOWCASE_ALLOW_DESIGN="1", SHOWCASE_CACHE_DIR=str(tmp_path)
    )
    yield VoiceMaker(Synthesizer(catalogue, settings))
    simulator.keys.pop(OWN_KEY, None)


def design(maker, token, label, api_key=OWN_KEY):
    voice, _ = maker.design(
        "A calm narrator",
        "Hello.",
        label,
        region="beijing",
        api_key=api_key,
        token=token,
        visitor=VISITOR,
    )
    return voice


def test_one_browser_keeps_a_bounded_number_of_voices_and_is_told_before_any_call(maker, simulator):
    token = new_owner_token()
    for number in range(3):
        design(maker, token, f"mine{number}")
    sent = len(simulator.customization_requests())
    with pytest.raises(InputError, match="keeps 3 voices") as refused:
        design(maker, token, "onemore")
    assert refused.value.zh
    assert len(simulator.customization_requests()) == sent


def test_forged_owner_tokens_cannot_grow_the_book_past_its_bound(maker, simulator):
    """A fresh token per creation dodges the per-browser bound; the book still keeps at most
    MAX_VOICES, forgetting the oldest voices made with visitors' own keys first."""
    space = design(maker, new_owner_token(), "spacekey", api_key="")
    made = [design(maker, new_owner_token(), f"forged{n}") for n in range(10)]
    book = VoiceBook(maker.book.path.parent)  # as written to disk
    kept = {v.voice for v in [*book._voices.values()]}
    assert len(kept) == 6 and space.voice in kept
    assert kept - {space.voice} == {v.voice for v in made[-5:]}
    assert (maker.book.path.parent / BOOK_FILE).stat().st_size < 10_000

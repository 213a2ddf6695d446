"""The share link's query, read against the catalogue: what fits goes in the editor, the rest is
left out with a note, never an error."""

from __future__ import annotations

import pytest

from qwen_tts_showcase.catalogue import AUTO_LANGUAGE, load_catalogue
from qwen_tts_showcase.ui.share import notes_html, read_link

CATALOGUE = load_catalogue()
INSTRUCT = next(m.id for m in CATALOGUE.models if m.instructions)
LANGUAGES = next(m for m in CATALOGUE.models if m.language_types and not m.instructions)


def read(query: dict[str, str], model: str = "qwen-tts-latest", voice: str = "Cherry", cap=100):
    return read_link(query, CATALOGUE, current_model=model, current_voice=voice, max_text_chars=cap)


def keys(shared) -> list[str]:
    return [note.key for note in shared.notes]


def test_an_address_without_the_editors_fields_changes_nothing():
    assert read({}) is None
    assert read({"__theme": "dark", "view": "x", "text": "  "}) is None


def test_a_good_link_fills_the_editor_with_no_note():
    shared = read({"voice": "Jada", "model": "qwen-tts-latest", "text": "侬好 "})
    assert (shared.model, shared.voice, shared.text) == ("qwen-tts-latest", "Jada", "侬好 ")
    assert shared.language == AUTO_LANGUAGE and shared.instructions is None
    assert shared.notes == () and notes_html(shared.notes) == ""


def test_names_match_whatever_their_case():
    shared = read({"voice": "jada", "model": "QWEN-TTS-LATEST"})
    assert (shared.model, shared.voice) == ("qwen-tts-latest", "Jada")


def test_language_and_instructions_go_to_the_models_that_take_them():
    language = LANGUAGES.language_types[-1]
    shared = read({"model": LANGUAGES.id, "language": language.lower(), "voice": "Cherry"})
    assert (shared.model, shared.language, shared.notes) == (LANGUAGES.id, language, ())
    shared = read({"model": INSTRUCT, "instructions": "Speak slowly, warmly."})
    assert shared.instructions == "Speak slowly, warmly." and shared.notes == ()


def test_an_unknown_model_keeps_the_editors_with_a_note():
    shared = read({"model": "gpt-voice", "voice": "Dylan"}, model="qwen-tts-latest")
    assert shared.model == "qwen-tts-latest" and shared.voice == "Dylan"
    assert keys(shared) == ["share_unknown_model"]
    assert "'gpt-voice'" in shared.notes[0].en and "qwen-tts-latest" in shared.notes[0].zh


def test_a_custom_voice_model_is_not_a_links_to_give():
    custom = CATALOGUE.custom_models[0].id
    assert keys(read({"model": custom})) == ["share_unknown_model"]


def test_a_voice_the_model_lacks_falls_back_to_the_default_with_a_note():
    shared = read({"voice": "Nobody<script>", "text": "hi"})
    assert shared.voice == CATALOGUE.default_voice and shared.text == "hi"
    assert keys(shared) == ["share_unknown_voice"]
    assert "<script>" not in notes_html(shared.notes)  # escaped on the page


def test_options_a_model_does_not_take_are_left_out_with_notes():
    shared = read({"model": "qwen-tts-latest", "language": "French", "instructions": "loud"})
    assert shared.language == AUTO_LANGUAGE and shared.instructions is None
    assert keys(shared) == ["share_language_not_taken", "share_instructions_not_taken"]
    shared = read({"model": LANGUAGES.id, "language": "Klingon"})
    assert shared.language == AUTO_LANGUAGE
    assert keys(shared) == ["share_unknown_language"]


@pytest.mark.parametrize("size", [100, 101, 100_000])
def test_a_text_over_the_cap_is_cut_there_with_a_note(size):
    shared = read({"text": "a" * size}, cap=100)
    assert shared.text == "a" * 100
    assert keys(shared) == ([] if size == 100 else ["share_text_cut"])

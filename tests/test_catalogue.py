"""The voice catalogue and the blog gallery, as data."""

from __future__ import annotations

import json

import pytest

from qwen_tts_showcase.catalogue import CATALOGUE_FILE, _build, load_catalogue
from qwen_tts_showcase.datafiles import load_json
from qwen_tts_showcase.errors import InputError

LEGACY = ("Cherry", "Serena", "Ethan", "Chelsie")
DIALECTS = ("Dylan", "Jada", "Sunny")


@pytest.mark.parametrize(
    ("model", "voices"),
    [
        ("qwen-tts-latest", LEGACY + DIALECTS),
        ("qwen-tts-2025-05-22", LEGACY + DIALECTS),
        ("qwen-tts", LEGACY),
        ("qwen-tts-2025-04-10", LEGACY),
    ],
)
def test_each_qwen_tts_model_has_its_exact_voice_set(model, voices):
    assert set(load_catalogue().model(model).voices) == set(voices)


def test_the_default_is_the_model_with_the_most_dialects_with_cherry():
    catalogue = load_catalogue()
    assert (catalogue.default_model, catalogue.default_voice) == ("qwen3-tts-flash", "Cherry")


@pytest.mark.parametrize(
    ("voice", "label"),
    [
        ("Dylan", "Dylan · 北京话 Beijing · ♂"),
        ("Jada", "Jada · 上海话 Shanghainese · ♀"),
        ("Sunny", "Sunny · 四川话 Sichuanese · ♀"),
        ("Cherry", "Cherry · 普通话 Mandarin · ♀"),
    ],
)
def test_voice_labels_show_the_dialect(voice, label):
    assert load_catalogue().voices[voice].label == label


def test_the_gallery_holds_the_blogs_14_samples():
    samples = load_catalogue().samples
    assert len(samples) == 14
    dialect = [s for s in samples if s.group == "dialect"]
    bilingual = [s for s in samples if s.group == "bilingual"]
    assert sorted(s.voice for s in dialect) == sorted(DIALECTS * 2)
    assert sorted((s.voice, s.language) for s in bilingual) == sorted(
        (v, lang) for v in LEGACY for lang in ("zh", "en")
    )
    assert all(
        s.official_audio.startswith(
            "https://qianwen-res.oss-cn-beijing.aliyuncs.com/Qwen-TTS/sample/"
        )
        for s in samples
    )
    assert len({s.id for s in samples}) == 14
    assert samples[0].text.startswith("我们家那边后面有一个后山")
    assert next(s for s in samples if s.id == "cherry-en").text == (
        "Take a look at http://www.granite.ab.ca/access/email."
    )


def test_unknown_names_are_refused_with_the_valid_choices():
    catalogue = load_catalogue()
    with pytest.raises(InputError, match="qwen-tts-latest"):
        catalogue.model("qwen-tts-next")
    with pytest.raises(InputError, match="Cherry, Serena, Ethan, Chelsie"):
        catalogue.check_voice("qwen-tts", "Dylan")


def test_a_bad_row_fails_at_load_naming_the_model(tmp_path):
    raw = load_json(CATALOGUE_FILE)
    raw["models"][0]["voices"].append("Nobody")
    with pytest.raises(ValueError, match="qwen-tts-latest.*Nobody"):
        _build(json.loads(json.dumps(raw)), ())

"""The whole Qwen TTS family: qwen3-tts-flash and its snapshots, the instruct models, languages,
regions and our dialect samples, through the real SDK against the simulator."""

from __future__ import annotations

import json

import pytest
import requests

from dashscope_sim import GENERATION_PATH, render_speech
from qwen_tts_showcase import errors
from qwen_tts_showcase.catalogue import (
    CATALOGUE_FILE,
    EXTRA_SAMPLE_FILES,
    MAX_INSTRUCTION_TOKENS,
    PRESETS_FILE,
    _build,
    load_catalogue,
)
from qwen_tts_showcase.dashscope_client import SpeechStream, SynthesisRequest, Upstream
from qwen_tts_showcase.datafiles import DataFileError, load_json
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import SpeechOrder
from qwen_tts_showcase.text import billed_characters

from .conftest import BEIJING_KEY, SINGAPORE_KEY
from .helpers import SDK_FAULTS

TABLE_A = (
    "Cherry",
    "Ethan",
    "Nofish",
    "Jennifer",
    "Ryan",
    "Katerina",
    "Elias",
    "Jada",
    "Dylan",
    "Sunny",
    "Li",
    "Marcus",
    "Roy",
    "Peter",
    "Rocky",
    "Kiki",
    "Eric",
)
TABLE_B = (
    "Serena",
    "Chelsie",
    "Momo",
    "Vivian",
    "Moon",
    "Maia",
    "Kai",
    "Bella",
    "Aiden",
    "Eldric Sage",
    "Mia",
    "Mochi",
    "Bellona",
    "Vincent",
    "Bunny",
    "Neil",
    "Arthur",
    "Nini",
    "Ebona",
    "Seren",
    "Pip",
    "Stella",
    "Bodega",
    "Sonrisa",
    "Alek",
    "Dolce",
    "Sohee",
    "Ono Anna",
    "Lenn",
    "Emilien",
    "Andre",
    "Radio Gol",
)
TABLE_C = (
    "Cherry",
    "Serena",
    "Ethan",
    "Chelsie",
    "Momo",
    "Vivian",
    "Moon",
    "Maia",
    "Kai",
    "Nofish",
    "Bella",
    "Eldric Sage",
    "Mia",
    "Mochi",
    "Bellona",
    "Vincent",
    "Bunny",
    "Neil",
    "Elias",
    "Arthur",
    "Nini",
    "Seren",
    "Pip",
    "Stella",
)
QWEN3 = (
    "qwen3-tts-flash",
    "qwen3-tts-flash-2025-11-27",
    "qwen3-tts-flash-2025-09-18",
    "qwen3-tts-instruct-flash",
    "qwen3-tts-instruct-flash-2026-01-26",
)
INSTRUCT = QWEN3[3:]
LANGUAGES = (
    "Auto",
    "Chinese",
    "English",
    "German",
    "Italian",
    "Portuguese",
    "Spanish",
    "Japanese",
    "Korean",
    "French",
    "Russian",
)
TEXT = "今天天气不错，我们出去走走吧。Let's go!"


def speak(
    synthesizer,
    text=TEXT,
    voice="Cherry",
    model="qwen3-tts-flash",
    region="beijing",
    streaming=True,
    key="",
    **options,
):
    order = SpeechOrder(text, voice, model, region, **options)
    speech = synthesizer.speech(order, api_key=key, streaming=streaming, visitor=Visitor())
    pcm = b"".join(speech)
    return pcm, speech.result


# --- The catalogue ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "voices"),
    [
        ("qwen3-tts-flash", TABLE_A + TABLE_B),
        ("qwen3-tts-flash-2025-11-27", TABLE_A + TABLE_B),
        ("qwen3-tts-flash-2025-09-18", TABLE_A),
        ("qwen3-tts-instruct-flash", TABLE_C),
        ("qwen3-tts-instruct-flash-2026-01-26", TABLE_C),
    ],
)
def test_each_qwen3_model_has_its_exact_voice_table(catalogue, model, voices):
    offered = catalogue.model(model).voices
    assert set(offered) == set(voices) and len(offered) == len(voices)


def test_qwen3_models_are_character_billed_multimodal_models_in_both_regions(catalogue):
    for model_id in QWEN3:
        model = catalogue.model(model_id)
        assert (model.sdk, model.billing, model.max_input, model.input_unit) == (
            "multimodal_conversation",
            "characters",
            600,
            "characters",
        )
        assert model.regions == ("beijing", "singapore")
        assert model.language_types == LANGUAGES
        assert model.instructions is (model_id in INSTRUCT)


def test_singapore_offers_only_the_qwen3_models_and_beijing_all(catalogue):
    http = [m.id for m in catalogue.models_in("singapore") if not m.realtime]
    assert http == list(QWEN3)  # the realtime models' regions: test_realtime.py
    assert catalogue.models_in("beijing") == catalogue.models
    with pytest.raises(errors.InputError, match="beijing, singapore"):
        catalogue.models_in("frankfurt")


@pytest.mark.parametrize(
    ("voice", "label", "zh_name"),
    [
        ("Li", "Li · 南京话 Nanjing · ♂", "老李"),
        ("Marcus", "Marcus · 陕西话 Shaanxi · ♂", "秦川"),
        ("Roy", "Roy · 闽南语 Minnan (Hokkien) · ♂", "阿杰"),
        ("Peter", "Peter · 天津话 Tianjin · ♂", "李彼得"),
        ("Rocky", "Rocky · 粤语 Cantonese · ♂", "阿强"),
        ("Kiki", "Kiki · 粤语 Cantonese · ♀", "阿清"),
        ("Eric", "Eric · 四川话 Sichuanese · ♂", "程川"),
        ("Eldric Sage", "Eldric Sage · 普通话 Mandarin · ♂", "沧明子"),
        ("Elias", "Elias · 普通话 Mandarin · ♀", "墨讲师"),
    ],
)
def test_dialect_voices_carry_their_variety_and_chinese_name(catalogue, voice, label, zh_name):
    found = catalogue.voices[voice]
    assert (found.label, found.zh_name) == (label, zh_name)


def test_languages_have_labels_and_only_qwen3_models_take_them(catalogue):
    taken = catalogue.model("qwen3-tts-flash").language_types
    assert [catalogue.languages[name].label for name in taken][:3] == [
        "Auto-detect · 自动识别",
        "Chinese · 中文",
        "English · 英语",
    ]
    assert catalogue.model("qwen-tts-latest").language_types == ()


def test_instruction_presets_are_data_with_a_voice_every_instruct_model_offers(catalogue):
    presets = {preset.id: preset for preset in catalogue.presets}
    assert {"calm-narrator", "sports-commentator", "whisper"} <= set(presets)
    assert len(presets) == len(catalogue.presets)
    for preset in presets.values():
        assert preset.en and preset.zh and preset.instructions_en and preset.instructions_zh
        assert preset.text_en and preset.text_zh
        assert all(preset.voice in catalogue.model(m).voices for m in INSTRUCT)
    assert catalogue.preset("whisper").zh == "悄悄话"
    with pytest.raises(errors.InputError, match="calm-narrator"):
        catalogue.preset("shouting")


def test_our_dialect_samples_are_kept_apart_from_the_blogs(catalogue):
    assert len(catalogue.samples) == 14, "the blog's gallery is unchanged"
    ours = catalogue.extra_samples
    assert {s.variety for s in ours} >= {"cantonese", "minnan", "nanjing", "shaanxi", "tianjin"}
    assert all(not s.has_official_audio and s.official_audio == "" for s in ours)
    assert all("not from the Qwen-TTS blog" in s.source for s in ours)
    assert all(
        s.has_official_audio and s.source.startswith("https://qwenlm.github.io")
        for s in catalogue.samples
    )
    assert {s.id for s in ours}.isdisjoint(s.id for s in catalogue.samples)
    for sample in ours:
        assert catalogue.voices[sample.voice].variety == sample.variety
        assert sample.voice in catalogue.model(sample.model).voices
    assert catalogue.sample("ours-rocky-cantonese").text.startswith("喂，老友")


def _raw():
    return json.loads(json.dumps(load_json(CATALOGUE_FILE)))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda raw: raw["models"][8]["language_types"].append("Klingon"),
            "model qwen3-tts-instruct-flash-2026-01-26.*Klingon",
        ),
        (lambda raw: raw["models"][8].update(sdk="websocket"), "instruct-flash-2026-01-26.*sdk"),
        (lambda raw: raw["voices"]["Roy"].update(variety="taiwanese"), "voice 'Roy'.*taiwanese"),
        (lambda raw: raw["models"][4].update(stream=True), "model qwen3-tts-flash.*stream"),
    ],
)
def test_a_bad_catalogue_row_fails_at_load_naming_file_and_row(change, words):
    raw = _raw()
    change(raw)
    with pytest.raises(DataFileError, match=words) as caught:
        _build(raw)
    assert str(CATALOGUE_FILE) in str(caught.value)


def test_a_bad_preset_or_sample_fails_at_load_naming_file_and_row(tmp_path):
    presets = load_json(PRESETS_FILE)
    presets["presets"][0]["voice"] = "Rocky"  # a dialect voice the instruct models lack
    with pytest.raises(DataFileError, match="instruction_presets.json: preset 'calm-narrator'"):
        _build(_raw(), presets=presets)
    samples = load_json(EXTRA_SAMPLE_FILES[0])
    samples["samples"][2]["model"] = "qwen3-tts-instruct-flash"  # Roy is not an instruct voice
    bad = tmp_path / "extra.json"
    bad.write_text(json.dumps(samples, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"extra.json: sample 'ours-roy-minnan'.*Roy"):
        _build(_raw(), extra_sample_files=(bad,))


# --- Validation before any request --------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (None, None),
        ("", None),
        ("Auto", None),
        ("auto", None),
        ("English", "English"),
        (" japanese ", "Japanese"),
    ],
)
def test_language_auto_is_not_sent_and_others_are_spelled_as_the_api_expects(
    synthesizer, given, sent
):
    request = synthesizer.plan(
        SpeechOrder("hi", "Cherry", "qwen3-tts-flash", "beijing", given)
    ).request
    assert request.language_type == sent


@pytest.mark.parametrize(
    ("model", "voice", "region", "options", "words"),
    [
        ("qwen-tts-latest", "Dylan", "beijing", {"language_type": "English"}, "takes no language"),
        (
            "qwen3-tts-flash",
            "Cherry",
            "beijing",
            {"language_type": "Klingon"},
            "Choose one of: Auto, Chinese, English",
        ),
        (
            "qwen3-tts-flash",
            "Cherry",
            "beijing",
            {"instructions": "Whisper."},
            "does not follow instructions.*qwen3-tts-instruct-flash",
        ),
        ("qwen-tts-latest", "Cherry", "beijing", {"instructions": "Whisper."}, "does not follow"),
        (
            "qwen3-tts-instruct-flash",
            "Cherry",
            "beijing",
            {"instructions": "慢" * (MAX_INSTRUCTION_TOKENS + 1)},
            f"at most {MAX_INSTRUCTION_TOKENS}",
        ),
        (
            "qwen3-tts-flash-2025-09-18",
            "Vivian",
            "beijing",
            {},
            "not available for qwen3-tts-flash-",
        ),
        ("qwen3-tts-instruct-flash", "Rocky", "beijing", {}, "not available"),
        ("qwen-tts-latest", "Cherry", "singapore", {}, "not offered in the Singapore"),
    ],
)
def test_what_a_model_or_region_lacks_is_refused_in_both_languages(
    synthesizer, simulator, model, voice, region, options, words
):
    with pytest.raises(errors.InputError, match=words) as caught:
        synthesizer.plan(SpeechOrder("你好", voice, model, region, **options))
    assert caught.value.zh and caught.value.zh != caught.value.en
    assert simulator.generation_requests() == []


def test_instructions_are_cleaned_and_blank_ones_are_not_sent(synthesizer):
    order = SpeechOrder(
        "hi",
        "Cherry",
        "qwen3-tts-instruct-flash",
        "beijing",
        instructions="\u200b  Speak slowly.\u200b \n",
    )
    request = synthesizer.plan(order).request
    assert request.instructions == "Speak slowly."
    for model in ("qwen3-tts-flash", "qwen-tts-latest"):  # blank is fine for any model
        blank = SpeechOrder("hi", "Cherry", model, "beijing", instructions=" \u200b ")
        assert synthesizer.plan(blank).request.instructions is None


# --- Through the real SDK -----------------------------------------------------------------------


def every_voice_of_every_qwen3_model():
    return [(m, v) for m in QWEN3 for v in load_catalogue().model(m).voices]


@pytest.mark.parametrize(("model", "voice"), every_voice_of_every_qwen3_model())
def test_every_qwen3_voice_is_sent_as_the_api_expects_and_its_audio_arrives_exactly(
    synthesizer, simulator, model, voice
):
    pcm, result = speak(synthesizer, voice=voice, model=model)
    (sent,) = simulator.generation_requests()
    assert sent.body == {"model": model, "parameters": {}, "input": {"text": TEXT, "voice": voice}}
    assert sent.headers["x-dashscope-sse"] == "enable"
    assert sent.headers["x-dashscope-sdk-client"].endswith("/aigc")  # MultiModalConversation
    assert pcm == sent.pcm == render_speech(model, voice, TEXT)
    assert result.usage == {"characters": billed_characters(TEXT)}


@pytest.mark.parametrize("model", QWEN3)
def test_non_streaming_qwen3_downloads_the_exact_audio(synthesizer, simulator, model):
    pcm, result = speak(synthesizer, voice="Cherry", model=model, streaming=False)
    (sent, download) = simulator.requests
    assert sent.streamed is False and download.path.startswith("/files/")
    assert pcm == sent.pcm and result.usage == {"characters": billed_characters(TEXT)}


@pytest.mark.parametrize("streaming", [True, False])
def test_language_type_travels_in_input(synthesizer, simulator, streaming):
    speak(
        synthesizer,
        text="こんにちは",
        model="qwen3-tts-flash",
        language_type="japanese",
        streaming=streaming,
    )
    (sent, *_) = simulator.generation_requests()
    assert sent.body["input"] == {
        "text": "こんにちは",
        "voice": "Cherry",
        "language_type": "Japanese",
    }
    assert sent.body["parameters"] == {}


@pytest.mark.parametrize("model", INSTRUCT)
def test_instructions_travel_in_parameters_and_change_the_delivery(synthesizer, simulator, model):
    plain, _ = speak(synthesizer, voice="Eldric Sage", model=model)
    calm, result = speak(
        synthesizer,
        voice="Eldric Sage",
        model=model,
        language_type="Chinese",
        instructions=load_catalogue().preset("calm-narrator").instructions_zh,
    )
    _, sent = simulator.generation_requests()
    assert sent.body["parameters"] == {
        "instructions": load_catalogue().preset("calm-narrator").instructions_zh
    }
    assert sent.body["input"] == {"text": TEXT, "voice": "Eldric Sage", "language_type": "Chinese"}
    assert calm == sent.pcm != plain
    assert result.billed == billed_characters(TEXT), "instructions are not billed as text"


@pytest.mark.parametrize(
    ("text", "characters"),
    [("你好", 4), ("Hello, world", 12), ("你好，Qwen!", 10), ("繁體字", 6), (TEXT, 37)],
)
def test_qwen3_usage_counts_each_han_character_twice(synthesizer, simulator, text, characters):
    _, result = speak(synthesizer, text=text)
    assert result.usage == {"characters": characters}
    assert (result.billing, result.billed) == ("characters", characters)


def test_qwen3_models_answer_in_singapore_with_a_singapore_key(synthesizer, simulator):
    pcm, _ = speak(synthesizer, voice="Kiki", region="singapore", key=SINGAPORE_KEY)
    (sent,) = simulator.generation_requests()
    assert sent.region == "singapore" and sent.path.startswith("/intl/api/v1")
    assert sent.headers["authorization"] == f"Bearer {SINGAPORE_KEY}" and pcm == sent.pcm


# --- What the simulator accepts, on the raw wire ------------------------------------------------


def post(
    simulator,
    model="qwen3-tts-instruct-flash",
    inputs=None,
    parameters=None,
    key=BEIJING_KEY,
    region="beijing",
):
    body = {"model": model, "input": {"text": "你好", "voice": "Cherry", **(inputs or {})}}
    if parameters is not None:
        body["parameters"] = parameters
    return requests.post(
        simulator.base_url(region) + GENERATION_PATH,
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )


@pytest.mark.parametrize(
    ("model", "inputs", "parameters"),
    [
        ("qwen3-tts-instruct-flash", {"instructions": "Whisper."}, None),
        (
            "qwen3-tts-instruct-flash",
            {},
            {"instructions": "Whisper.", "optimize_instructions": True},
        ),
        ("qwen3-tts-instruct-flash-2026-01-26", {"optimize_instructions": False}, {}),
        ("qwen3-tts-flash", {"language_type": "English"}, None),
        ("qwen3-tts-flash", {}, {"language_type": "Korean"}),
        ("qwen3-tts-flash-2025-09-18", {"language_type": "Auto"}, {}),
    ],
)
def test_the_simulator_accepts_options_in_input_or_parameters_where_the_api_does(
    simulator, model, inputs, parameters
):
    response = post(simulator, model, inputs, parameters)
    assert response.status_code == 200, response.text
    assert response.json()["usage"] == {"characters": 4}


@pytest.mark.parametrize(
    ("model", "inputs", "parameters", "message"),
    [
        ("qwen3-tts-flash", {"instructions": "Whisper."}, None, "instructions is not supported"),
        ("qwen3-tts-flash-2025-11-27", {}, {"instructions": "Whisper."}, "instructions is not"),
        ("qwen3-tts-flash", {}, {"optimize_instructions": True}, "optimize_instructions is not"),
        ("qwen-tts-latest", {}, {"instructions": "Whisper."}, "instructions is not supported"),
        ("qwen-tts-latest", {}, {"language_type": "Chinese"}, "language_type 'Chinese'"),
        ("qwen3-tts-flash", {"language_type": "Klingon"}, None, "language_type 'Klingon'"),
        ("qwen3-tts-instruct-flash", {"instructions": "  "}, None, "non-empty"),
        ("qwen3-tts-instruct-flash", {}, {"optimize_instructions": "yes"}, "boolean"),
        ("qwen3-tts-flash-2025-09-18", {"voice": "Vivian"}, None, "Voice 'Vivian'"),
        ("qwen3-tts-instruct-flash", {"voice": "Rocky"}, None, "Voice 'Rocky'"),
        ("qwen3-tts-flash", {"text": "字" * 601}, None, "[1, 600]"),
    ],
)
def test_the_simulator_refuses_what_the_api_refuses_with_400_invalid_parameter(
    simulator, model, inputs, parameters, message
):
    response = post(simulator, model, inputs, parameters)
    assert (response.status_code, response.json()["code"]) == (400, "InvalidParameter")
    assert message in response.json()["message"]


def test_qwen3_text_limit_counts_characters_not_billing_units(simulator):
    assert post(simulator, "qwen3-tts-flash", {"text": "字" * 600}).status_code == 200


# --- DashScope's refusals and failures, as the visitor reads them -------------------------------


def raw_stream(simulator, request, streaming=True):
    """The client without the app's checks, as if the catalogue were out of date."""
    connection = Upstream(simulator.base_url(), BEIJING_KEY, read_timeout_s=1.0)
    return b"".join(SpeechStream(request, connection, "multimodal_conversation", streaming))


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (
            SynthesisRequest("hi", "Cherry", "qwen3-tts-flash", instructions="Whisper."),
            "does not take them",
        ),
        (
            SynthesisRequest("hi", "Cherry", "qwen3-tts-flash", language_type="Klingon"),
            "does not accept this language",
        ),
        (SynthesisRequest("hi", "Vivian", "qwen3-tts-flash-2025-09-18"), "dated snapshot"),
    ],
)
def test_dashscope_refusals_of_options_are_explained(simulator, request_, words):
    with pytest.raises(errors.BadRequestError) as caught:
        raw_stream(simulator, request_)
    assert words in caught.value.en and caught.value.zh
    assert caught.value.code == "InvalidParameter" and caught.value.status_code == 400


@pytest.mark.parametrize(("fault", "times", "error", "words"), SDK_FAULTS)
def test_qwen3_failures_become_the_same_typed_errors_as_qwen_tts(
    simulator, fault, times, error, words
):
    simulator.enqueue_fault(fault, times=times, after_chunks=0)
    with pytest.raises(error) as caught:
        raw_stream(simulator, SynthesisRequest(TEXT, "Rocky", "qwen3-tts-flash"))
    assert words in caught.value.en and BEIJING_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("data_inspection_midstream", errors.ContentRejectedError),
        ("cut_stream", errors.IncompleteAudioError),
        ("drop_midstream", errors.ConnectionFailedError),
    ],
)
def test_a_qwen3_stream_that_fails_after_audio_says_it_was_incomplete(simulator, fault, error):
    simulator.enqueue_fault(fault, after_chunks=2)
    connection = Upstream(simulator.base_url(), BEIJING_KEY, read_timeout_s=1.0)
    request = SynthesisRequest(TEXT, "Kiki", "qwen3-tts-flash")
    received = []
    with pytest.raises(error, match="incomplete audio was not kept"):
        for chunk in SpeechStream(request, connection, "multimodal_conversation"):
            received.append(chunk)
    assert len(received) == 2


@pytest.mark.parametrize(
    ("fault", "words"), [("expired_url", "expired"), ("malformed_json", "could not read")]
)
def test_qwen3_non_streaming_failures_are_explained(simulator, fault, words):
    simulator.enqueue_fault(fault)
    with pytest.raises(errors.DashScopeError, match=words):
        raw_stream(simulator, SynthesisRequest(TEXT, "Rocky", "qwen3-tts-flash"), streaming=False)

"""Hostile and strange input: normalised sensibly or refused clearly, never echoed as HTML."""

from __future__ import annotations

import unicodedata

import pytest
from gradio_client.exceptions import AppError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qwen_tts_showcase.errors import InputError
from qwen_tts_showcase.synthesis import SpeechOrder
from qwen_tts_showcase.text import clean_text

from .conftest import BEIJING_KEY, REALTIME_DEFAULTS, submit_generate

HTML = [
    "<script>alert('key')</script>",
    '<img src=x onerror="alert(1)">',
    "<b>bold</b> & <i>italic</i>",
    "[link](javascript:alert(1)) **markdown**",
    "{{7*7}} ${7*7} %s %(key)s",
]
GENERIC = ("has raised an exception", "Something unexpected went wrong")


# --- normalisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  你\u200b好\x00\x07,\ufeff world \n", "你好, world"),
        ("one\r\ntwo\rthree\u2028four\x0bfive\x85six", "one\ntwo\nthree\nfour\nfive\nsix"),
        ("\u202eevil\u202c \u2066isolate\u2069 soft\u00adhyphen", "evil isolate softhyphen"),
        ("tag\U000e0041s and private\ue000 use", "tags and private use"),
        ("e\u0301", "é"),  # NFC: the same text always makes the same request and cache key
        (
            "😀 Hello 你好 こんにちは 안녕 Привет مرحبا",
            "😀 Hello 你好 こんにちは 안녕 Привет مرحبا",
        ),
        (HTML[0], HTML[0]),  # spoken as typed: escaping is the renderer's job, not the speaker's
    ],
)
def test_clean_text_keeps_what_is_heard_and_drops_what_is_not(raw, clean):
    assert clean_text(raw) == clean


INVISIBLE = {"Cc", "Cf", "Cs", "Co"}


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None)))
def test_clean_text_is_idempotent_and_leaves_nothing_invisible(raw):
    clean = clean_text(raw)
    assert clean_text(clean) == clean
    assert clean == clean.strip()
    assert all(ch in "\n\t" or unicodedata.category(ch) not in INVISIBLE for ch in clean)


# --- Synthesizer.plan: the check every synthesis goes through -------------------------------


def names(catalogue) -> tuple[list[str], list[str]]:
    return [m.id for m in catalogue.models], sorted(catalogue.voices)


def anything_or(choices: list[str]) -> st.SearchStrategy:
    """Mostly real choices, so requests get through; sometimes anything at all."""
    return st.one_of(
        st.sampled_from(choices),
        st.sampled_from(choices),
        st.text(max_size=60),
        st.none(),
        st.sampled_from(HTML),
    )


def texts() -> st.SearchStrategy:
    return st.one_of(
        st.text(alphabet=st.characters(codec=None), max_size=400),
        st.sampled_from(HTML),
        st.integers(4_990, 12_000).map(lambda n: "长" * n),
        st.integers(1, 3_000).map(lambda n: "a" * n),  # one unsplittable word
        st.text(alphabet="\u200b\u200d\ufeff \n\t\x00", max_size=50),
    )


def test_prepare_never_fails_with_anything_but_an_input_error(synthesizer, catalogue):
    models, voices = names(catalogue)

    languages = sorted({name for m in catalogue.models for name in m.language_types})

    @settings(max_examples=400, deadline=None)
    @given(
        texts(),
        anything_or(voices),
        anything_or(models),
        anything_or([r.id for r in catalogue.regions]),
        anything_or(languages),
        st.one_of(st.none(), texts()),
    )
    def check(text, voice, model, region, language_type, instructions):
        try:
            order = SpeechOrder(text, voice, model, region, language_type, instructions)
            request = synthesizer.plan(order).request
        except InputError as err:
            assert err.en and err.zh and len(str(err)) < 2_000  # both languages, every model listed
            return
        assert request.text == clean_text(request.text) and request.text
        assert len(request.text) <= synthesizer.settings.max_text_chars
        assert request.voice in catalogue.model(request.model).voices

    check()


def test_a_hundred_thousand_characters_are_refused_at_once_naming_the_cap(synthesizer):
    with pytest.raises(InputError, match="100,000 characters long; the demo speaks at most 5,000"):
        synthesizer.plan(SpeechOrder("长" * 100_000, "Cherry", "qwen-tts-latest", "beijing"))
    # Refused unread, not cleaned first: cleaned, this would be one character and accepted.
    with pytest.raises(InputError, match="100,001 characters long"):
        synthesizer.plan(
            SpeechOrder("长" + "\u200b" * 100_000, "Cherry", "qwen-tts-latest", "beijing")
        )


def test_a_long_hostile_value_is_echoed_short(synthesizer):
    with pytest.raises(InputError) as caught:
        synthesizer.plan(SpeechOrder("hi", "x" * 100_000, "qwen-tts-latest", "beijing"))
    assert len(str(caught.value)) < 500


@pytest.mark.parametrize(
    "key", ["sk-abc\ndef", "sk-密钥", "sk-" + "a" * 300, "Bearer sk-abc", "sk-abc\x00"]
)
def test_a_key_that_cannot_be_a_dashscope_key_is_refused_without_echoing_it(synthesizer, key):
    with pytest.raises(InputError, match="does not look like a DashScope API key") as caught:
        synthesizer.route("beijing", key)
    assert key.strip() not in str(caught.value)


# --- through the app ------------------------------------------------------------------------------


def synthesize(client, text="你好。", voice="Cherry", model="qwen-tts-latest"):
    return client.predict(text, voice, model, api_name="/synthesize")


@pytest.mark.parametrize("payload", HTML)
def test_markup_in_a_voice_or_model_comes_back_escaped(app, simulator, payload):
    client, _ = app
    for field in ("voice", "model"):
        with pytest.raises(AppError) as caught:
            synthesize(client, **{field: payload})
        message = str(caught.value)
        assert "<" not in message and ">" not in message, "toasts render HTML"
        assert "not available" in message or "Unknown model" in message
    assert simulator.generation_requests() == []


def test_markup_in_the_text_is_spoken_as_typed_and_echoed_escaped(app, simulator):
    client, _ = app
    synthesize(client, text=HTML[1])
    assert simulator.generation_requests()[0].body["input"]["text"] == HTML[1]
    with pytest.raises(AppError) as caught:  # the refusal quotes the start of the text
        synthesize(client, text=HTML[0] + "a" * 3_000)
    assert "&lt;script&gt;" in str(caught.value) and "<script" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("😀 Hello, 你好！こんにちは。", "😀 Hello, 你好！こんにちは。"),
        ("\u200b第一行\r\n第二\u200d行\x07", "第一行\n第二行"),
        ("🎉🎉🎉", "🎉🎉🎉"),
    ],
)
def test_emoji_mixed_scripts_and_invisible_characters_reach_dashscope_normalised(
    app, simulator, text, sent
):
    client, _ = app
    path = synthesize(client, text=text)
    request = simulator.generation_requests()[0]
    assert request.body["input"]["text"] == sent
    assert path.endswith(".wav")


def test_a_hundred_thousand_characters_through_the_api_are_refused_before_any_call(app, simulator):
    client, _ = app
    with pytest.raises(AppError, match="at most 5,000 at a time"):
        synthesize(client, text="x " * 50_000)
    assert simulator.generation_requests() == []


def test_a_malformed_own_key_is_refused_before_any_call(app, simulator):
    client, _ = app
    job = submit_generate(client, "你好。", api_key="sk-bad key\nx")
    with pytest.raises(AppError, match="does not look like a DashScope API key"):
        job.result()
    assert simulator.generation_requests() == []


# --- property: the public endpoints answer anything with audio or a human message ----------------

ENDPOINT_EXAMPLES = 30  # each is a real round trip through Gradio; enough to find a crash class


def endpoint_texts() -> st.SearchStrategy:
    # JSON carries no lone surrogates, so the API cannot receive them (prepare's test covers them)
    return st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
        st.sampled_from(HTML),
        st.integers(4_990, 20_000).map(lambda n: "長" * n),
    )


def usually(valid: str) -> st.SearchStrategy:
    """The valid value three times in four, so most requests reach DashScope; else junk."""
    return st.one_of(st.just(valid), st.just(valid), st.just(valid), anything_or([valid]))


def answers_with_audio_or_a_human_message(call, inputs: st.SearchStrategy, valid: tuple) -> None:
    """Run `call` on drawn inputs; each must give a WAV or a human AppError, and both must occur.

    `valid` is always tried too: a draw of mostly junk could otherwise miss the audio path."""
    outcomes = []

    @settings(max_examples=ENDPOINT_EXAMPLES, deadline=None, database=None)
    @example(valid)
    @given(inputs)
    def check(drawn):
        try:
            assert call(*drawn).endswith(".wav")
            outcomes.append("audio")
        except AppError as err:
            message = str(err)
            assert not any(generic in message for generic in GENERIC), message
            assert "Traceback" not in message and BEIJING_KEY not in message
            outcomes.append("refused")

    check()
    assert set(outcomes) == {"audio", "refused"}, "the examples exercised both paths"


def pairs(catalogue, voices_offered: set[str] | None = None) -> list[tuple[str, str]]:
    return [
        (m.id, v)
        for m in catalogue.models
        for v in m.voices
        if voices_offered is None or v in voices_offered
    ]


def test_synthesize_answers_anything_with_audio_or_a_human_message(app, simulator, catalogue):
    client, _ = app
    inputs = st.sampled_from(pairs(catalogue)).flatmap(
        lambda pair: st.tuples(endpoint_texts(), usually(pair[1]), usually(pair[0]))
    )
    answers_with_audio_or_a_human_message(
        lambda *args: client.predict(*args, api_name="/synthesize"),
        inputs,
        ("你好。", "Cherry", "qwen-tts-latest"),
    )


def test_generate_answers_anything_with_audio_or_a_human_message(app, simulator, catalogue):
    client, _ = app
    keys = st.one_of(st.just(""), st.just(BEIJING_KEY), st.text(max_size=40))
    instructions = st.one_of(st.just(""), st.text(max_size=60))  # sent only to instruct models
    opening = set(catalogue.model(catalogue.default_model).voices)  # the voice dropdown's choices
    inputs = st.sampled_from(pairs(catalogue, opening)).flatmap(
        lambda pair: st.tuples(
            endpoint_texts(),
            usually(pair[0]),
            usually(pair[1]),
            usually("Auto"),
            instructions,
            usually("beijing"),
            keys,
            st.booleans(),
        )
    )
    answers_with_audio_or_a_human_message(
        lambda *args: client.submit(*args, *REALTIME_DEFAULTS, api_name="/generate").result()[1],
        inputs,
        ("你好。", "qwen-tts-latest", "Cherry", "Auto", "", "beijing", "", True),
    )

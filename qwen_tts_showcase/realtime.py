"""The realtime models' own controls: speech rate, pitch, volume, sample rate and format.

They are checked here for every way in (the Studio, /synthesize, the MCP tool) against the
catalogue's row of the model, so what reaches DashScope is exactly what the page shows. A value
left at None is not sent and DashScope's default applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .catalogue import Catalogue, Model
from .dashscope_client import spoken_sentences
from .errors import InputError, echo
from .messages import say

if TYPE_CHECKING:
    from .speech import SpeechResult

RATE_RANGE = (0.5, 2.0)  # speech_rate and pitch_rate (the voices reference, §2)
VOLUME_RANGE = (0, 100)
DEFAULTS = {"speech_rate": 1.0, "pitch_rate": 1.0, "volume": 50, "sample_rate": 24000}
DEFAULT_FORMAT = "pcm"
# Speak-as-written: pieces (words, Han characters) a second. 4 is a brisk reading pace, about
# a chatbot's; the range keeps a visitor's value from holding a socket open for an hour.
WRITTEN_PACE = 4.0
WRITTEN_PACE_RANGE = (1.0, 20.0)


class _Controls(Protocol):
    speech_rate: float | None
    pitch_rate: float | None
    volume: int | None
    sample_rate: int | None
    response_format: str | None
    written_pace: float | None


def check_controls(catalogue: Catalogue, model: Model, order: _Controls) -> dict:
    """The controls to send, keyed as SynthesisRequest's fields, or an InputError."""
    given = {
        "speech_rate": order.speech_rate,
        "pitch_rate": order.pitch_rate,
        "volume": order.volume,
        "sample_rate": order.sample_rate,
        "response_format": (order.response_format or "").strip().lower() or None,
        "written_pace": order.written_pace,
    }
    if all(value is None for value in given.values()):
        return given
    if not model.realtime:
        realtime = ", ".join(m.id for m in catalogue.models if m.realtime)
        raise InputError(say("realtime_controls_not_taken", model=model.id, realtime=realtime))
    for name in ("speech_rate", "pitch_rate"):
        given[name] = _number(name, given[name], *RATE_RANGE)
    given["written_pace"] = _number("written_pace", given["written_pace"], *WRITTEN_PACE_RANGE)
    if given["volume"] is not None:
        given["volume"] = int(round(_number("volume", given["volume"], *VOLUME_RANGE)))
    if given["sample_rate"] is not None:
        given["sample_rate"] = _choice(
            model, "sample_rate", given["sample_rate"], model.sample_rates
        )
    if given["response_format"] is not None:
        given["response_format"] = _choice(
            model, "response_format", given["response_format"], model.formats
        )
    return given


def _number(name: str, value: object, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:  # NaN fails too
        raise InputError(
            say(
                "realtime_control_out_of_range",
                name=name,
                low=low,
                high=high,
                value=echo(str(value)),
            )
        )
    return number


def _choice(model: Model, name: str, value: object, valid: tuple) -> object:
    for option in valid:
        if str(option) == str(value).strip():
            return option
    raise InputError(
        say(
            "realtime_choice_unknown",
            model=model.id,
            name=name,
            value=echo(str(value)),
            valid=", ".join(map(str, valid)),
        )
    )


# --- Words lit as they are spoken -------------------------------------------------------------


def timeline(text: str, words: list[dict], starts: list[int], word_times: bool) -> dict:
    """What the page lights as the audio plays, as far as it is known: {"timing": "words",
    "spans": [{text, begin, end}]} with the model's word times (ms), or {"timing": "sentences",
    "spans": [{text, begin}]} with the text's sentences, each beginning where its response's
    audio starts (None until it has); a sentence ends where the next begins."""
    if words or word_times:
        spans = [
            {"text": str(w.get("text", "")), "begin": w["begin_time"], "end": w["end_time"]}
            for w in words
        ]
        return {"timing": "words", "spans": spans}
    sentences = spoken_sentences(text)
    spans = [
        {"text": sentence, "begin": starts[number] if number < len(starts) else None}
        for number, sentence in enumerate(sentences)
    ]
    return {"timing": "sentences", "spans": spans}


def finished_timeline(result: SpeechResult) -> dict:
    """The timeline of a complete recording, every span with its end: the word times, else the
    sentences where their audio starts, else (a cached answer: no starts kept) each sentence as
    long as its share of the letters."""
    if result.words:
        return timeline(result.request.text, list(result.words), [], True)
    total_ms = int(result.audio_s * 1000)
    sentences = spoken_sentences(result.request.text)
    begins = list(result.starts)
    if len(begins) != len(sentences):
        letters = sum(len(s.strip()) for s in sentences) or 1
        begins, at = [], 0.0
        for sentence in sentences:
            begins.append(int(at))
            at += total_ms * len(sentence.strip()) / letters
    ends = [*begins[1:], total_ms]
    spans = [
        {"text": text, "begin": begin, "end": end}
        for text, begin, end in zip(sentences, begins, ends, strict=True)
    ]
    return {"timing": "sentences", "spans": spans}

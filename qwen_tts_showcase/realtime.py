"""The realtime models' own controls: speech rate, pitch, volume, sample rate and format.

They are checked here for every way in (the Studio, /synthesize, the MCP tool) against the
catalogue's row of the model, so what reaches DashScope is exactly what the page shows. A value
left at None is not sent and DashScope's default applies.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from .catalogue import Catalogue, Model
from .dashscope_client import spoken_sentences
from .errors import InputError, LimitReachedError, echo
from .messages import say
from .text import billed_characters, clean_text

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
# Speak as I type: the text comes from the visitor's keyboard (TypedText). One session takes at
# most TYPED_MAX_CHARS billed characters (charged up front, the unused part given back at the
# end), each piece at most TYPED_PIECE_MAX_CHARS; it ends TYPED_IDLE_S after the last piece (the
# page ends it sooner, after a pause of its own) and takes text for TYPED_OPEN_S at most.
TYPED_MAX_CHARS = 1_000
TYPED_PIECE_MAX_CHARS = 500
TYPED_IDLE_S = 8.0
TYPED_OPEN_S = 90.0


class _Controls(Protocol):
    speech_rate: float | None
    pitch_rate: float | None
    volume: int | None
    sample_rate: int | None
    response_format: str | None
    written_pace: float | None
    typed: bool


def check_controls(catalogue: Catalogue, model: Model, order: _Controls) -> dict:
    """The controls to send, keyed as SynthesisRequest's fields, or an InputError."""
    given = {
        "speech_rate": order.speech_rate,
        "pitch_rate": order.pitch_rate,
        "volume": order.volume,
        "sample_rate": order.sample_rate,
        "response_format": (order.response_format or "").strip().lower() or None,
        "written_pace": order.written_pace,
        "typed": True if order.typed else None,
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


# --- Speak as I type ----------------------------------------------------------------------------


class TypedText:
    """The text a visitor types, piece by piece, for one realtime session: the page appends
    (live.py's /text route), the session's writer takes (dashscope_client.realtime_socket).
    Bounded in billed characters, piece size and time; safe to use from many threads."""

    def __init__(
        self,
        max_chars: int = TYPED_MAX_CHARS,
        open_s: float = TYPED_OPEN_S,
        idle_s: float = TYPED_IDLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_chars, self._idle_s, self._clock = max_chars, idle_s, clock
        self._closes = clock() + open_s
        self._pieces: list[str] = []  # appended, not yet taken
        self.text = ""  # everything appended, as sent
        self.billed = 0
        self.finished = False
        self._last = clock()
        self._changed = threading.Condition()

    def append(self, piece: str) -> int:
        """Add a piece (cleaned); the billed characters taken so far. An InputError when the
        session has ended or the piece is too long, a LimitReachedError past the cap."""
        if len(piece) > 2 * TYPED_PIECE_MAX_CHARS:  # refused unread
            raise InputError(say("typed_piece_too_long", cap=TYPED_PIECE_MAX_CHARS))
        piece = clean_piece(piece)
        if len(piece) > TYPED_PIECE_MAX_CHARS:
            raise InputError(say("typed_piece_too_long", cap=TYPED_PIECE_MAX_CHARS))
        with self._changed:
            if self.finished or self._clock() >= self._closes:
                raise InputError(say("typed_ended"))
            billed = billed_characters(piece)
            if self.billed + billed > self.max_chars:
                raise LimitReachedError(say("typed_too_long", cap=self.max_chars), retry_after_s=0)
            if piece:
                self._pieces.append(piece)
                self.text += piece
                self.billed += billed
                self._last = self._clock()
                self._changed.notify_all()
            return self.billed

    def finish(self) -> None:
        """No more text: the session speaks what it has, then ends."""
        with self._changed:
            self.finished = True
            self._changed.notify_all()

    def next_piece(self, stop: threading.Event) -> str | None:
        """The next piece typed (all waiting ones, joined); None once the text is finished, has
        been idle too long or open too long, or `stop` is set."""
        with self._changed:
            while not self._pieces and not stop.is_set():
                now = self._clock()
                if self.finished or now >= self._closes or now - self._last >= self._idle_s:
                    self.finished = True
                    return None
                self._changed.wait(min(0.1, self._closes - now))
            if stop.is_set():
                return None
            taken, self._pieces = "".join(self._pieces), []
            return taken


_EDGE_SPACE = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)


def clean_piece(piece: str) -> str:
    """A typed piece cleaned as a whole text is (text.clean_text), but keeping the spaces at its
    edges that separate it from the pieces around it (as one space, or one line break)."""
    lead, body, tail = _EDGE_SPACE.match(piece).groups()
    edge = lambda space: "\n" if "\n" in space or "\r" in space else " " if space else ""  # noqa: E731
    body = clean_text(body)
    return edge(lead) + body + edge(tail) if body else edge(lead + tail)


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

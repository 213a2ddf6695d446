"""One synthesis as it plays: cache first, then each part of the plan with retries, joined cleanly.

The Synthesizer (synthesis.py) makes the two values a Speech needs: a Plan (the checked request
and the parts its text is split into, once) and a Route (where the parts go, chosen once). A
Speech then does the rest: cache lookup, the key and the quota, the parts with retries, the join,
the cache store.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from functools import cached_property

from . import errors
from .audio import FADE_BYTES, PART_GAP, SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, duration_s, fade
from .cache import AudioCache, CachedAudio, Flight, cache_key
from .dashscope_client import (
    REALTIME_CONTROLS,
    SpeechStream,
    SynthesisRequest,
    TextSource,
    Upstream,
)
from .messages import Both, Message, say
from .quota import CachedAnswers, DiskShare, Quota, Visitor
from .realtime import TYPED_MAX_CHARS
from .text import billed_characters, estimated_tokens

Notice = Callable[[Message], None]  # progress or a retry, for the visitor
log = logging.getLogger(__name__)

CACHED_ANSWERS, CACHED_WINDOW_S = 60, 60.0  # Settings.cached_requests and _window_s by default
# A new recording is on disk three times: the cache entry, the download (or a batch's ZIP) and
# the copy Gradio serves it from.
WRITES_PER_RECORDING = 3
# The longest a text can be spoken: a slow reading of Chinese is about 4 characters a second,
# English about 15; each part may add a second of silence around it. A synthesis reserves this
# much of its visitor's disk share before it starts (quota.DiskShare) and settles at its size.
MOST_SPEECH_S_PER_CHARACTER = 0.5
MOST_SPEECH_S_PER_PART = 1.0


def most_bytes(plan: Plan) -> int:
    """The most a plan's recording can write to disk: every copy of the longest speech its text
    can make."""
    seconds = sum(
        MOST_SPEECH_S_PER_PART + MOST_SPEECH_S_PER_CHARACTER * len(part.text) for part in plan.parts
    )
    if plan.request.typed:  # the text comes while it plays: the most it may be
        seconds += MOST_SPEECH_S_PER_CHARACTER * TYPED_MAX_CHARS
    return int(seconds * SAMPLE_RATE_HZ * SAMPLE_WIDTH_BYTES) * WRITES_PER_RECORDING


_RETRY_REASONS: dict[type[errors.DashScopeError], str] = {
    errors.RateLimitError: "retry_rate_limited",
    errors.ServiceError: "retry_server_error",
    errors.ConnectionFailedError: "retry_connection_failed",
}


@dataclass(frozen=True)
class SpeechResult:
    """A complete synthesis: every sample, how long it took, and what it cost."""

    request: SynthesisRequest
    pcm: bytes
    usage: dict[str, object]
    billing: str  # "tokens" or "characters"
    request_id: str
    first_audio_s: float  # from the start to the first PCM chunk
    total_s: float
    cache_key: str
    cached: bool = False  # served from the cache: no API call, nothing billed
    parts: int = 1  # requests the text was split into
    # Each word's {"text", "begin_time", "end_time"} (ms into pcm), for the models that send
    # word times (Qwen-Audio TTS 3.x); () otherwise, and for an answer from the cache.
    words: tuple[dict, ...] = ()
    # Where each sentence's audio starts (ms into pcm), for the WebSocket models: one response
    # per sentence; () otherwise, and for an answer from the cache.
    starts: tuple[int, ...] = ()

    @property
    def audio_s(self) -> float:
        return duration_s(self.pcm)

    @property
    def realtime_factor(self) -> float:
        """Wall time per second of audio; below 1 is faster than real time."""
        return self.total_s / self.audio_s if self.audio_s else 0.0

    @property
    def billed(self) -> int:
        """What DashScope counted for the bill: characters (qwen3) or tokens (qwen-tts)."""
        if self.cached:
            return 0
        return int(
            self.usage.get("characters" if self.billing == "characters" else "total_tokens") or 0
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter, inside one deadline for the whole synthesis."""

    max_retries: int
    base_s: float
    deadline_s: float
    cap_s: float = 8.0

    def delay_s(self, retry: int) -> float:
        """Equal jitter: half the backoff fixed, half random, so retries spread out."""
        backoff = min(self.cap_s, self.base_s * 2**retry)
        return backoff / 2 + random.uniform(0, backoff / 2)


@dataclass(frozen=True)
class Plan:
    """A checked request and the parts it is sent as: its text is split once, here."""

    request: SynthesisRequest
    parts: tuple[SynthesisRequest, ...]  # one, or one per piece the model's limit requires
    sdk: str  # how the client calls the model: "speech_synthesizer" or "multimodal_conversation"
    billing: str  # "tokens" or "characters"

    @cached_property
    def billed(self) -> int:
        """What DashScope bills for the parts' text, as the budget counts it: characters for
        qwen3 (a Han character is 2), the generous token estimate for qwen-tts."""
        if self.request.typed:  # charged up front, the unused part given back at the end
            return TYPED_MAX_CHARS
        measure = billed_characters if self.billing == "characters" else estimated_tokens
        return sum(measure(part.text) for part in self.parts)

    @cached_property
    def cache_key(self) -> str:
        """The cache entry of exactly what changes the audio. Realtime controls left unset are
        left out, so an HTTP request keeps the key it had before they existed."""
        fields = asdict(self.request)
        for name in REALTIME_CONTROLS:
            if fields[name] is None:
                del fields[name]
        return cache_key(fields)


@dataclass(frozen=True)
class Route:
    """Where a plan goes when the cache cannot answer, chosen once per synthesis."""

    upstream: Upstream | None  # None: there is no key at all (said only when one is needed)
    owner_key: bool  # the Space owner's key: its characters count against the daily budget
    # Added to a refused key's message: the demo's own key was sent to another region.
    refused_key_hint: Message | None = None

    def open(self) -> Upstream:
        """The upstream to send to, or a MissingKeyError saying how to add a key."""
        if self.upstream is None:
            raise errors.MissingKeyError(say("no_key", where_key=say("where_key")))
        return self.upstream

    def explain(self, err: errors.DemoError) -> errors.DemoError:
        """A refused key's error with the hint added; any other error as it is."""
        if self.refused_key_hint is None or not isinstance(err, errors.InvalidKeyError):
            return err
        # The refusal's own words, without its details: the new error carries those at its end.
        refused = Both(errors.DemoError.text(err, "en"), errors.DemoError.text(err, "zh"))
        return errors.InvalidKeyError(
            say("key_refused_hint", refused=refused, hint=self.refused_key_hint),
            code=err.code,
            status_code=err.status_code,
            request_id=err.request_id,
        )


class Stopped(Exception):
    """The speech was closed (the visitor stopped it) before it was complete."""


class Speech:
    """Iterate for PCM chunks as they arrive; `result` is set once the audio is complete.

    Nothing is sent before iteration starts. A cache hit plays at once with no key or budget
    needed (it counts against the cached answers one visitor may have a minute), and so does
    the audio of an identical request already under way, which this one waits for rather than
    sending its own; otherwise the key is checked, the quota charged (and refunded if no audio came), each
    part of the plan is synthesized in order, retried while no audio of it has played, and the
    parts are joined with a short fade and pause so no click is heard. Only complete audio is
    stored in the cache or set as `result`.
    """

    def __init__(
        self,
        plan: Plan,
        route: Route,
        *,
        cache: AudioCache,
        retry: RetryPolicy,
        quota: Quota,
        visitor: Visitor,
        streaming: bool = True,
        on_notice: Notice | None = None,
        answers: CachedAnswers | None = None,
        disk: DiskShare | None = None,
        viewer: Visitor | None = None,
        public_text: bool = False,
        typed: TextSource | None = None,
    ) -> None:
        self.plan, self.route = plan, route
        self._cache, self._retry = cache, retry
        self._quota, self._visitor = quota, visitor
        # Who hears the result (a batch's rows speak as nobody, for the visitor who ran it): the
        # cached answers are counted against them, and "cache" is said only if they asked before.
        self._viewer = viewer or visitor
        self._answers = answers or CachedAnswers(CACHED_ANSWERS, CACHED_WINDOW_S)
        self._disk = disk or DiskShare(0, 60.0)
        self._made_audio: CachedAudio | None = None
        self._received = 0  # bytes of disk the audio received so far may take (every copy)
        self._public_text = public_text  # a gallery line: saying "cache" reveals nobody's text
        self._streaming = streaming
        self._notice = on_notice or (lambda message: None)
        self.typed = typed  # speak as I type: the text as the page sends it; never cached
        self.result: SpeechResult | None = None
        self._deadline = 0.0  # time.monotonic() by which every part and retry must be done
        self._closed = threading.Event()
        self._stream: SpeechStream | None = None  # the DashScope stream being read
        self._reading: SpeechStream | None = None  # it, until its times join the lists
        self.words: list[dict] = []  # word times so far, in ms from the start of the audio
        self.starts: list[int] = []  # where each sentence's audio starts so far, in ms
        self._joined_bytes = 0  # audio yielded so far: where the next part's word times start
        self._part_ms = 0  # where the part being read starts, in ms

    def close(self) -> None:
        """Stop now, from any thread: the DashScope connection being read is closed at once and
        no retry or later part is sent; the iteration ends (raising Stopped if it was reading).
        Nothing is cached, and the quota is refunded when no audio came."""
        self._closed.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    def progress(self) -> tuple[list[dict], list[int]]:
        """(word times, sentence starts) known so far, in ms from the start of the audio, while
        the speech is read (from any thread): the finished parts' and the current stream's."""
        words, starts = list(self.words), list(self.starts)
        stream = self._stream
        if stream is not None and self._reading is stream:
            words += _shifted(stream.live_words, self._part_ms)
            starts += [self._part_ms + _ms(start) for start in stream.live_starts]
        return words, starts

    def complete(self) -> SpeechResult:
        """Drain the speech (for callers that do not listen live) and return its result."""
        for _ in self:
            pass
        return self.result

    def __iter__(self) -> Iterator[bytes]:
        started = time.perf_counter()
        if self.typed is not None:  # what it will say is not known yet: no cache either way
            yield from self._made(started)
            return
        hit, flight = self._answer()
        if hit is not None:
            yield from self._served(hit, started)
            return
        try:
            yield from self._made(started)
        finally:
            self._cache.land(self.plan.cache_key, flight, self._made_audio)

    def _answer(self) -> tuple[CachedAudio | None, Flight | None]:
        """The audio already made (in the cache, or by an identical request under way now), or
        else the flight this speech leads, which identical requests wait for."""
        key = self.plan.cache_key
        while True:
            hit = self._cache.get(key)
            if hit is not None:
                return hit, None
            flight, leading = self._cache.take_off(key)
            if leading:
                return None, flight
            landed, audio = flight.wait(self._retry.deadline_s * (len(self.plan.parts) + 1))
            if audio is not None:
                return audio, None
            if not landed:  # waited long enough: go alone
                return None, None
            # it failed or its visitor left: try again, perhaps leading this time

    def _served(self, hit: CachedAudio, started: float) -> Iterator[bytes]:
        """Audio someone already paid for: counted against the viewer's cached answers, and
        called "cache" only to a viewer who asked for it before, or for a gallery line (to
        anyone else it would say that another visitor synthesized this text)."""
        key = self.plan.cache_key
        self._answers.admit(self._viewer)
        if self._visitor.request_counted:  # a batch's row: written anew into its ZIP, and
            # Gradio's copy of the ZIP (a new recording's copies are counted in _made)
            written = len(hit.pcm) * (WRITES_PER_RECORDING - 1)
            self._disk.reserve(self._viewer, written).settle(written)
        marked = self._public_text or self._answers.asked_before(self._viewer, key)
        yield hit.pcm
        self._answers.remember(self._viewer, key)
        self.result = self._finish(hit.pcm, hit.usage, hit.request_id, started, started, marked)

    def _made(self, started: float) -> Iterator[bytes]:
        """The audio made now: the key, the quota, each part with retries, the cache store."""
        upstream = self.route.open()
        reservation = self._disk.reserve(self._viewer, most_bytes(self.plan))
        try:
            yield from self._made_within(upstream, started)
        finally:  # even a failure's audio may be on disk (Gradio's copy of a stream): counted
            reservation.settle(self._received)

    def _made_within(self, upstream: Upstream, started: float) -> Iterator[bytes]:
        """The audio made now, its disk share reserved."""
        self._deadline = time.monotonic() + self._retry.deadline_s  # one for all parts and retries
        admission = self._quota.admit(self._visitor, self.plan.billed, self.route.owner_key)
        usage: dict[str, object] = {}
        request_ids: list[str] = []
        chunks: list[bytes] = []
        first_audio = started
        try:
            for pcm in self._joined(upstream, usage, request_ids):
                if not chunks:
                    first_audio = time.perf_counter()
                    # speak-as-written: first sound counts from the first piece of text
                    written_at = self._stream.first_text_at if self._stream else None
                    started = written_at if written_at is not None else started
                chunks.append(pcm)
                self._received += len(pcm) * WRITES_PER_RECORDING
                yield pcm
            if not chunks and self.typed is not None:  # the visitor typed nothing to say
                raise errors.InputError(say("no_text"))
        except BaseException as failure:  # a failure, or the visitor left (GeneratorExit)
            if not chunks:
                admission.refund()  # nothing was produced, so nothing was billed
            else:
                self._settle_typed(admission)
            if not isinstance(failure, errors.DemoError):
                raise
            explained = self.route.explain(failure)
            if explained is failure:
                raise
            raise explained from failure
        pcm, request_id = b"".join(chunks), ", ".join(request_ids)
        self.result = self._finish(pcm, usage, request_id, started, first_audio)
        if self.typed is not None:
            self._settle_typed(admission)
            return
        audio = CachedAudio(pcm, usage, self.plan.billing, request_id, asdict(self.plan.request))
        self._cache.put(self.plan.cache_key, audio)
        self._made_audio = audio  # for identical requests waiting on this one
        self._answers.remember(self._viewer, self.plan.cache_key)

    def _settle_typed(self, admission) -> None:
        """A typed text was charged its cap up front: now only what was typed is."""
        if self.typed is None:
            return
        admission.refund()
        typist = replace(self._visitor, request_counted=True)  # its request was counted
        try:
            self._quota.admit(typist, self.typed.billed, self.route.owner_key)
        except errors.LimitReachedError:  # spent by others in the instant between: rare
            log.warning("a typed text's %d characters were not counted", self.typed.billed)

    def _finish(
        self,
        pcm: bytes,
        usage: dict[str, object],
        request_id: str,
        started: float,
        first_audio: float,
        cached: bool = False,
    ) -> SpeechResult:
        request = self.plan.request
        if self.typed is not None:
            request = replace(request, text=self.typed.text)
        return SpeechResult(
            request=request,
            pcm=pcm,
            usage=usage,
            billing=self.plan.billing,
            request_id=request_id,
            first_audio_s=first_audio - started,
            total_s=time.perf_counter() - started,
            cache_key=self.plan.cache_key,
            cached=cached,
            parts=len(self.plan.parts),
            words=() if cached else tuple(self.words),
            starts=() if cached else tuple(self.starts),
        )

    def _joined(
        self, upstream: Upstream, usage: dict[str, object], request_ids: list[str]
    ) -> Iterator[bytes]:
        """The parts' audio in order. A single part passes through untouched, so its samples are
        exactly DashScope's; between parts the edges fade over 10 ms around a short pause."""
        count = len(self.plan.parts)
        for number, part in enumerate(self.plan.parts, start=1):
            chunks = self._with_retries(part, upstream, usage, request_ids)
            if count == 1:
                yield from self._counted(chunks)
                continue
            self._notice(say("speaking_part", number=number, count=count))
            yield from self._counted(_faded(chunks, fade_in=number > 1, fade_out=number < count))
            if number < count:
                yield from self._counted(iter((PART_GAP,)))

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._joined_bytes += len(chunk)
            yield chunk

    def _with_retries(
        self,
        part: SynthesisRequest,
        upstream: Upstream,
        usage: dict[str, object],
        request_ids: list[str],
    ) -> Iterator[bytes]:
        """One part's chunks; retryable failures are retried while none of its audio has played."""
        start_ms = self._part_ms = _ms(self._joined_bytes)  # its words' and sentences' offset
        # A typed text's pieces are taken by the session they go to: not sent again by a retry.
        retries = 0 if self.typed is not None else self._retry.max_retries
        for retry in range(retries + 1):
            stream = SpeechStream(
                part,
                upstream,
                self.plan.sdk,
                self._streaming,
                deadline=self._deadline,
                typed=self.typed,
            )
            self._stream = self._reading = stream
            if self._closed.is_set():
                raise Stopped
            played = False
            try:
                for pcm in stream:
                    played = True
                    yield pcm
            except errors.DashScopeError as err:
                if self._closed.is_set():
                    raise Stopped from err
                delay = self._retry.delay_s(retry)
                if (
                    played
                    or not err.retryable
                    or retry == retries
                    or time.monotonic() + delay > self._deadline
                ):
                    raise
                self._announce_retry(err, delay, retry + 2)
                if self._closed.wait(delay):
                    raise Stopped from err
                continue
            _add_usage(usage, stream.usage)
            request_ids.append(stream.request_id)
            self._reading = None  # its times move to the speech's lists
            self.words.extend(_shifted(stream.words, start_ms))
            self.starts.extend(start_ms + _ms(start) for start in stream.live_starts)
            return

    def _announce_retry(self, err: errors.DashScopeError, delay: float, attempt: int) -> None:
        reason = next(
            (key for cls, key in _RETRY_REASONS.items() if isinstance(err, cls)), "retry_failed"
        )
        total = self._retry.max_retries + 1
        self._notice(
            say("retrying", reason=say(reason), delay_s=delay, attempt=attempt, total=total)
        )


def _faded(chunks: Iterator[bytes], fade_in: bool, fade_out: bool) -> Iterator[bytes]:
    """Chunks with the first 10 ms faded in and the last 10 ms faded out (held back until the end)."""
    held = b""
    for chunk in chunks:
        data = held + chunk
        if fade_in and data:
            edge = min(FADE_BYTES, len(data))
            data = fade(data[:edge], fade_in=True) + data[edge:]
            fade_in = False
        if fade_out:
            held, data = data[-FADE_BYTES:], data[:-FADE_BYTES]
        if data:
            yield data
    if held:
        yield fade(held, fade_in=False)


def _ms(pcm_bytes: int) -> int:
    return pcm_bytes * 1000 // (SAMPLE_RATE_HZ * SAMPLE_WIDTH_BYTES)


def _shifted(words: list[dict], start_ms: int) -> list[dict]:
    """A part's word times moved to where the part starts in the joined audio."""
    shifted = []
    for word in words:
        try:
            begin, end = int(word["begin_time"]), int(word["end_time"])
        except (KeyError, TypeError, ValueError):
            continue  # a word without usable times is not lit, the audio still plays
        shifted.append(
            {
                "text": str(word.get("text", "")),
                "begin_time": begin + start_ms,
                "end_time": end + start_ms,
            }
        )
    return shifted


def _add_usage(total: dict[str, object], part: dict[str, object]) -> None:
    """Sum a part's usage into the total, nested counts included."""
    for name, value in part.items():
        if isinstance(value, dict):
            _add_usage(total.setdefault(name, {}), value)
        elif isinstance(value, (int, float)):
            total[name] = total.get(name, 0) + value

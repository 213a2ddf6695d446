"""One synthesis as it plays: cache first, then each part of the text with retries, joined cleanly."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from . import errors
from .audio import FADE_BYTES, PART_GAP, duration_s, fade
from .cache import AudioCache, CachedAudio, cache_key
from .dashscope_client import Connection, SpeechStream, SynthesisRequest
from .quota import Admission

Notice = Callable[[str, str], None]  # (English, Chinese): progress or a retry, for the visitor

_RETRY_REASONS = {
    errors.RateLimitError: ("DashScope is rate-limiting", "DashScope 正在限流"),
    errors.ServiceError: ("DashScope had a server error", "DashScope 服务端出错"),
    errors.ConnectionFailedError: ("the connection to DashScope failed", "与 DashScope 的连接失败"),
}


@dataclass(frozen=True)
class SpeechResult:
    """A complete synthesis: every sample, how long it took, and what it cost."""

    request: SynthesisRequest
    pcm: bytes
    usage: dict
    billing: str  # "tokens" or "characters"
    request_id: str
    first_audio_s: float  # from the start to the first PCM chunk
    total_s: float
    cache_key: str
    cached: bool = False  # served from the cache: no API call, nothing billed
    parts: int = 1  # requests the text was split into

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
    """Bounded exponential backoff with jitter, inside a deadline per request."""

    max_retries: int
    base_s: float
    deadline_s: float
    cap_s: float = 8.0

    def delay_s(self, retry: int) -> float:
        """Equal jitter: half the backoff fixed, half random, so retries spread out."""
        backoff = min(self.cap_s, self.base_s * 2**retry)
        return backoff / 2 + random.uniform(0, backoff / 2)


def request_key(request: SynthesisRequest) -> str:
    return cache_key(asdict(request))


class Speech:
    """Iterate for PCM chunks as they arrive; `result` is set once the audio is complete.

    Nothing is sent before iteration starts. A cache hit plays at once with no key or quota
    needed; otherwise the quota is charged (and refunded if no audio came), each part of the text
    is synthesized in order, retried while no audio of it has played, and the parts are joined
    with a short fade and pause so no click is heard.
    """

    def __init__(
        self,
        request: SynthesisRequest,
        parts: list[SynthesisRequest],
        *,
        sdk: str,
        billing: str,
        connect: Callable[[], Connection],
        admit: Callable[[], Admission],
        cache: AudioCache,
        retry: RetryPolicy,
        streaming: bool = True,
        use_cache: bool = True,
        on_notice: Notice | None = None,
        explain: Callable[[errors.DemoError], errors.DemoError] = lambda err: err,
    ) -> None:
        self.request = request
        self.parts = parts
        self._sdk, self._billing, self._connect, self._admit = sdk, billing, connect, admit
        self._cache, self._retry = cache, retry
        self._streaming, self._use_cache = streaming, use_cache
        self._notice = on_notice or (lambda en, zh: None)
        self._explain = explain  # adds what only the caller knows to a failure's message
        self.result: SpeechResult | None = None

    def __iter__(self) -> Iterator[bytes]:
        started = time.perf_counter()
        key = request_key(self.request)
        hit = self._cache.get(key) if self._use_cache else None
        if hit:
            yield hit.pcm
            self.result = self._finish(
                key, hit.pcm, hit.usage, hit.request_id, started, started, cached=True
            )
            return
        connection = self._connect()
        admission = self._admit()
        usage: dict = {}
        request_ids: list[str] = []
        chunks: list[bytes] = []
        first_audio = started
        try:
            for pcm in self._joined(connection, usage, request_ids):
                if not chunks:
                    first_audio = time.perf_counter()
                chunks.append(pcm)
                yield pcm
        except BaseException as failure:  # a failure, or the visitor left (GeneratorExit)
            if not chunks:
                admission.refund()  # nothing was produced, so nothing was billed
            explained = self._explain(failure) if isinstance(failure, errors.DemoError) else failure
            if explained is failure:
                raise
            raise explained from failure
        pcm = b"".join(chunks)
        request_id = ", ".join(request_ids)
        self.result = self._finish(key, pcm, usage, request_id, started, first_audio)
        self._cache.put(
            key, CachedAudio(pcm, usage, self._billing, request_id, asdict(self.request))
        )

    def _finish(
        self,
        key: str,
        pcm: bytes,
        usage: dict,
        request_id: str,
        started: float,
        first_audio: float,
        cached: bool = False,
    ) -> SpeechResult:
        return SpeechResult(
            request=self.request,
            pcm=pcm,
            usage=usage,
            billing=self._billing,
            request_id=request_id,
            first_audio_s=first_audio - started,
            total_s=time.perf_counter() - started,
            cache_key=key,
            cached=cached,
            parts=len(self.parts),
        )

    def _joined(
        self, connection: Connection, usage: dict, request_ids: list[str]
    ) -> Iterator[bytes]:
        """The parts' audio in order. A single part passes through untouched, so its samples are
        exactly DashScope's; between parts the edges fade over 10 ms around a short pause."""
        count = len(self.parts)
        for number, part in enumerate(self.parts, start=1):
            chunks = self._with_retries(part, connection, usage, request_ids)
            if count == 1:
                yield from chunks
                continue
            self._notice(f"Speaking part {number} of {count}…", f"正在朗读第 {number}/{count} 段…")
            yield from _faded(chunks, fade_in=number > 1, fade_out=number < count)
            if number < count:
                yield PART_GAP

    def _with_retries(
        self, part: SynthesisRequest, connection: Connection, usage: dict, request_ids: list[str]
    ) -> Iterator[bytes]:
        """One part's chunks; retryable failures are retried while none of its audio has played."""
        deadline = time.monotonic() + self._retry.deadline_s
        for retry in range(self._retry.max_retries + 1):
            stream = SpeechStream(part, connection, self._sdk, self._streaming)
            played = False
            try:
                for pcm in stream:
                    played = True
                    yield pcm
            except errors.DashScopeError as err:
                delay = self._retry.delay_s(retry)
                if (
                    played
                    or not err.retryable
                    or retry == self._retry.max_retries
                    or time.monotonic() + delay > deadline
                ):
                    raise
                self._announce_retry(err, delay, retry + 2)
                time.sleep(delay)
                continue
            _add_usage(usage, stream.usage)
            request_ids.append(stream.request_id)
            return

    def _announce_retry(self, err: errors.DashScopeError, delay: float, attempt: int) -> None:
        en, zh = next(
            (reason for cls, reason in _RETRY_REASONS.items() if isinstance(err, cls)),
            ("DashScope failed", "DashScope 出错"),
        )
        total = self._retry.max_retries + 1
        self._notice(
            f"{en}; retrying in {delay:.1f} s (attempt {attempt} of {total})…",
            f"{zh}，{delay:.1f} 秒后重试（第 {attempt}/{total} 次）…",
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


def _add_usage(total: dict, part: dict) -> None:
    """Sum a part's usage into the total, nested counts included."""
    for name, value in part.items():
        if isinstance(value, dict):
            _add_usage(total.setdefault(name, {}), value)
        elif isinstance(value, (int, float)):
            total[name] = total.get(name, 0) + value

"""One synthesis from the visitor's input to timed PCM: validation, key choice, measurement."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from .audio import duration_s
from .catalogue import Catalogue
from .config import Settings
from .dashscope_client import Connection, SpeechStream, SynthesisRequest
from .errors import InputError, MissingKeyError
from .text import clean_text, input_size


@dataclass(frozen=True)
class SpeechResult:
    """A complete synthesis: every sample DashScope sent, and how long it took."""

    request: SynthesisRequest
    pcm: bytes
    usage: dict
    billing: str  # "tokens" or "characters"
    request_id: str
    first_audio_s: float  # from the call to the first PCM chunk
    total_s: float

    @property
    def audio_s(self) -> float:
        return duration_s(self.pcm)

    @property
    def realtime_factor(self) -> float:
        """Wall time per second of audio; below 1 is faster than real time."""
        return self.total_s / self.audio_s if self.audio_s else 0.0

    @property
    def billed(self) -> int:
        """What DashScope counts for the bill: characters (qwen3) or tokens (qwen-tts)."""
        if self.billing == "characters":
            return int(self.usage.get("characters") or 0)
        return int(self.usage.get("total_tokens") or 0)


class Speech:
    """Iterate for PCM chunks as they arrive; `result` is set once the audio is complete."""

    def __init__(self, stream: SpeechStream, billing: str) -> None:
        self._stream = stream
        self._billing = billing
        self.result: SpeechResult | None = None

    def __iter__(self) -> Iterator[bytes]:
        started = time.perf_counter()
        first_audio_s = 0.0
        chunks: list[bytes] = []
        for pcm in self._stream:
            if not chunks:
                first_audio_s = time.perf_counter() - started
            chunks.append(pcm)
            yield pcm
        self.result = SpeechResult(
            request=self._stream.request,
            pcm=b"".join(chunks),
            usage=self._stream.usage,
            billing=self._billing,
            request_id=self._stream.request_id,
            first_audio_s=first_audio_s,
            total_s=time.perf_counter() - started,
        )


class Synthesizer:
    """Checks requests against the catalogue and runs them against the right DashScope region."""

    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self.catalogue = catalogue
        self.settings = settings

    def prepare(self, text: str, voice: str, model: str, region: str) -> SynthesisRequest:
        """A clean request, or an InputError saying what to fix; never reaches the network."""
        # The UI only offers valid choices, but the API endpoint can be called with anything.
        model_info = self.catalogue.model(model)
        region_info = self.catalogue.region(region)
        if region_info.id not in model_info.regions:
            offered = ", ".join(self.catalogue.region(r).en for r in model_info.regions)
            raise InputError(
                f"{model_info.id} is not offered in the {region_info.en} region. "
                f"Switch the region to {offered}, or pick another model.",
                f"{region_info.zh}地域不提供 {model_info.id}。请切换地域或换一个模型。",
            )
        self.catalogue.check_voice(model_info.id, voice)
        text = clean_text(text or "")
        if not text:
            raise InputError(
                "There is no text to speak. Type or paste some text, or pick a sample.",
                "没有可朗读的文本。请输入或粘贴文本，或选择一个样例。",
            )
        size = input_size(text, model_info.input_unit)
        if size > model_info.max_input:
            unit_en = "tokens (estimated)" if model_info.input_unit == "tokens" else "characters"
            unit_zh = "个 token（估算）" if model_info.input_unit == "tokens" else "个字符"
            raise InputError(
                f"The text is {size} {unit_en} long; {model_info.id} accepts at most "
                f"{model_info.max_input}. Shorten it and try again.",
                f"文本长度为 {size} {unit_zh}，{model_info.id} 最多接受 {model_info.max_input} "
                f"{unit_zh}。请缩短后重试。",
            )
        return SynthesisRequest(text=text, voice=voice, model=model_info.id)

    def connection(self, region: str, user_key: str = "") -> Connection:
        """Where to send a request: the visitor's own key if given, else the server's."""
        key = (user_key or "").strip() or self.settings.api_key
        if not key:
            raise MissingKeyError(
                "No DashScope API key is set, so the demo cannot synthesize (the gallery's "
                "official recordings still play). Paste your own key under 'API key', or set "
                "the DASHSCOPE_API_KEY environment variable (on Hugging Face: Settings → "
                "Variables and secrets → New secret) and restart.",
                "尚未设置 DashScope API Key，无法合成（样例中的官方录音仍可播放）。请在“API Key”"
                "中填入你自己的 Key，或设置环境变量 DASHSCOPE_API_KEY（Hugging Face："
                "Settings → Variables and secrets → New secret）后重启。",
            )
        settings = self.settings
        return Connection(
            base_url=settings.base_urls[self.catalogue.region(region).id],
            api_key=key,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            total_timeout_s=settings.total_timeout_s,
            download_timeout_s=settings.download_timeout_s,
        )

    def speak(
        self, request: SynthesisRequest, connection: Connection, streaming: bool = True
    ) -> Speech:
        """A Speech to iterate; nothing is sent before iteration starts."""
        model = self.catalogue.model(request.model)
        stream = SpeechStream(request, connection, model.sdk, streaming=streaming)
        return Speech(stream, model.billing)

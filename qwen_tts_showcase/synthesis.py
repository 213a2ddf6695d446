"""From the visitor's input to a Speech: validation, splitting, key choice, cache and retries."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache, partial

from .cache import AudioCache
from .catalogue import Catalogue, Model
from .config import Settings
from .dashscope_client import Connection, SynthesisRequest
from .errors import DemoError, InputError, InvalidKeyError, MissingKeyError, echo
from .quota import Limits, Quota, Visitor, visitor_of
from .speech import Notice, RetryPolicy, Speech, SpeechResult
from .text import clean_text, input_size, split_text

# DashScope keys are "sk-" and letters or digits; anything else would be refused by DashScope,
# or break the Authorization header (and end up in an exception message, key included).
_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
MAX_KEY_CHARS = 256


class Synthesizer:
    """Checks requests against the catalogue and runs them against the right DashScope region."""

    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self.catalogue = catalogue
        self.settings = settings
        self.cache = AudioCache(settings.cache_dir, settings.cache_max_mb * 1024 * 1024)
        self.quota = Quota(
            Limits(
                settings.visitor_requests,
                settings.visitor_window_s,
                settings.ip_requests,
                settings.ip_window_s,
                settings.daily_char_budget,
            )
        )

    def visitor(self, request: object) -> Visitor:
        """Who sent a gr.Request, as far as the quotas are concerned."""
        return visitor_of(request, self.settings.trusted_proxy_hops)

    def admit_batch(self, visitor: Visitor) -> None:
        """Count a whole batch as one request of the visitor (its rows then speak as UNMETERED,
        each charged to the owner key's budget), or raise LimitReachedError."""
        self.quota.admit(visitor, 0, owner_key=False)

    def prepare(
        self,
        text: str,
        voice: str,
        model: str,
        region: str,
        *,
        language_type: str | None = None,
        instructions: str | None = None,
    ) -> SynthesisRequest:
        """A clean request, or an InputError saying what to fix; never reaches the network.

        language_type "Auto" (or None) is not sent; instructions are for instruct models only.
        """
        # The UI only offers valid choices, but the API endpoint can be called with anything.
        model_info = self.catalogue.model(model)
        region_info = self.catalogue.region(region)
        if not model_info.offered_in(region_info.id):
            offered = ", ".join(self.catalogue.region(r).en for r in model_info.regions)
            raise InputError(
                f"{model_info.id} is not offered in the {region_info.en} region. "
                f"Switch the region to {offered}, or pick another model.",
                f"{region_info.zh}地域不提供 {model_info.id}。请切换地域或换一个模型。",
            )
        self.catalogue.check_voice(model_info.id, voice)
        cap = self.settings.max_text_chars
        if len(text or "") > 2 * cap:  # refused unread: cleaning megabytes would hold a worker
            raise _too_long(len(text), cap)
        text = clean_text(text or "")
        if not text:
            raise InputError(
                "There is no text to speak. Type or paste some text, or pick a sample.",
                "没有可朗读的文本。请输入或粘贴文本，或选择一个样例。",
            )
        if len(text) > cap:
            raise _too_long(len(text), cap)
        for part in _pieces(text, model_info.max_input, model_info.input_unit):
            if input_size(part, model_info.input_unit) > model_info.max_input:
                unit_en = (
                    "tokens (estimated)" if model_info.input_unit == "tokens" else "characters"
                )
                raise InputError(
                    f"{echo(part)} cannot be split into pieces of at most "
                    f"{model_info.max_input} {unit_en}, the most {model_info.id} accepts per "
                    "request. Add spaces or punctuation.",
                    f"{echo(part)} 无法切分成每段不超过 {model_info.max_input} 的片段"
                    f"（{model_info.id} 每次请求的上限）。请加入空格或标点。",
                )
        return SynthesisRequest(
            text=text,
            voice=voice,
            model=model_info.id,
            language_type=self.catalogue.check_language(model_info.id, language_type),
            instructions=self.catalogue.check_instructions(model_info.id, instructions),
        )

    def connection(self, region: str, user_key: str = "") -> Connection:
        """Where to send a request: the visitor's own key if given, else the server's."""
        key = _own_key(user_key) or self.settings.api_key
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
        self,
        request: SynthesisRequest,
        region: str,
        user_key: str = "",
        streaming: bool = True,
        on_notice: Notice | None = None,
        use_cache: bool = True,
        *,
        visitor: Visitor,
    ) -> Speech:
        """A Speech to iterate; the key and the visitor's quota are checked only when the cache
        cannot answer."""
        model = self.catalogue.model(request.model)
        settings = self.settings
        owner_key = not _own_key(user_key)
        return Speech(
            request,
            self._parts(request, model),
            sdk=model.sdk,
            billing=model.billing,
            connect=partial(self.connection, region, user_key),
            admit=partial(self.quota.admit, visitor, len(request.text), owner_key),
            cache=self.cache,
            retry=RetryPolicy(
                settings.max_retries, settings.retry_base_s, deadline_s=settings.total_timeout_s
            ),
            streaming=streaming,
            use_cache=use_cache,
            on_notice=on_notice,
            explain=lambda err: key_region_hint(err, self, region, user_key),
        )

    def cached_result(self, cache_key: str) -> SpeechResult | None:
        """A finished synthesis from the cache (for replaying history), or None."""
        try:
            hit = self.cache.get(cache_key)
        except ValueError:  # not a key at all
            return None
        if hit is None:
            return None
        return SpeechResult(
            request=SynthesisRequest(**hit.request),
            pcm=hit.pcm,
            usage=hit.usage,
            billing=hit.billing,
            request_id=hit.request_id,
            first_audio_s=0.0,
            total_s=0.0,
            cache_key=cache_key,
            cached=True,
        )

    @staticmethod
    def _parts(request: SynthesisRequest, model: Model) -> list[SynthesisRequest]:
        """The request as the model's per-request limit requires: one, or one per piece."""
        pieces = _pieces(request.text, model.max_input, model.input_unit)
        return [replace(request, text=piece) for piece in pieces]


def key_region_hint(
    err: DemoError, synthesizer: Synthesizer, region: str, user_key: str
) -> DemoError:
    """A refused key, explained further when the demo's own key was sent to another region."""
    settings = synthesizer.settings
    if (
        not isinstance(err, InvalidKeyError)
        or (user_key or "").strip()
        or region == settings.default_region
    ):
        return err
    home, here = (synthesizer.catalogue.region(r) for r in (settings.default_region, region))
    return InvalidKeyError(
        f"{err.en} This demo's own key belongs to {home.short_en}: to use {here.short_en}, paste "
        f"a key from the {here.short_en} console under Connection, or switch back to "
        f"{home.short_en}.",
        f"{err.zh} 本演示自带的 Key 属于{home.short_zh}：如需使用{here.short_zh}，请在“连接”中填入"
        f"{here.short_zh}控制台的 Key，或切换回{home.short_zh}。",
    )


@lru_cache(maxsize=64)
def _pieces(text: str, max_size: int, unit: str) -> tuple[str, ...]:
    """split_text, remembered: prepare() checks the parts that speak() then sends."""
    return tuple(split_text(text, max_size, unit))


def _too_long(length: int, cap: int) -> InputError:
    return InputError(
        f"The text is {length:,} characters long; the demo speaks at most {cap:,} at a time. "
        "Shorten it, or split it into several generations.",
        f"文本长度为 {length:,} 个字符，本演示每次最多朗读 {cap:,} 个字符。请缩短，或分几次生成。",
    )


def _own_key(user_key: str | None) -> str:
    """The visitor's own key, trimmed; "" when none. Refuses what cannot be a DashScope key
    without echoing it."""
    key = (user_key or "").strip()
    if key and (len(key) > MAX_KEY_CHARS or not set(key) <= _KEY_CHARACTERS):
        raise InputError(
            'That does not look like a DashScope API key: keys start with "sk-" and contain only '
            "letters, digits and dashes. Copy it again from the Model Studio console, or clear "
            "the field to use the demo's own key.",
            "这看起来不是 DashScope API Key：Key 以“sk-”开头，只包含字母、数字和短横线。请从百炼控制台"
            "重新复制，或清空该栏以使用本演示自带的 Key。",
        )
    return key

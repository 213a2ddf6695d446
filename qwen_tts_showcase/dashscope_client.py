"""The only module that talks to DashScope: a request in, PCM chunks or a typed DemoError out."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from dashscope import MultiModalConversation
from dashscope.audio.qwen_tts import SpeechSynthesizer

from . import errors
from .audio import AudioFormatError, wav_to_pcm


@dataclass(frozen=True)
class SynthesisRequest:
    """What changes the audio: the cache key and the API body are built from exactly these."""

    text: str
    voice: str
    model: str
    language_type: str | None = None
    instructions: str | None = None


@dataclass(frozen=True)
class Upstream:
    """Where and how to reach DashScope for one synthesis: base URL, key and timeouts."""

    base_url: str
    api_key: str = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    total_timeout_s: float = 120.0
    download_timeout_s: float = 30.0


@dataclass
class SpeechStream:
    """Iterate for raw PCM chunks as DashScope sends them; afterwards usage and ids are filled in.

    Iteration raises a DemoError on any failure, including a stream that stops before its last
    frame, so a caller that saw no exception has the complete audio. Leaving the loop early
    closes the HTTP connection.
    """

    request: SynthesisRequest
    connection: Upstream
    sdk: str  # "speech_synthesizer" or "multimodal_conversation", from the catalogue
    streaming: bool = True
    usage: dict = field(default_factory=dict)
    request_id: str = ""
    audio_url: str = ""

    def __iter__(self) -> Iterator[bytes]:
        session = requests.Session()
        started = time.monotonic()
        sent_audio = False
        try:
            if self.streaming:
                for response in self._call(session, stream=True):
                    pcm = self._read_frame(response, partial=sent_audio)
                    if pcm:
                        sent_audio = True
                        yield pcm
                    if self.audio_url:  # only the final frame carries the URL
                        return
                    if time.monotonic() - started > self.connection.total_timeout_s:
                        raise _took_too_long(self.connection.total_timeout_s)
                raise _stream_cut_short(self.request_id, sent_audio)
            else:
                self._read_frame(self._call(session, stream=False), partial=False)
                yield self._download(session)
        except requests.exceptions.JSONDecodeError as exc:  # a RequestException, but not network
            raise _unreadable(self.request_id, partial=sent_audio) from exc
        except requests.RequestException as exc:
            raise _network_error(exc, self.connection, partial=sent_audio) from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _unreadable(self.request_id, partial=sent_audio) from exc
        finally:
            session.close()

    def _call(self, session: requests.Session, stream: bool):
        request, connection = self.request, self.connection
        common = dict(
            model=request.model,
            text=request.text,
            voice=request.voice,
            api_key=connection.api_key,
            stream=stream,
            base_address=connection.base_url,
            session=session,
            request_timeout=(connection.connect_timeout_s, connection.read_timeout_s),
        )
        if self.sdk == "speech_synthesizer":
            return SpeechSynthesizer.call(**common)
        extra = {}
        if request.instructions:
            extra["instructions"] = request.instructions
        return MultiModalConversation.call(**common, language_type=request.language_type, **extra)

    def _read_frame(self, response, partial: bool) -> bytes:
        """The PCM of one response (a frame, or the whole non-streamed answer)."""
        self.request_id = response.request_id or self.request_id
        if response.status_code != 200:
            raise error_for_response(
                response.status_code, response.code, response.message, self.request_id, partial
            )
        self.usage = _billed_usage(response.usage) or self.usage
        audio = response.output["audio"]
        if response.output["finish_reason"] == "stop":
            self.audio_url = audio.get("url") or ""
            if not self.audio_url:
                raise _unreadable(self.request_id, partial)
        data = audio.get("data") or ""
        return base64.b64decode(data, validate=True)

    def _download(self, session: requests.Session) -> bytes:
        """The PCM of the WAV behind audio.url (the non-streaming path)."""
        timeout = (self.connection.connect_timeout_s, self.connection.download_timeout_s)
        try:
            response = session.get(self.audio_url, timeout=timeout)
        except requests.RequestException as exc:
            raise _download_failed(self.request_id, expired=False) from exc
        if response.status_code != 200:
            expired = response.status_code == 403 and b"expired" in response.content.lower()
            raise _download_failed(self.request_id, expired=expired)
        try:
            return wav_to_pcm(response.content)
        except AudioFormatError as exc:
            raise _unreadable(self.request_id, partial=False) from exc


# MultiModalConversation fills these in with 0 when DashScope did not send them; dropping the
# zeros leaves what the service billed ({"characters": N} for the qwen3 models).
_SDK_USAGE_DEFAULTS = ("input_tokens", "output_tokens", "characters")


def _billed_usage(usage) -> dict:
    return {
        name: value
        for name, value in dict(usage or {}).items()
        if not (name in _SDK_USAGE_DEFAULTS and value == 0)
    }


# --- Turning DashScope's failures into messages for people -------------------------------------

_KEY_HINT_EN = (
    "API keys work only in the region where they were created: a key from the Beijing console "
    "fails against Singapore, and the reverse. Check the key, or switch the region."
)
_KEY_HINT_ZH = "API Key 只能在创建它的地域使用：北京控制台的 Key 不能用于新加坡，反之亦然。请检查 Key 或切换地域。"

_MESSAGES: dict[str, tuple[str, str]] = {
    "key": (
        "DashScope rejected the API key. " + _KEY_HINT_EN,
        "DashScope 拒绝了这个 API Key。" + _KEY_HINT_ZH,
    ),
    "content": (
        "DashScope's content safety check refused this text or the audio made from it. "
        "Rephrase the text and try again.",
        "DashScope 的内容安全检查拒绝了这段文本或其生成的音频。请修改文本后重试。",
    ),
    "arrears": (
        "The Alibaba Cloud account behind this key is in arrears. Top it up in the "
        "console, or use another key.",
        "该 Key 所属的阿里云账号已欠费。请在控制台充值，或换用其他 Key。",
    ),
    "model_denied": (
        "This key is not allowed to use the model. Enable the model for the account "
        "in the Model Studio console, or pick another model.",
        "该 Key 无权使用此模型。请在百炼控制台为账号开通该模型，或换一个模型。",
    ),
    "free_tier": (
        "The free tier of this model is used up and the account allows only free use. "
        "Turn off 'free tier only' in the console, or use another key.",
        "该模型的免费额度已用完，且账号设置为仅使用免费额度。请在控制台关闭该设置，或换用其他 Key。",
    ),
    "denied": (
        "DashScope denied access for this key. Check the account in the console.",
        "DashScope 拒绝了该 Key 的访问。请在控制台检查账号。",
    ),
    "model": (
        "DashScope does not know this model, or the account has no access to it. "
        "Pick another model.",
        "DashScope 找不到该模型，或账号无权访问。请换一个模型。",
    ),
    "voice": (
        "DashScope does not offer this voice for the model. Pick another voice; if the "
        "list offered this one, the model's stable alias may point to an older snapshot, "
        "so pick the dated snapshot instead.",
        "DashScope 不支持该模型使用这个音色。请换一个音色；如果列表中有这个音色，可能是稳定版"
        "别名指向了较旧的快照，请改选带日期的快照版本。",
    ),
    "language": (
        "DashScope does not accept this language for the model. Set the language to "
        "Auto, or pick one from the list.",
        "DashScope 不支持该模型使用这个语言。请将语言设为“自动”，或从列表中选择。",
    ),
    "instructions": (
        "DashScope refused the instructions: this model does not take them, or they "
        "are malformed. Clear the instructions, or pick a qwen3-tts-instruct model.",
        "DashScope 拒绝了这些指令：该模型不支持指令，或指令格式有误。请清空指令，或选择 "
        "qwen3-tts-instruct 模型。",
    ),
    "too_long": (
        "The text is longer than the model accepts. Shorten it and try again.",
        "文本超出了模型允许的长度。请缩短后重试。",
    ),
    "invalid": (
        "DashScope refused the request as invalid. Check the text, voice and model.",
        "DashScope 认为请求无效。请检查文本、音色和模型。",
    ),
    "throttled": (
        "DashScope is limiting how fast this key may send requests. Wait a minute and try again.",
        "DashScope 正在对该 Key 限流。请稍等一分钟再试。",
    ),
    "quota": (
        "This key's quota is used up for now. Wait, raise the quota in the console, "
        "or use another key.",
        "该 Key 的配额暂时用完了。请稍后再试、在控制台提高配额，或换用其他 Key。",
    ),
    "internal": (
        "DashScope had an internal error. Try again in a moment.",
        "DashScope 内部出错。请稍后重试。",
    ),
    "overloaded": (
        "DashScope is overloaded, or the model is unavailable right now. Try again in a minute.",
        "DashScope 当前负载过高或模型暂不可用。请一分钟后重试。",
    ),
    "gateway": (
        "DashScope (or a gateway in front of it) failed with an unreadable error. "
        "This is usually temporary; try again in a moment.",
        "DashScope（或其前端网关）返回了无法识别的错误，通常是暂时的。请稍后重试。",
    ),
}

# DashScope code prefix -> (class, message). Codes are compared lower-cased without "_", so the
# snake_case aliases (invalid_api_key, data_inspection_failed) match too; the longest prefix wins.
_BY_CODE: dict[str, tuple[type[errors.DashScopeError], str]] = {
    "invalidapikey": (errors.InvalidKeyError, "key"),
    "datainspectionfailed": (errors.ContentRejectedError, "content"),
    "arrearage": (errors.AccessDeniedError, "arrears"),
    "accessdenied": (errors.AccessDeniedError, "model_denied"),
    "model.accessdenied": (errors.AccessDeniedError, "model_denied"),
    "allocationquota.freetieronly": (errors.AccessDeniedError, "free_tier"),
    "modelnotfound": (errors.BadRequestError, "model"),
    "throttling": (errors.RateLimitError, "throttled"),
    "throttling.allocationquota": (errors.RateLimitError, "quota"),
    "insufficientquota": (errors.RateLimitError, "quota"),
    "internalerror": (errors.ServiceError, "internal"),
    "modelservingerror": (errors.ServiceError, "overloaded"),
    "modelunavailable": (errors.ServiceError, "overloaded"),
}

# InvalidParameter covers several mistakes; DashScope's message tells them apart.
_INVALID_PARAMETER: dict[str, str] = {
    "model not exist": "model",
    "language_type": "language",
    "instructions": "instructions",
    "voice": "voice",
    "input should be": "voice",
    "range of input length": "too_long",
}

# When nothing above matches, the HTTP status decides.
_BY_STATUS: dict[int, tuple[type[errors.DashScopeError], str]] = {
    401: (errors.InvalidKeyError, "key"),
    403: (errors.AccessDeniedError, "denied"),
    429: (errors.RateLimitError, "throttled"),
}

_PARTIAL_EN = " Playback stopped part-way; the incomplete audio was not kept."
_PARTIAL_ZH = "播放中途停止，不完整的音频未保存。"


def _make(cls, en: str, zh: str, partial: bool, **details) -> errors.DashScopeError:
    if partial:
        en, zh = en + _PARTIAL_EN, zh + _PARTIAL_ZH
    return cls(en, zh, **details)


def error_for_response(
    status_code: int, code: str | None, message: str | None, request_id: str, partial: bool = False
) -> errors.DashScopeError:
    """The DemoError for a failed DashScope response (HTTP status, or a mid-stream error frame)."""
    folded = (code or "").lower().replace("_", "")
    matches = [prefix for prefix in _BY_CODE if folded.startswith(prefix)]
    if matches:
        cls, key = _BY_CODE[max(matches, key=len)]
    elif folded == "invalidparameter":
        text = (message if isinstance(message, str) else "").lower()
        key = next((key for needle, key in _INVALID_PARAMETER.items() if needle in text), "invalid")
        cls = errors.BadRequestError
    elif status_code in _BY_STATUS:
        cls, key = _BY_STATUS[status_code]
    elif status_code >= 500 or code == "Unknown":
        cls, key = errors.ServiceError, "gateway"
    else:
        cls, key = errors.BadRequestError, "invalid"
    return _make(
        cls,
        *_MESSAGES[key],
        partial,
        code=code or None,
        status_code=status_code,
        request_id=request_id or None,
    )


def _network_error(
    exc: requests.RequestException, connection: Upstream, partial: bool
) -> errors.DashScopeError:
    host = urlsplit(connection.base_url).netloc
    timed_out = isinstance(exc, requests.Timeout) or any(
        isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args
    )
    if isinstance(exc, requests.ConnectTimeout):
        return _make(
            errors.UpstreamTimeoutError,
            f"DashScope ({host}) did not accept a connection within "
            f"{connection.connect_timeout_s:g} s. Check the network and try again.",
            f"DashScope（{host}）在 {connection.connect_timeout_s:g} 秒内没有接受连接。"
            "请检查网络后重试。",
            partial,
        )
    if timed_out:
        return _make(
            errors.UpstreamTimeoutError,
            f"DashScope ({host}) stopped answering for more than "
            f"{connection.read_timeout_s:g} s. Try again in a moment.",
            f"DashScope（{host}）超过 {connection.read_timeout_s:g} 秒没有响应。请稍后重试。",
            partial,
        )
    if partial or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return _make(
            errors.ConnectionFailedError,
            f"The connection to DashScope ({host}) dropped in the middle of the audio. Try again.",
            f"与 DashScope（{host}）的连接在音频传输中断开。请重试。",
            partial,
        )
    return _make(
        errors.ConnectionFailedError,
        f"Could not reach DashScope at {host}: the connection was refused or dropped. "
        "Check the network and the region, then try again.",
        f"无法连接 DashScope（{host}）：连接被拒绝或中断。请检查网络和地域后重试。",
        partial,
    )


def _took_too_long(limit_s: float) -> errors.DashScopeError:
    return _make(
        errors.UpstreamTimeoutError,
        f"The synthesis took longer than {limit_s:g} s and was stopped. "
        "Try a shorter text, or try again later.",
        f"合成超过 {limit_s:g} 秒，已停止。请缩短文本或稍后重试。",
        True,
    )


def _stream_cut_short(request_id: str, partial: bool) -> errors.DashScopeError:
    return _make(
        errors.IncompleteAudioError,
        "DashScope's audio stream ended before it was complete. Try again.",
        "DashScope 的音频流在完成前中断了。请重试。",
        partial,
        request_id=request_id or None,
    )


def _unreadable(request_id: str, partial: bool) -> errors.DashScopeError:
    return _make(
        errors.ServiceError,
        "DashScope sent a response the demo could not read. Try again in a moment.",
        "DashScope 返回了无法解析的响应。请稍后重试。",
        partial,
        request_id=request_id or None,
    )


def _download_failed(request_id: str, expired: bool) -> errors.DashScopeError:
    if expired:
        return errors.AudioDownloadError(
            "The audio link DashScope returned has expired, so the audio could not be fetched. "
            "Generate it again.",
            "DashScope 返回的音频链接已过期，无法获取音频。请重新生成。",
            request_id=request_id or None,
        )
    return errors.AudioDownloadError(
        "The audio file DashScope returned could not be downloaded (its link is unreachable). "
        "Try again, or turn streaming on.",
        "无法下载 DashScope 返回的音频文件（链接无法访问）。请重试，或打开流式播放。",
        request_id=request_id or None,
    )

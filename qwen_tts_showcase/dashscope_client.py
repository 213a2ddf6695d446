"""The only module that talks to DashScope: a request in, PCM chunks or a typed DemoError out."""

from __future__ import annotations

import base64
import socket
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
from .messages import Message, say


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


class _SingleSendSession(requests.Session):
    """A requests.Session that sends each request once: after a connection error it raises the
    same error again instead of sending.

    The SDK resends a POST whose connection dropped (its `_send_with_retry`), on top of the app's
    own retries (speech.py): more attempts than SHOWCASE_MAX_RETRIES, none of them announced, and
    a request DashScope may have received billed twice. With this session the app's retry policy
    is the only one.
    """

    def __init__(self) -> None:
        super().__init__()
        self._failed: requests.ConnectionError | None = None
        self._response: requests.Response | None = None

    def send(self, request, **kwargs):
        if self._failed is not None:
            raise self._failed
        try:
            response = super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            self._failed = exc
            raise
        self._response = response
        if self._failed is not None:  # aborted while it was being sent
            _shut(response)
        return response

    def close(self) -> None:
        """Close the response being read too: it is kept (for abort) past the SDK's own use."""
        response, self._response = self._response, None
        if response is not None:
            response.close()
        super().close()

    def abort(self) -> None:
        """From any thread: shut the socket of the response being read (a read blocked on it
        returns at once) and send nothing more."""
        self._failed = requests.ConnectionError("closed by the app")
        response = self._response
        if response is not None:
            _shut(response)


def _shut(response: requests.Response) -> None:
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


@dataclass
class SpeechStream:
    """Iterate for raw PCM chunks as DashScope sends them; afterwards usage and ids are filled in.

    Iteration raises a DemoError on any failure, including a stream that stops before its last
    frame, so a caller that saw no exception has the complete audio. Leaving the loop early
    closes the HTTP connection. `deadline` (time.monotonic()) ends the whole synthesis this
    stream is part of; without one the stream alone has `total_timeout_s`.
    """

    request: SynthesisRequest
    connection: Upstream
    sdk: str  # "speech_synthesizer" or "multimodal_conversation", from the catalogue
    streaming: bool = True
    usage: dict = field(default_factory=dict)
    request_id: str = ""
    audio_url: str = ""
    deadline: float | None = None
    _session: _SingleSendSession | None = field(default=None, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)

    def close(self) -> None:
        """Close the connection to DashScope now, from any thread (a visitor's Stop): a read
        blocked on it returns at once and the iteration ends with an error."""
        self._closed = True
        if self._session is not None:
            self._session.abort()

    def __iter__(self) -> Iterator[bytes]:
        session = self._session = _SingleSendSession()
        if self._closed:
            session.abort()
        if self.deadline is None:
            self.deadline = time.monotonic() + self.connection.total_timeout_s
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
                    if time.monotonic() > self.deadline:
                        raise _took_too_long(self.connection.total_timeout_s, sent_audio)
                raise _stream_cut_short(self.request_id, sent_audio)
            else:
                self._read_frame(self._call(session, stream=False), partial=False)
                yield self._download(session)
        except requests.exceptions.JSONDecodeError as exc:  # a RequestException, but not network
            raise _unreadable(self.request_id, partial=sent_audio) from exc
        except requests.RequestException as exc:
            if time.monotonic() >= self.deadline:  # the read timeout was cut to the deadline
                raise _took_too_long(self.connection.total_timeout_s, sent_audio) from exc
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
            request_timeout=(connection.connect_timeout_s, self._read_timeout_s()),
        )
        if self.sdk == "speech_synthesizer":
            return SpeechSynthesizer.call(**common)
        extra = {}
        if request.instructions:
            extra["instructions"] = request.instructions
        return MultiModalConversation.call(**common, language_type=request.language_type, **extra)

    def _read_timeout_s(self) -> float:
        """The silence tolerated between two bytes, never past the synthesis's deadline."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _took_too_long(self.connection.total_timeout_s, partial=False)
        return min(self.connection.read_timeout_s, left)

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
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _took_too_long(self.connection.total_timeout_s, partial=False)
        timeout = (self.connection.connect_timeout_s, min(self.connection.download_timeout_s, left))
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


# --- Turning DashScope's failures into typed errors with a message key ------------------------

# DashScope code prefix -> (class, message key). Codes are compared lower-cased without "_", so
# the snake_case aliases (invalid_api_key, data_inspection_failed) match too; the longest prefix
# wins. The words are in data/messages.json.
_BY_CODE: dict[str, tuple[type[errors.DashScopeError], str]] = {
    "invalidapikey": (errors.InvalidKeyError, "key_rejected"),
    "datainspectionfailed": (errors.ContentRejectedError, "content_rejected"),
    "arrearage": (errors.AccessDeniedError, "account_in_arrears"),
    "accessdenied": (errors.AccessDeniedError, "model_denied"),
    "model.accessdenied": (errors.AccessDeniedError, "model_denied"),
    "allocationquota.freetieronly": (errors.AccessDeniedError, "free_tier_used_up"),
    "modelnotfound": (errors.BadRequestError, "model_not_found"),
    "throttling": (errors.RateLimitError, "throttled"),
    "throttling.allocationquota": (errors.RateLimitError, "quota_used_up"),
    "insufficientquota": (errors.RateLimitError, "quota_used_up"),
    "internalerror": (errors.ServiceError, "service_internal_error"),
    "modelservingerror": (errors.ServiceError, "service_overloaded"),
    "modelunavailable": (errors.ServiceError, "service_overloaded"),
}

# InvalidParameter covers several mistakes; DashScope's message tells them apart.
_INVALID_PARAMETER: dict[str, str] = {
    "model not exist": "model_not_found",
    "does not exist": "voice_gone",  # a custom voice deleted elsewhere (unverified wording)
    "language_type": "language_refused",
    "instructions": "instructions_refused",
    "voice": "voice_refused",
    "input should be": "voice_refused",
    "range of input length": "text_too_long_for_model",
}

# When nothing above matches, the HTTP status decides.
_BY_STATUS: dict[int, tuple[type[errors.DashScopeError], str]] = {
    401: (errors.InvalidKeyError, "key_rejected"),
    403: (errors.AccessDeniedError, "access_denied"),
    429: (errors.RateLimitError, "throttled"),
}


def _make(cls, message: Message, partial: bool, **details) -> errors.DashScopeError:
    """The error; one that stopped audio already playing says that the audio was not kept."""
    return cls(say("partial_audio", reason=message) if partial else message, **details)


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
        key = next(
            (key for needle, key in _INVALID_PARAMETER.items() if needle in text),
            "request_invalid",
        )
        cls = errors.BadRequestError
    elif status_code in _BY_STATUS:
        cls, key = _BY_STATUS[status_code]
    elif status_code >= 500 or code == "Unknown":
        cls, key = errors.ServiceError, "gateway_error"
    else:
        cls, key = errors.BadRequestError, "request_invalid"
    return _make(
        cls,
        say(key),
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
        message = say("connect_timeout", host=host, seconds=connection.connect_timeout_s)
        return _make(errors.UpstreamTimeoutError, message, partial)
    if timed_out:
        message = say("read_timeout", host=host, seconds=connection.read_timeout_s)
        return _make(errors.UpstreamTimeoutError, message, partial)
    if partial or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return _make(errors.ConnectionFailedError, say("connection_dropped", host=host), partial)
    return _make(errors.ConnectionFailedError, say("connection_refused", host=host), partial)


def _took_too_long(limit_s: float, partial: bool) -> errors.DashScopeError:
    return _make(errors.UpstreamTimeoutError, say("synthesis_too_slow", seconds=limit_s), partial)


def _stream_cut_short(request_id: str, partial: bool) -> errors.DashScopeError:
    return _make(
        errors.IncompleteAudioError,
        say("stream_cut_short"),
        partial,
        request_id=request_id or None,
    )


def _unreadable(request_id: str, partial: bool) -> errors.DashScopeError:
    return _make(
        errors.ServiceError, say("response_unreadable"), partial, request_id=request_id or None
    )


def _download_failed(request_id: str, expired: bool) -> errors.DashScopeError:
    message = say("audio_link_expired" if expired else "audio_download_failed")
    return errors.AudioDownloadError(message, request_id=request_id or None)


# --- Custom voices: the customization route (design and cloning) ------------------------------

CUSTOMIZATION_PATH = "/services/audio/tts/customization"
# Which DashScope service makes a voice of each family; the family's models speak only its voices.
VOICE_SERVICES = {"design": "qwen-voice-design", "clone": "qwen-voice-enrollment"}
PREVIEW_FORMAT, PREVIEW_RATE_HZ = "wav", 24_000  # the designed voice's preview, as asked for

# DashScope code -> message key for the customization route. Only Audio.PreprocessError (a
# transcript that does not match the audio) is documented; the other codes are unverified
# guesses, kept here so a wrong one is a one-line fix. Anything else falls back to
# error_for_response. A code may need its message to tell cases apart: (needle, key) pairs.
_VOICE_ERRORS: dict[str, tuple[tuple[str, str], ...]] = {
    "audio.preprocesserror": (
        ("short", "voice_audio_too_short"),
        ("long", "voice_audio_too_long"),
        ("no valid speech", "voice_audio_silent"),
        ("text", "voice_transcript_mismatch"),
        ("", "voice_audio_unusable"),
    ),
    "audio.filetoolarge": (("", "voice_audio_too_large"),),
    "audio.formatnotsupported": (("", "voice_audio_format"),),
    "voice.limitexceeded": (("", "voice_limit_reached"),),
    "voice.notfound": (("", "voice_gone"),),
    "invalidparameter": (
        ("voice_prompt", "voice_description_too_long"),
        ("preferred_name", "voice_name_invalid"),
        ("target_model", "voice_wrong_model"),
    ),
}


@dataclass(frozen=True)
class CreatedVoice:
    """A voice DashScope has just made: its name (the `voice` to synthesize with) and, for a
    designed voice, the preview as audio file bytes."""

    voice: str
    preview: bytes = b""
    preview_format: str = ""
    request_id: str = ""


class VoiceService:
    """DashScope's customization route for one key and region: create, list and delete voices.

    The SDK's v2 resources speak other envelopes (§3 of the voices reference), so the HTTP call
    is made here directly. Every failure is a DemoError; audio sent is never logged or kept.
    Nothing is retried: a create that timed out may still have made (and billed) a voice.
    """

    def __init__(self, connection: Upstream) -> None:
        self.connection = connection

    def design(
        self, target_model: str, description: str, preview_text: str, preferred_name: str = ""
    ) -> CreatedVoice:
        fields = {"target_model": target_model, "voice_prompt": description}
        fields["preview_text"] = preview_text
        if preferred_name:
            fields["preferred_name"] = preferred_name
        # The preview's format is asked for, not assumed: a WAV the page can play as it is.
        parameters = {"response_format": PREVIEW_FORMAT, "sample_rate": PREVIEW_RATE_HZ}
        output, request_id = self._call("design", "create", fields, parameters)
        preview = output.get("preview_audio") or {}
        try:
            audio = base64.b64decode(preview.get("data") or "", validate=True)
        except ValueError as exc:
            raise _unreadable(request_id, partial=False) from exc
        return CreatedVoice(output["voice"], audio, preview.get("response_format", ""), request_id)

    def enroll(
        self, target_model: str, audio_uri: str, preferred_name: str, transcript: str = ""
    ) -> CreatedVoice:
        """A cloned voice from a recording given as a data: URI."""
        fields = {
            "target_model": target_model,
            "preferred_name": preferred_name,
            "audio": {"data": audio_uri},
        }
        if transcript:
            fields["text"] = transcript
        output, request_id = self._call("clone", "create", fields)
        return CreatedVoice(output["voice"], request_id=request_id)

    def list_voices(self, family: str, page_size: int = 100) -> list[str]:
        output, _ = self._call(family, "list", {"page_size": page_size})
        return [row["voice"] for row in output.get("voice_list") or []][:page_size]

    def delete(self, family: str, voice: str) -> None:
        """Delete a voice; one already gone raises the `voice_gone` DashScopeError."""
        self._call(family, "delete", {"voice": voice})

    def _call(
        self, family: str, action: str, fields: dict, parameters: dict | None = None
    ) -> tuple[dict, str]:
        connection = self.connection
        body = {"model": VOICE_SERVICES[family], "input": {"action": action, **fields}}
        if parameters:
            body["parameters"] = parameters
        headers = {"Authorization": f"Bearer {connection.api_key}"}
        timeout = (connection.connect_timeout_s, connection.total_timeout_s)
        try:
            with requests.Session() as session:
                response = session.post(
                    connection.base_url.rstrip("/") + CUSTOMIZATION_PATH,
                    json=body,
                    headers=headers,
                    timeout=timeout,
                )
        except requests.RequestException as exc:
            raise _network_error(exc, connection, partial=False) from exc
        try:
            payload = response.json()
        except ValueError:  # a proxy's HTML page, or a cut body
            payload = None
        payload = payload if isinstance(payload, dict) else {}
        request_id = str(payload.get("request_id") or "")
        if response.status_code != 200:
            raise voice_error_for_response(
                response.status_code, payload.get("code"), payload.get("message"), request_id
            )
        output = payload.get("output")
        if not isinstance(output, dict) or (action == "create" and not output.get("voice")):
            raise _unreadable(request_id, partial=False)
        return output, request_id


def voice_error_for_response(
    status_code: int, code: str | None, message: str | None, request_id: str
) -> errors.DashScopeError:
    """The DemoError for a failed customization request."""
    text = (message if isinstance(message, str) else "").lower()
    for needle, key in _VOICE_ERRORS.get((code or "").lower(), ()):
        if needle in text:
            cls = errors.BadRequestError if status_code < 500 else errors.ServiceError
            details = dict(code=code, status_code=status_code, request_id=request_id or None)
            return cls(say(key), **details)
    return error_for_response(status_code, code, message, request_id)

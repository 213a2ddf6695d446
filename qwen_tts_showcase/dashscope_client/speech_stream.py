"""SpeechStream, what every synthesis reads its audio from: the HTTP models' request through the
SDK (sent once: the SDK never resends it), their frames, or their audio URL downloaded; the
WebSocket models' speech is realtime_socket's."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from dashscope import MultiModalConversation
from dashscope.audio.qwen_tts import SpeechSynthesizer

from ..audio import AudioFormatError, wav_to_pcm
from .failures import (
    _download_failed,
    _network_error,
    _stream_cut_short,
    _took_too_long,
    _unreadable,
    error_for_response,
)
from .realtime_socket import _WebSocketSpeech
from .request import SynthesisRequest, TextSource, Upstream


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

    words: list[dict] = field(default_factory=list)  # word times, for the models that send them
    typed: TextSource | None = field(default=None, repr=False)  # speak as I type: the text
    _socket: _WebSocketSpeech | None = field(default=None, init=False, repr=False)

    def close(self) -> None:
        """Close the connection to DashScope now, from any thread (a visitor's Stop): a read
        blocked on it returns at once and the iteration ends with an error."""
        self._closed = True
        if self._session is not None:
            self._session.abort()
        if self._socket is not None:
            self._socket.close()

    def __iter__(self) -> Iterator[bytes]:
        if self.sdk in ("realtime", "task"):
            yield from self._over_websocket()
            return
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

    @property
    def live_words(self) -> list[dict]:
        """The word times received so far, while the stream is read (from any thread)."""
        return self._socket.words if self._socket is not None else []

    @property
    def live_starts(self) -> list[int]:
        """Bytes into this stream's audio where each sentence starts, so far."""
        return list(self._socket.starts) if self._socket is not None else []

    @property
    def first_text_at(self) -> float | None:
        """time.perf_counter() when the first piece of a written text was sent, if it was."""
        return self._socket.first_text_at if self._socket is not None else None

    def _over_websocket(self) -> Iterator[bytes]:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.connection.total_timeout_s
        speech = self._socket = _WebSocketSpeech(
            self.request, self.connection, self.sdk, self.typed
        )
        if self._closed:
            speech.close()
        try:
            yield from speech.audio(self.deadline)
        finally:
            speech.close()
            self.usage = speech.usage
            self.request_id = speech.request_id
            self.words = speech.words

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

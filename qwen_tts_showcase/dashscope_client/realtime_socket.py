"""The only module that talks to DashScope: a request in, PCM chunks or a typed DemoError out."""

from __future__ import annotations

import base64
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import numpy as np
import requests
import urllib3.exceptions
import websocket
from dashscope import MultiModalConversation
from dashscope.audio.qwen_tts import SpeechSynthesizer
from dashscope.audio.qwen_tts_realtime import QwenTtsRealtime, QwenTtsRealtimeCallback

from .. import errors
from ..audio import SAMPLE_RATE_HZ, AudioFormatError, wav_to_pcm
from ..messages import Message, say


@dataclass(frozen=True)
class SynthesisRequest:
    """What changes the audio: the cache key and the API body are built from exactly these."""

    text: str
    voice: str
    model: str
    language_type: str | None = None
    instructions: str | None = None
    # The WebSocket models' controls; None: not sent (the HTTP models take none of them).
    speech_rate: float | None = None
    pitch_rate: float | None = None
    volume: int | None = None
    sample_rate: int | None = None
    response_format: str | None = None
    # Speak as it is written: the text is sent in pieces (words, or Han characters) at this many
    # pieces a second, and the realtime model speaks it as it comes (committed phrase by phrase).
    written_pace: float | None = None
    # Speak as I type: the text comes piece by piece from the visitor's keyboard (a TextSource
    # given to SpeechStream), not from `text`; True or None.
    typed: bool | None = None


class TextSource(Protocol):
    """Text arriving while a session is open (realtime.TypedText)."""

    def next_piece(self, stop: threading.Event) -> str | None:
        """The next piece; None when there is no more (or `stop` is set)."""


REALTIME_CONTROLS = (
    "speech_rate",
    "pitch_rate",
    "volume",
    "sample_rate",
    "response_format",
    "written_pace",
    "typed",
)


def written_pieces(text: str) -> list[str]:
    """The text as a writer (or a chatbot) produces it: each word with the spaces and marks after
    it, each Han character on its own; joined, they are the text."""
    pieces: list[str] = []
    for ch in text:
        han = _is_han(ch)
        glued = ch.isspace() or not (ch.isalnum() or han)  # spaces and marks end a piece
        if pieces and (glued or (not han and not _ends_piece(pieces[-1]))):
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces


_SENTENCE_MARKS = "。！？!?；;\n"


def spoken_sentences(text: str) -> list[str]:
    """The text's sentences, as it is committed to a realtime model (one response each, so
    each sentence's audio has a known start) and lit on the page; joined, they are the text.
    A full stop ends a sentence only before a space or the end ("3.5" stays whole); spaces
    before a sentence belong to it."""
    sentences: list[str] = []
    current = ""
    for index, ch in enumerate(text):
        current += ch
        after = text[index + 1 : index + 2]
        ends = ch in _SENTENCE_MARKS or (ch == "." and (not after or after.isspace()))
        if ends and after not in _SENTENCE_MARKS + "." and current.strip():
            sentences.append(current)
            current = ""
    if current.strip() or not sentences:
        sentences.append(current)
    else:
        sentences[-1] += current
    return sentences


# Speak as it is written: the app commits a prepared text phrase by phrase (commit mode), so the
# voice starts on the first words instead of at the end of the first sentence, and each phrase
# grows as the speech falls behind the writing (as ElevenLabs' chunk_length_schedule does). The
# nth phrase holds at most PHRASE_WORDS[n] words (two Han characters count as one; the last value
# from then on); it ends sooner at its sentence's end, or at a clause's mark once it holds a
# word, and never leaves a lone word of its sentence behind. The first word goes alone, so the
# first sound is the model's first packet after it (Qwen3-TTS is made to speak from the first
# character it is given); waiting for a second word would add 0.25 s at 4 pieces a second.
PHRASE_WORDS = (1, 2, 4, 6, 8, 12)
_CLAUSE_MARKS = ",:\u2014\uff0c\uff1a\u3001"


def written_phrases(text: str) -> list[tuple[list[str], bool]]:
    """The prepared text as it is committed while written: each phrase's pieces (joined, all of
    them are written_pieces(text)), and whether the phrase begins one of spoken_sentences(text),
    so its response's audio start is that sentence's."""
    ends, at = set(), 0
    for sentence in spoken_sentences(text):
        at += len(sentence)
        ends.add(at)
    sentences: list[list[str]] = [[]]
    at = 0
    for piece in written_pieces(text):
        sentences[-1].append(piece)
        if any(at < end <= at + len(piece) for end in ends):
            sentences.append([])
        at += len(piece)
    phrases: list[tuple[list[str], bool]] = []
    for pieces in filter(None, sentences):
        opens = True
        while pieces:
            most = PHRASE_WORDS[min(len(phrases), len(PHRASE_WORDS) - 1)]
            size, words = 0, 0.0
            while size < len(pieces) and words < most:
                words += _words(pieces[size])
                size += 1
                if words >= 1 and pieces[size - 1].rstrip()[-1:] in _CLAUSE_MARKS:
                    break
            if sum(map(_words, pieces[size:])) <= 1.5:  # no lone word left for a phrase
                size = len(pieces)
            phrases.append((pieces[:size], opens))
            pieces, opens = pieces[size:], False
    return phrases


def _ends_piece(piece: str) -> bool:
    """A piece is closed once it holds a space, a mark or a Han character."""
    last = piece[-1]
    return last.isspace() or not last.isalnum() or _is_han(last)


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _words(piece: str) -> float:
    """How much of a word a piece is: two Han characters make one."""
    return 0.5 if _is_han(piece[0]) else 1.0


@dataclass(frozen=True)
class Upstream:
    """Where and how to reach DashScope for one synthesis: base URL, key and timeouts."""

    base_url: str
    api_key: str = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    total_timeout_s: float = 120.0
    download_timeout_s: float = 30.0
    realtime_url: str = ""  # the region's realtime WebSocket URL, without ?model=
    task_url: str = ""  # the region's Qwen-Audio task WebSocket URL


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
        """Bytes into this stream's audio where each response (sentence) starts, so far."""
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


# --- The WebSocket models: realtime sessions (QwenTtsRealtime) and Qwen-Audio tasks --------------

_WAV_HEADER_BYTES = 44  # a "wav" response's first delta starts with a RIFF header (unverified)
_CLOSED = "closed"  # queued by the socket's reader when the connection ends


class _Resampler:
    """Streamed s16le at `rate` to the app's 24 kHz (linear, keeping its place across chunks), so
    the live player, the cache and the downloads hold one format whatever sample rate was asked."""

    def __init__(self, rate: int) -> None:
        self.step = rate / SAMPLE_RATE_HZ
        self.position = 0.0  # of the next output sample, in input samples from `held`
        self.held = np.zeros(0)  # the last input sample, carried into the next chunk

    def __call__(self, pcm: bytes) -> bytes:
        if self.step == 1.0 or not pcm:
            return pcm
        samples = np.concatenate([self.held, np.frombuffer(pcm, dtype="<i2").astype(np.float64)])
        last = len(samples) - 1
        positions = np.arange(self.position, last + 1e-9, self.step) if last > 0 else []
        out = np.interp(positions, np.arange(len(samples)), samples) if len(positions) else []
        self.position = (positions[-1] + self.step - last) if len(positions) else self.position
        self.held = samples[-1:]
        return np.round(out).astype("<i2").tobytes() if len(out) else b""


class _Events(QwenTtsRealtimeCallback):
    """The SDK's callbacks into one queue, read by the synthesis's thread."""

    def __init__(self, events: queue.Queue) -> None:
        self.events = events
        self.closed = threading.Event()

    def on_event(self, message: dict) -> None:
        self.events.put(message)

    def on_close(self, close_status_code, close_msg) -> None:
        self.closed.set()
        self.events.put(_CLOSED)


class _WebSocketSpeech:
    """One text spoken over a WebSocket: a realtime session through the SDK's QwenTtsRealtime
    (commit mode: the text committed sentence by sentence, or phrase by phrase as it is written,
    then session.finish; server_commit for typed text), or a Qwen-Audio task (whose word times
    are kept in `words`). Where each sentence's audio starts is kept in `starts`, in bytes of the
    audio yielded, as it arrives. `close()` from any thread
    shuts the socket at once."""

    def __init__(
        self,
        request: SynthesisRequest,
        connection: Upstream,
        sdk: str,
        typed: TextSource | None = None,
    ) -> None:
        self.request, self.connection, self.sdk = request, connection, sdk
        self.typed = typed if request.typed else None
        self.events: queue.Queue = queue.Queue()
        self.usage: dict = {}
        self.request_id = ""
        self._words: dict[object, list[dict]] = {}  # by sentence: the latest event's word times
        self.starts: list[int] = []  # bytes into the audio where each response's audio starts
        self._response_begins = False  # a response (sentence) began: its first audio is a start
        self._responses = 0  # responses begun so far
        self._phrase_opens: list[bool] = []  # by response, when the app commits phrases
        self._yielded = 0  # bytes of audio yielded so far
        self._sentences_begun = 0
        self._client: QwenTtsRealtime | None = None
        self._task: websocket.WebSocketApp | None = None
        self._closed = threading.Event()
        self._done = False  # a response.done came: what was committed has been spoken
        self.first_text_at: float | None = None  # perf_counter() of the first written piece
        self._writing = threading.Event()  # set while pieces are still being written
        self._resample = _Resampler(request.sample_rate or SAMPLE_RATE_HZ)
        self._header_left = _WAV_HEADER_BYTES if request.response_format == "wav" else 0
        url = connection.task_url if sdk == "task" else connection.realtime_url
        self.host = urlsplit(url).netloc

    @property
    def words(self) -> list[dict]:
        """Every word time received so far, sentence by sentence."""
        return [word for words in list(self._words.values()) for word in words]

    def close(self) -> None:
        self._closed.set()
        self.events.put(_CLOSED)
        for link in (self._client.ws if self._client else None, self._task):
            if link is not None:
                _shut_socket(getattr(link, "sock", None))
                link.close()

    def audio(self, deadline: float) -> Iterator[bytes]:
        sent_audio = False
        try:
            self._open(deadline)
            for pcm in self._pcm(deadline):
                pcm = self._resample(self._strip_header(pcm))
                if pcm:
                    sent_audio = True
                    if (self._response_begins and self._opens_sentence()) or not self.starts:
                        self.starts.append(self._yielded)
                    self._response_begins = False
                    self._yielded += len(pcm)
                    yield pcm
        except (OSError, websocket.WebSocketException, TimeoutError) as exc:
            if self._closed.is_set():
                raise _make(
                    errors.ConnectionFailedError,
                    say("connection_dropped", host=self.host),
                    sent_audio,
                ) from exc
            raise _make(
                errors.ConnectionFailedError, say("connection_refused", host=self.host), sent_audio
            ) from exc

    def _begin_response(self) -> None:
        """A response (a sentence, or a phrase) begins: its first audio marks a start if it
        begins a sentence; a "wav" response starts with a header of its own."""
        self._response_begins = True
        self._responses += 1
        self._header_left = _WAV_HEADER_BYTES if self.request.response_format == "wav" else 0

    def _opens_sentence(self) -> bool:
        """Whether the response begun last begins a sentence (each does, but phrases)."""
        number = self._responses - 1
        return number >= len(self._phrase_opens) or self._phrase_opens[number]

    def _strip_header(self, data: bytes) -> bytes:
        if self._header_left and data[:4] == b"RIFF":
            cut = min(self._header_left, len(data))
            self._header_left -= cut
            return data[cut:]
        self._header_left = 0
        return data

    def _open(self, deadline: float) -> None:
        """Connect and start the session (or task); sends the whole text."""
        request, connection = self.request, self.connection
        if self.sdk == "task":
            self._open_task(deadline)
            return
        self._callbacks = _Events(self.events)
        client = self._client = QwenTtsRealtime(
            model=request.model, callback=self._callbacks, url=connection.realtime_url
        )
        client.apikey = connection.api_key  # this request's key, never the SDK's module global
        if self._closed.is_set():
            raise _stopped(self.host)
        self._connect(client)
        self._wait_for("session.created", deadline)
        self.request_id = client.get_session_id() or ""
        if self._closed.is_set():
            raise _stopped(self.host)
        # typed text: the server decides when to speak (the visitor's pace is unknown); else the
        # app commits, sentence by sentence or, as it is written, phrase by phrase
        mode = "server_commit" if self.typed else "commit"
        client.update_session(mode=mode, **_session_fields(request))
        self._wait_for("session.updated", deadline)
        if request.written_pace or self.typed:
            self._write(client.append_text, client.finish, client.commit)
            return
        for sentence in spoken_sentences(request.text):  # one response each: its start is known
            client.append_text(sentence)
            client.commit()
        client.finish()

    def _pieces(self) -> Iterator[tuple[str, bool | None]]:
        """The text as it is written, each piece with whether it ends a phrase that begins a
        sentence (True), ends one that does not (False), or ends none (None): typed pieces as
        they come (the server decides), or the prepared text word by word at the written pace,
        phrase by phrase (written_phrases). It ends early when the speech is closed."""
        if self.typed is not None:
            while (piece := self.typed.next_piece(self._closed)) is not None:
                yield piece, None
            return
        pause = 1.0 / self.request.written_pace
        first = True
        for pieces, opens in written_phrases(self.request.text):
            for number, piece in enumerate(pieces, start=1):
                if not first and self._closed.wait(pause):
                    return
                first = False
                yield piece, (opens if number == len(pieces) else None)

    def _write(self, send_piece, finish, commit=None) -> None:
        """Send the text piece by piece as it is written, on a thread of its own, committing
        each phrase (where the protocol has commits), then end; Stop (close) ends it between
        two pieces."""

        def write() -> None:
            self._writing.set()
            try:
                for piece, phrase_opens in self._pieces():
                    send_piece(piece)
                    if self.first_text_at is None:
                        self.first_text_at = time.perf_counter()
                    if commit is not None and phrase_opens is not None:
                        self._phrase_opens.append(phrase_opens)  # before its response can begin
                        commit()
                if not self._closed.is_set():
                    finish()
            except (OSError, ConnectionError, websocket.WebSocketException):
                pass  # the socket went: the reader says why
            finally:
                self._writing.clear()

        self._writing.set()  # before the thread starts: the reader must not time out meanwhile
        threading.Thread(target=write, daemon=True).start()

    def _connect(self, client: QwenTtsRealtime) -> None:
        """client.connect(), but a connection refused or closed at once fails now: the SDK's
        connect() would poll for 5 s (and each retry again)."""
        finished, failure = threading.Event(), []

        def connect() -> None:
            try:
                client.connect()
            except Exception as exc:  # raised below, in the synthesis's thread
                failure.append(exc)
            finally:
                finished.set()

        threading.Thread(target=connect, daemon=True).start()
        while not finished.wait(0.02):
            if self._callbacks.closed.is_set():
                break
        if failure or self._callbacks.closed.is_set():
            self._raise_error_received()  # refused with an error event, then closed
            if self._closed.is_set():
                raise _stopped(self.host)
            raise _make(
                errors.ConnectionFailedError, say("connection_refused", host=self.host), False
            )

    def _open_task(self, deadline: float) -> None:
        request, connection = self.request, self.connection
        opened = threading.Event()

        def on_message(_ws, message) -> None:
            self.events.put(message)

        app = self._task = websocket.WebSocketApp(
            connection.task_url,
            header={"Authorization": f"Bearer {connection.api_key}"},
            on_open=lambda _ws: opened.set(),
            on_message=on_message,
            on_close=lambda *_: self.events.put(_CLOSED),
        )
        threading.Thread(target=app.run_forever, daemon=True).start()
        if not opened.wait(_left(deadline, connection.connect_timeout_s)):
            raise _make(
                errors.ConnectionFailedError, say("connection_refused", host=self.host), False
            )
        task_id = self.request_id = uuid.uuid4().hex
        header = {"task_id": task_id, "streaming": "duplex"}
        parameters = {
            "voice": request.voice,
            "format": request.response_format or "pcm",
            "sample_rate": request.sample_rate or SAMPLE_RATE_HZ,
            "word_timestamp_enabled": True,
        }
        for name, wire in (("speech_rate", "rate"), ("pitch_rate", "pitch"), ("volume", "volume")):
            if getattr(request, name) is not None:
                parameters[wire] = getattr(request, name)
        payload = {
            "model": request.model,
            "task_group": "audio",
            "task": "tts",
            "function": "SpeechSynthesizer",
            "parameters": parameters,
            "input": {},
        }
        app.send(json.dumps({"header": {**header, "action": "run-task"}, "payload": payload}))
        self._wait_for("task-started", deadline)

        def piece(text: str) -> None:
            payload = {"input": {"text": text}}
            app.send(
                json.dumps({"header": {**header, "action": "continue-task"}, "payload": payload})
            )

        def finish() -> None:
            payload = {"input": {}}
            app.send(
                json.dumps({"header": {**header, "action": "finish-task"}, "payload": payload})
            )

        if request.written_pace or self.typed:
            self._write(piece, finish)
            return
        for sentence in spoken_sentences(request.text):  # as the realtime sessions' commits
            piece(sentence)
        finish()

    def _next(self, deadline: float, wait_s: float, partial: bool = False):
        """The next event, or a timeout error (the silence allowed, or the deadline)."""
        try:
            while True:
                try:
                    event = self.events.get(timeout=_left(deadline, wait_s))
                    break
                except queue.Empty:
                    # the model waits for text still being written: silence is expected then
                    if not self._writing.is_set() or time.monotonic() >= deadline:
                        raise
        except queue.Empty:
            if time.monotonic() >= deadline:
                raise _took_too_long(self.connection.total_timeout_s, partial) from None
            raise _make(
                errors.UpstreamTimeoutError,
                say("read_timeout", host=self.host, seconds=wait_s),
                partial,
            ) from None
        if self._closed.is_set():
            raise _stopped(self.host)
        return event

    def _wait_for(self, wanted: str, deadline: float) -> None:
        """Read events until `wanted`; a session that never starts is said in words."""
        wait_s = self.connection.connect_timeout_s
        while True:
            try:
                event = self._next(deadline, wait_s)
            except errors.UpstreamTimeoutError as err:
                never = say("realtime_never_started", host=self.host, seconds=wait_s)
                raise _make(errors.UpstreamTimeoutError, never, False) from err
            kind, payload = _kind(event)
            if kind == wanted:
                return
            self._check(kind, payload, partial=False)

    def _raise_error_received(self) -> None:
        """The error event already received, if any, as its DemoError."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            kind, payload = _kind(event)
            if kind in ("error", "task-failed"):
                self._check(kind, payload, partial=False)

    def _check(self, kind: str, payload: dict, partial: bool) -> None:
        """Raise the failure an event or a close means."""
        if kind == _CLOSED:
            if self._closed.is_set():
                raise _stopped(self.host)
            raise _stream_cut_short(self.request_id, partial)
        if kind == "error":
            error = payload.get("error") if isinstance(payload.get("error"), dict) else payload
            raise error_for_response(
                0, error.get("code"), error.get("message"), self.request_id, partial
            )
        if kind == "task-failed":
            header = payload.get("header") or {}
            code, message = header.get("error_code"), header.get("error_message")
            raise error_for_response(0, code, message, self.request_id, partial)

    def _pcm(self, deadline: float) -> Iterator[bytes]:
        """The audio as it arrives, until the session's (or task's) end."""
        wait_s = self.connection.read_timeout_s
        spoke = False
        while True:
            event = self._next(deadline, wait_s, partial=spoke)
            if isinstance(event, bytes):  # the task protocol sends audio as binary frames
                spoke = True
                yield event
                continue
            kind, payload = _kind(event)
            if kind == "response.audio.delta":
                spoke = True
                yield base64.b64decode(payload.get("delta") or "", validate=True)
            elif kind == "response.created":
                self._begin_response()
            elif kind == "response.done":
                usage = (payload.get("response") or {}).get("usage") or {}
                characters = usage.get("characters")
                if isinstance(characters, int):
                    self.usage["characters"] = self.usage.get("characters", 0) + characters
                self._done = True
            elif kind in ("session.finished", "task-finished"):
                if kind == "task-finished":
                    usage = (payload.get("payload") or {}).get("usage") or {}
                    if isinstance(usage.get("characters"), int):
                        self.usage["characters"] = usage["characters"]
                return
            elif kind == "result-generated":
                self._sentence((payload.get("payload") or {}).get("output") or {})
            elif kind == _CLOSED and self._done and not self._closed.is_set():
                return  # everything committed was spoken; session.finished is unverified
            else:
                self._check(kind, payload, partial=spoke)

    def _sentence(self, output: dict) -> None:
        """A Qwen-Audio sentence event: its start, and its word times whichever event carries
        them (begin, synthesis or end: unverified), the latest kept."""
        sentence = output.get("sentence") if isinstance(output.get("sentence"), dict) else {}
        if output.get("type") == "sentence-begin":
            self._begin_response()
            self._sentences_begun += 1
        index = sentence.get("index")  # with the sentences begun: unique, whatever it counts
        index = (self._sentences_begun, index if isinstance(index, int) else None)
        words = [w for w in sentence.get("words") or [] if isinstance(w, dict)]
        if words:
            self._words[index] = words


def _kind(event) -> tuple[str, dict]:
    """(type, the event as a dict) of a realtime event, a task event (JSON text) or a close."""
    if event == _CLOSED:
        return _CLOSED, {}
    if isinstance(event, str):
        try:
            event = json.loads(event)
        except ValueError:
            return "unreadable", {}
    if not isinstance(event, dict):
        return "unreadable", {}
    if "header" in event:
        return str((event.get("header") or {}).get("event") or ""), event
    return str(event.get("type") or ""), event


def _session_fields(request: SynthesisRequest) -> dict:
    """session.update's fields for a request: only what the page set is sent."""
    fields: dict = {"voice": request.voice}
    if request.response_format:
        fields["audio_format"] = request.response_format
    for name in (  # written_pace is how the app sends the text, not a session field
        "sample_rate",
        "volume",
        "speech_rate",
        "pitch_rate",
        "language_type",
        "instructions",
    ):
        value = getattr(request, name)
        if value is not None:
            fields[name] = value
    return fields


def _left(deadline: float, wait_s: float) -> float:
    return max(0.0, min(wait_s, deadline - time.monotonic()))


def _shut_socket(sock) -> None:
    """Shut a websocket-client socket now, so its reader thread returns at once."""
    raw = getattr(sock, "sock", None)
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _stopped(host: str) -> errors.DashScopeError:
    return errors.ConnectionFailedError(say("connection_dropped", host=host))


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

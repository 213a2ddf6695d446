"""The WebSocket models: realtime sessions (QwenTtsRealtime) and Qwen-Audio tasks."""

from __future__ import annotations

import base64
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import numpy as np
import websocket
from dashscope.audio.qwen_tts_realtime import QwenTtsRealtime, QwenTtsRealtimeCallback

from .. import errors
from ..audio import SAMPLE_RATE_HZ
from ..messages import say
from .failures import _make, _stream_cut_short, _took_too_long, error_for_response
from .request import SynthesisRequest, TextSource, Upstream
from .text_pieces import spoken_sentences, written_phrases

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
    audio yielded, as it arrives. `close()` from any thread shuts the socket at once."""

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
        self.starts: list[int] = []  # bytes into the audio where each sentence's audio starts
        self._response_begins = False  # a response began: its first audio may start a sentence
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

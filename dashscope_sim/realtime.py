"""The simulator's WebSocket side: the realtime TTS protocol and Qwen-Audio's task protocol.

One `websockets` server (threaded, one thread per connection, like the HTTP side) on a port of its
own answers both routes of `realtime_tables`. A realtime session speaks the events of the
reference's §2 (`session.update`, the text buffer, `response.*`, `error`), in `server_commit` or
`commit` mode; a task speaks run-task / continue-task / finish-task with word times (§4). Audio
deltas follow the simulator's UpstreamProfile (first delay, wall seconds per second of audio).
Faults (queued per connection): any row of the HTTP error table as an `error` event (or
task-failed), `early_close`, `never_started`, `stall`, after `after_chunks` deltas.
"""

from __future__ import annotations

import base64
import json
import queue
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from . import rules
from .audio import SAMPLE_RATE_HZ, render_speech, speech_seconds
from .handler import ClientGone
from .realtime_tables import (
    AUDIO_DONE_EVENTS,
    DEFAULT_SESSION,
    ERROR_EVENT_TYPE,
    FORMATS_NOT_SIMULATED,
    MODES,
    RATE_RANGE,
    REALTIME_CHUNK_SECONDS,
    REALTIME_PATHS,
    REFUSED_CLOSE_AFTER_S,
    SENTENCE_ENDS,
    SERVER_COMMIT_MAX_CHARS,
    SESSION_FINISHED,
    TASK_PATHS,
    VOLUME_RANGE,
    WAV_STREAM_SIZE,
    RealtimeModel,
    realtime_model,
)
from .tables import ERRORS

if TYPE_CHECKING:
    from .server import DashScopeSimulator

REALTIME_FAULTS = ("early_close", "never_started", "stall")  # besides every row of ERRORS
_FINISH = object()  # queued after the last text: end the session once it is spoken


class _Ended(Exception):
    """The simulator ended the session itself (a fault): not the client's doing."""


@dataclass
class RealtimeRecord:
    """One WebSocket connection as it crossed the wire."""

    path: str
    region: str
    model: str
    headers: dict[str, str]
    events: list[dict] = field(default_factory=list)  # every JSON message the client sent
    session: dict = field(default_factory=dict)  # the session as last updated
    committed: list[str] = field(default_factory=list)  # the texts spoken, in order
    pcm: bytes = b""  # the audio sent, decoded (a wav response's header not included)
    word_times: list[dict] = field(default_factory=list)  # task protocol: every word sent
    fault: str | None = None
    received_at: float = field(default_factory=time.time)
    first_text_at: float | None = None  # time.time() of the first text received
    first_audio_sent_at: float | None = None
    closed_at: float | None = None
    client_closed: bool = False  # the client closed the socket before the session ended

    def appended(self) -> list[str]:
        """The text pieces as they arrived (append events, or continue-task inputs)."""
        pieces = []
        for event in self.events:
            if event.get("type") == "input_text_buffer.append":
                pieces.append(event.get("text", ""))
            text = ((event.get("payload") or {}).get("input") or {}).get("text")
            if isinstance(text, str):
                pieces.append(text)
        return pieces


def resample(pcm: bytes, rate: int) -> bytes:
    """24 kHz s16le to another rate (linear interpolation: enough for a stand-in voice)."""
    if rate == SAMPLE_RATE_HZ or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    count = int(round(len(samples) * rate / SAMPLE_RATE_HZ))
    positions = np.linspace(0, len(samples) - 1, count)
    return np.interp(positions, np.arange(len(samples)), samples).astype("<i2").tobytes()


def spoken(model: str, session: dict, text: str) -> bytes:
    """The audio the simulator speaks for text in a session: every control changes it, so a
    test can hear what was sent. speech_rate shortens it, volume scales it (50 = as rendered),
    pitch, language and instructions change the voice's tones, sample_rate resamples it."""
    rate = float(session.get("speech_rate") or 1.0)
    style = "|".join(
        f"{name}={session[name]}"
        for name in ("pitch_rate", "language_type", "instructions")
        if session.get(name) not in (None, "", 1.0)
    )
    pcm = render_speech(model, session.get("voice", ""), text, speech_seconds(text) / rate, style)
    volume = float(session.get("volume", 50))
    if volume != 50:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) * (volume / 50)
        pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return resample(pcm, int(session.get("sample_rate") or SAMPLE_RATE_HZ))


def wav_stream_header(rate: int) -> bytes:
    """The header that starts a streamed "wav" response (sizes unknown: realtime_tables)."""
    return (
        b"RIFF"
        + struct.pack("<I", WAV_STREAM_SIZE)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", WAV_STREAM_SIZE)
    )


def word_times(text: str, seconds: float, offset_ms: int) -> list[dict]:
    """Each word of text (a Han character, or a run of other letters) with its begin and end in
    ms from the start of the task's audio, the sentence's time shared out by letters."""
    words: list[str] = []
    run = ""
    for ch in text:
        if rules.is_han(ch):
            if run:
                words.append(run)
                run = ""
            words.append(ch)
        elif ch.isalnum() or ch in "'-":
            run += ch
        else:
            if run:
                words.append(run)
            run = ""
    if run:
        words.append(run)
    total = sum(len(w) for w in words) or 1
    out, at = [], 0.0
    for word in words:
        length = seconds * 1000 * len(word) / total
        out.append(
            {
                "text": word,
                "begin_time": offset_ms + int(at),
                "end_time": offset_ms + int(at + length),
            }
        )
        at += length
    return out


class _Speaker:
    """Sends the audio of committed texts, paced, on its own thread, while the client goes on
    sending text; applies the connection's fault when its delta comes."""

    def __init__(self, link: _Link, speak) -> None:
        self.link = link
        self._speak = speak  # text -> None: sends one response (the protocol's events)
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                job = self.jobs.get()
                if job is _FINISH:
                    self.link.finished()
                    return
                self._speak(job)
        except _Ended:
            self.link.done.set()
        except (ConnectionClosed, ClientGone, OSError):
            self.link.gone()
        except BaseException as exc:  # a bug of the simulator: shown to the test
            self.link.sim.handler_errors.append(exc)
            self.link.gone()


class _Link:
    """One connection: sending (locked, both threads send), pacing, faults, the record."""

    def __init__(
        self, sim: DashScopeSimulator, ws: ServerConnection, record: RealtimeRecord
    ) -> None:
        self.sim, self.ws, self.record = sim, ws, record
        self.fault = sim._next_realtime_fault()
        record.fault = self.fault.kind if self.fault else None
        self.deltas = 0
        self.done = threading.Event()  # the session ended (finished, faulted or gone)
        self.complete = False  # ended by session.finish / finish-task, everything spoken
        self._lock = threading.Lock()

    def send(self, message: dict | bytes) -> None:
        with self._lock:
            self.ws.send(message if isinstance(message, bytes) else json.dumps(message))

    def audio_chunks(self, pcm: bytes, rate: int) -> list[bytes]:
        step = max(2, int(REALTIME_CHUNK_SECONDS * rate) * 2)
        return [pcm[i : i + step] for i in range(0, len(pcm), step)]

    def before_delta(self, first_of_response: bool, rate: int, chunk: bytes) -> str | None:
        """Wait the profile's pace; a fault due now: its kind ("error" rows are returned)."""
        profile = self.sim.profile
        if first_of_response:
            self.sim._sleep(profile.first_chunk_delay_s)
        else:
            self.sim._sleep(profile.realtime_factor * len(chunk) / 2 / rate)
        fault = self.fault
        if fault is None or self.deltas < fault.after_chunks:
            return None
        self.fault = None
        if fault.kind == "early_close":
            self.cut()
            raise _Ended
        if fault.kind == "stall":
            self.sim._sleep(fault.delay_s)
            return None
        return fault.kind  # an error row

    def sent_audio(self, pcm: bytes) -> None:
        self.deltas += 1
        if self.record.first_audio_sent_at is None:
            self.record.first_audio_sent_at = time.time()
        self.record.pcm += pcm

    def cut(self) -> None:
        """Close the TCP connection without a closing handshake: a socket that closes early."""
        try:
            self.ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.done.set()

    def finished(self) -> None:
        self.complete = True
        self.done.set()

    def gone(self) -> None:
        if not self.done.is_set():
            self.record.client_closed = True
        self.done.set()

    def receive(self) -> dict | None:
        """The client's next JSON message; None when the session is over. Ends on clear/stop."""
        wake = self.sim._wake
        while not self.done.is_set():
            if wake.is_set():
                raise ClientGone
            try:
                raw = self.ws.recv(timeout=0.05)
            except TimeoutError:
                continue
            try:
                message = json.loads(raw)
            except (TypeError, ValueError):
                message = {"unreadable": True}
            message = message if isinstance(message, dict) else {"unreadable": True}
            self.record.events.append(message)
            return message
        return None


def _error_event(code: str, message: str) -> dict:
    return {
        "event_id": "event_" + uuid.uuid4().hex,
        "type": "error",
        "error": {"type": ERROR_EVENT_TYPE, "code": code, "message": message},
    }


def _event(kind: str, **fields) -> dict:
    return {"event_id": "event_" + uuid.uuid4().hex, "type": kind, **fields}


def _session_refusal(model: RealtimeModel, session: dict, custom_family) -> tuple[str, str] | None:
    """(code, message) of a session.update the service would refuse."""
    if session.get("mode") not in MODES:
        return "InvalidParameter", f"mode should be one of {', '.join(MODES)}"
    voice = session.get("voice")
    if model.family:
        found = custom_family(voice) if isinstance(voice, str) else None
        if found != model.family:
            return "InvalidParameter", f"Voice '{voice}' does not exist for model {model.id}."
    elif voice not in model.voices:
        return "InvalidParameter", f"Voice '{voice}' is not supported."
    fmt = session.get("response_format")
    if fmt in FORMATS_NOT_SIMULATED or fmt not in model.formats:
        return "InvalidParameter", f"response_format '{fmt}' is not supported by {model.id}."
    if session.get("sample_rate") not in model.sample_rates:
        return "InvalidParameter", f"sample_rate {session.get('sample_rate')} is not supported."
    for name in ("speech_rate", "pitch_rate"):
        value = session.get(name)
        if not isinstance(value, (int, float)) or not RATE_RANGE[0] <= value <= RATE_RANGE[1]:
            return "InvalidParameter", f"{name} should be in [0.5, 2.0]"
    volume = session.get("volume")
    if not isinstance(volume, (int, float)) or not VOLUME_RANGE[0] <= volume <= VOLUME_RANGE[1]:
        return "InvalidParameter", "volume should be in [0, 100]"
    language = session.get("language_type")
    if language is not None and language not in model.language_types:
        return "InvalidParameter", f"language_type '{language}' is not supported."
    if not model.instructions and any(
        session.get(n) for n in ("instructions", "optimize_instructions")
    ):
        return "InvalidParameter", f"instructions are not supported by {model.id}."
    return None


def _sentences_due(buffer: str) -> tuple[str, str]:
    """(what server_commit speaks now, what stays in the buffer)."""
    cut = max(buffer.rfind(end) for end in SENTENCE_ENDS)
    if cut >= 0:
        return buffer[: cut + 1], buffer[cut + 1 :]
    if len(buffer) >= SERVER_COMMIT_MAX_CHARS:
        return buffer, ""
    return "", buffer


class RealtimeSession:
    """The §2 protocol on one connection."""

    def __init__(self, link: _Link, model: RealtimeModel, account: str) -> None:
        self.link, self.model, self.account = link, model, account
        self.session = {"id": "sess_" + uuid.uuid4().hex, "model": model.id, **DEFAULT_SESSION}
        self.session["voice"] = model.voices[0] if model.voices else ""
        self.buffer = ""
        self.speaker: _Speaker | None = None

    def run(self) -> None:
        link = self.link
        link.send(_event("session.created", session=dict(self.session)))
        self.speaker = _Speaker(link, self._respond)
        while (message := link.receive()) is not None:
            kind = message.get("type")
            if kind == "session.update":
                self._update(message.get("session"))
            elif kind == "input_text_buffer.append":
                self._append(message.get("text"))
            elif kind == "input_text_buffer.commit":
                self._commit(self.buffer)
                self.buffer = ""
            elif kind == "input_text_buffer.clear":
                self.buffer = ""
                link.send(_event("input_text_buffer.cleared"))
            elif kind == "session.finish":
                if self.session["mode"] == "server_commit":
                    self._commit(self.buffer)  # commit mode: uncommitted text is dropped
                self.buffer = ""
                self.speaker.jobs.put(_FINISH)
            elif kind == "response.cancel":
                pass  # the simulator finishes its response: cancelling is not simulated
            else:
                link.send(_error_event("InvalidParameter", f"Unknown event type: {kind}"))

    def _update(self, changes: object) -> None:
        if not isinstance(changes, dict):
            self.link.send(_error_event("InvalidParameter", "session should be an object"))
            return
        proposed = {**self.session, **{k: v for k, v in changes.items() if k != "id"}}
        family = self.link.sim.voice_store.family_of
        refused = _session_refusal(self.model, proposed, lambda voice: family(self.account, voice))
        if refused:
            self.link.send(_error_event(*refused))
            return
        self.session = proposed
        self.link.record.session = dict(proposed)
        self.link.send(_event("session.updated", session=dict(proposed)))

    def _append(self, text: object) -> None:
        if not isinstance(text, str):
            self.link.send(_error_event("InvalidParameter", "text should be a string"))
            return
        if self.link.record.first_text_at is None:
            self.link.record.first_text_at = time.time()
        self.buffer += text
        if self.session["mode"] == "server_commit":
            due, self.buffer = _sentences_due(self.buffer)
            self._commit(due)

    def _commit(self, text: str) -> None:
        if not text.strip():
            return
        item = "item_" + uuid.uuid4().hex
        self.link.send(_event("input_text_buffer.committed", item_id=item))
        self.link.record.committed.append(text)
        self.speaker.jobs.put((text, dict(self.session)))

    def _respond(self, job: tuple[str, dict]) -> None:
        text, session = job
        link, rid = self.link, "resp_" + uuid.uuid4().hex
        link.send(_event("response.created", response={"id": rid, "status": "in_progress"}))
        link.send(_event("response.output_item.added", response_id=rid))
        link.send(_event("response.content_part.added", response_id=rid))
        rate = int(session["sample_rate"])
        pcm = spoken(self.model.id, session, text)
        for number, chunk in enumerate(link.audio_chunks(pcm, rate)):
            fault = link.before_delta(number == 0, rate, chunk)
            if fault is not None:
                _, code, message = ERRORS[fault]
                link.send(_error_event(code, message))
                return
            data = chunk
            if number == 0 and session["response_format"] == "wav":
                data = wav_stream_header(rate) + chunk
            delta = base64.b64encode(data).decode()
            link.send(_event("response.audio.delta", response_id=rid, delta=delta))
            link.sent_audio(chunk)
        for kind in AUDIO_DONE_EVENTS:
            link.send(_event(kind, response_id=rid))
        usage = {"characters": rules.billed_characters(text)}
        link.send(
            _event("response.done", response={"id": rid, "status": "completed", "usage": usage})
        )

    def finish(self) -> None:
        self.link.send(_event(SESSION_FINISHED))


class TaskSession:
    """Qwen-Audio TTS 3.x's task protocol (§4) on one connection, with word times."""

    def __init__(self, link: _Link, region: str, account_ok: tuple | None) -> None:
        self.link, self.region, self.refusal = link, region, account_ok
        self.task_id = ""
        self.params: dict = {}
        self.model: RealtimeModel | None = None
        self.buffer = ""
        self.spoken_ms = 0
        self.characters = 0
        self.speaker: _Speaker | None = None

    def _send(self, event: str, payload: dict | None = None, **header) -> None:
        head = {"task_id": self.task_id, "event": event, **header}
        self.link.send({"header": head, "payload": payload or {}})

    def _fail(self, code: str, message: str) -> None:
        self._send("task-failed", error_code=code, error_message=message)
        self.link.done.set()

    def run(self) -> None:
        link = self.link
        while (message := link.receive()) is not None:
            header = message.get("header") or {}
            action = header.get("action")
            payload = message.get("payload") or {}
            if action == "run-task":
                self.task_id = header.get("task_id", "")
                if not self._start(payload):
                    return
            elif action == "continue-task" and self.speaker is not None:
                text = (payload.get("input") or {}).get("text")
                if isinstance(text, str):
                    if link.record.first_text_at is None:
                        link.record.first_text_at = time.time()
                    due, self.buffer = _sentences_due(self.buffer + text)
                    self._queue(due)
            elif action == "finish-task" and self.speaker is not None:
                self._queue(self.buffer)
                self.buffer = ""
                self.speaker.jobs.put(_FINISH)
            else:
                self._fail("InvalidParameter", f"Unexpected action: {action}")
                return

    def _start(self, payload: dict) -> bool:
        if self.refusal:
            _, code, message = self.refusal
            self._fail(code, message)
            return False
        model = realtime_model(payload.get("model"))
        if model is None or model.protocol != "task" or not model.offered_in(self.region):
            self._fail(*ERRORS["model_not_exist"][1:])
            return False
        params = payload.get("parameters") or {}
        session = {
            **DEFAULT_SESSION,
            "voice": params.get("voice"),
            "response_format": params.get("format", "pcm"),
            "sample_rate": params.get("sample_rate", 24000),
            "speech_rate": params.get("rate", 1.0),
            "pitch_rate": params.get("pitch", 1.0),
            "volume": params.get("volume", 50),
        }
        refused = _session_refusal(model, session, lambda voice: None)
        if refused:
            self._fail(*refused)
            return False
        self.model, self.params = model, session
        self.link.record.session = dict(
            session, word_timestamp_enabled=params.get("word_timestamp_enabled")
        )
        self._words = bool(params.get("word_timestamp_enabled"))
        self._send("task-started")
        self.speaker = _Speaker(self.link, self._speak)
        return True

    def _queue(self, text: str) -> None:
        if text.strip():
            self.link.record.committed.append(text)
            self.speaker.jobs.put((len(self.link.record.committed), text))

    def _speak(self, job: tuple[int, str]) -> None:
        index, text = job
        link, session = self.link, self.params
        rate = int(session["sample_rate"])
        pcm = spoken(self.model.id, session, text)
        seconds = len(pcm) / 2 / rate
        words = word_times(text, seconds, self.spoken_ms) if self._words else []
        sentence = {"index": index, "text": text, "words": words}
        self._send("result-generated", {"output": {"type": "sentence-begin", "sentence": sentence}})
        for number, chunk in enumerate(link.audio_chunks(pcm, rate)):
            fault = link.before_delta(number == 0, rate, chunk)
            if fault is not None:
                self._fail(*ERRORS[fault][1:])
                raise _Ended
            link.send(chunk)
            link.sent_audio(chunk)
        self.spoken_ms += int(round(seconds * 1000))
        self.characters += rules.billed_characters(text)
        link.record.word_times.extend(words)
        output = {"type": "sentence-end", "sentence": sentence}
        self._send("result-generated", {"output": output, "usage": {"characters": self.characters}})

    def finish(self) -> None:
        self._send("task-finished", {"output": {}, "usage": {"characters": self.characters}})


class RealtimeServer:
    """The WebSocket port of a DashScopeSimulator."""

    def __init__(self, sim: DashScopeSimulator) -> None:
        self.sim = sim
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> None:
        self._server = serve(
            self._handle,
            "127.0.0.1",
            self.sim.realtime_port,
            process_request=self._check_path,
            compression=None,
            ping_interval=None,
            max_size=2**20,
        )
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server = None

    @staticmethod
    def _route(path: str) -> tuple[str, str] | None:
        """(protocol, region) of a path, or None."""
        for region, route in REALTIME_PATHS.items():
            if path == route:
                return "realtime", region
        for region, route in TASK_PATHS.items():
            if path == route:
                return "task", region
        return None

    def _check_path(self, connection: ServerConnection, request):
        if self._route(urlsplit(request.path).path) is None:
            return connection.respond(404, "Not Found\n")
        return None

    def _handle(self, ws: ServerConnection) -> None:
        sim = self.sim
        parts = urlsplit(ws.request.path)
        protocol, region = self._route(parts.path)
        model_id = (parse_qs(parts.query).get("model") or [""])[0]
        headers = {name.lower(): value for name, value in ws.request.headers.raw_items()}
        record = RealtimeRecord(ws.request.path, region, model_id, headers)
        sim._record_realtime(record)
        link = _Link(sim, ws, record)
        refusal = rules.key_refusal(sim.keys, region, headers)
        try:
            if link.fault is not None and link.fault.kind == "never_started":
                delay, link.fault = link.fault.delay_s, None
                sim._sleep(delay)
                return
            if protocol == "task":
                session = TaskSession(link, region, refusal)
            else:
                model = realtime_model(model_id)
                if refusal is None and (
                    model is None or model.protocol != "realtime" or not model.offered_in(region)
                ):
                    refusal = ERRORS["model_not_exist"]
                if refusal is not None:
                    _, code, message = refusal
                    link.send(_error_event(code, message))
                    link.done.set()
                    # the client hangs up, having read the error; closed here after a while
                    try:
                        ws.recv(timeout=REFUSED_CLOSE_AFTER_S)
                    except (TimeoutError, ConnectionClosed):
                        pass
                    ws.close(1008, code[:100])
                    return
                session = RealtimeSession(link, model, rules.bearer_key(headers))
            session.run()
            if link.complete:  # everything asked for was spoken: say so, then close
                session.finish()
                ws.close()
        except (ConnectionClosed, ClientGone, OSError):
            link.gone()
        except BaseException as exc:  # a bug of the simulator: shown to the test
            sim.handler_errors.append(exc)
        finally:
            record.closed_at = time.time()
            if not link.done.is_set():
                record.client_closed = True
                link.done.set()

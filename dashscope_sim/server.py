"""A local DashScope that speaks the real wire protocol, for tests and for work without a key.

It answers `POST {base}/services/aigc/multimodal-generation/generation` as the reference
describes: Bearer auth, JSON errors, SSE frames of base64 24 kHz PCM ending in a
`finish_reason: "stop"` frame with an `audio.url`, and serves that WAV under `/files/`. It also
answers the customization route (`voices`: designed and cloned voices, per account).
Two regions share one port: Beijing at `/api/v1`, Singapore at `/intl/api/v1`; a key works
only in its own region, as on the real service. Faults are queued per request. What it accepts,
refuses and bills is in `rules` (by the tables in `tables`); the HTTP is in `handler`; the audio
it renders is in `audio`. Nothing here comes from the app: the simulator is the other side of
the wire.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from .audio import wav_bytes
from .handler import ClientGone, Handler, Server
from .realtime import REALTIME_FAULTS, RealtimeRecord, RealtimeServer
from .realtime_tables import REALTIME_PATHS, TASK_PATHS
from .records import Fault, RecordedRequest, UpstreamProfile
from .tables import DEFAULT_KEYS, ERRORS, GENERATION_PATH, MODELS, REGION_PREFIXES, Model
from .voices import CUSTOMIZATION_PATH, VOICE_ERRORS, VoiceStore

FILES_KEPT = 512

FAULTS = ERRORS  # fault: (HTTP status, DashScope code, message), every row of the error table
# Faults with a behaviour of their own (see handler.py).
SPECIAL_FAULTS = (
    "bad_gateway_html",  # 502 with an HTML page, as a load balancer sends
    "drop_connection",  # close the socket before any response
    "hang",  # answer nothing for delay_s
    "data_inspection_midstream",  # event:error frame after after_chunks frames
    "cut_stream",  # end the stream cleanly after after_chunks frames, without the last frame
    "drop_midstream",  # close the socket after after_chunks frames
    "stall_midstream",  # send after_chunks frames, then nothing for delay_s
    "malformed_json",  # 200 application/json that is not JSON
    "malformed_sse",  # an SSE data line that is not JSON
    "missing_output",  # a frame without "output"
    "expired_url",  # audio.url already expired
    "unreachable_url",  # audio.url on a port nobody listens on
    "slow_url",  # the file route waits delay_s
)


class DashScopeSimulator:
    """A threaded DashScope on 127.0.0.1; use as a context manager or start()/stop()."""

    def __init__(
        self,
        port: int = 0,
        keys: dict[str, str] | None = None,
        profile: UpstreamProfile | None = None,
        models: tuple[Model, ...] = MODELS,
    ) -> None:
        self.port = port
        self.keys = dict(DEFAULT_KEYS if keys is None else keys)
        self.profile = profile or UpstreamProfile()
        self.models = models
        self.requests: list[RecordedRequest] = []
        self.handler_errors: list[BaseException] = []
        self._faults: list[Fault] = []
        self._voice_faults: list[str] = []
        self.voice_store = VoiceStore()  # every account's designed and cloned voices
        self._files: OrderedDict[str, tuple[bytes, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()  # set to end every wait of the handlers (clear, stop)
        self._open = threading.Event()  # cleared by hold(): answers wait until release()
        self._open.set()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        # The WebSocket models (realtime.py), on a port of their own.
        self.realtime_sessions: list[RealtimeRecord] = []
        self._realtime_faults: list[Fault] = []
        self._realtime = RealtimeServer(self)
        self.realtime_port = 0  # the WebSocket port asked for (0: any free one)

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> DashScopeSimulator:
        handler = type("Handler", (Handler,), {"simulator": self})
        self._server = Server(("127.0.0.1", self.port), handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._realtime.start()
        return self

    def stop(self) -> None:
        self._wake.set()
        self._realtime.stop()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> DashScopeSimulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, region: str = "beijing") -> str:
        """The DashScope HTTP base for a region, as DASHSCOPE_HTTP_BASE_URL would hold it."""
        return self.origin + REGION_PREFIXES[region]

    def realtime_url(self, region: str = "beijing") -> str:
        """The realtime WebSocket URL of a region, as DASHSCOPE_REALTIME_URL would hold it
        (without ?model=: the SDK appends it)."""
        return f"ws://127.0.0.1:{self._realtime.port}{REALTIME_PATHS[region]}"

    def task_url(self, region: str = "beijing") -> str:
        """Qwen-Audio TTS 3.x's task-protocol WebSocket URL of a region."""
        return f"ws://127.0.0.1:{self._realtime.port}{TASK_PATHS[region]}"

    def app_env(self, key: str) -> dict[str, str]:
        """The environment that points the app at this simulator in both regions, with `key`
        (in the order `python -m dashscope_sim` prints it)."""
        return {
            "DASHSCOPE_HTTP_BASE_URL": self.base_url("beijing"),
            "DASHSCOPE_INTL_HTTP_BASE_URL": self.base_url("singapore"),
            "DASHSCOPE_API_KEY": key,
            "DASHSCOPE_REALTIME_URL": self.realtime_url("beijing"),
            "DASHSCOPE_INTL_REALTIME_URL": self.realtime_url("singapore"),
            "DASHSCOPE_TASK_URL": self.task_url("beijing"),
            "DASHSCOPE_INTL_TASK_URL": self.task_url("singapore"),
        }

    # --- test controls --------------------------------------------------------------------------

    def enqueue_fault(
        self, kind: str, after_chunks: int = 1, delay_s: float = 3600.0, times: int = 1
    ) -> None:
        """Make the next `times` requests that reach the generation route fail this way."""
        if kind not in FAULTS and kind not in SPECIAL_FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._faults.extend(Fault(kind, after_chunks, delay_s) for _ in range(times))

    def enqueue_realtime_fault(
        self, kind: str, after_chunks: int = 0, delay_s: float = 3600.0, times: int = 1
    ) -> None:
        """Make the next `times` WebSocket connections fail this way: a row of the error table
        (an `error` event, or task-failed), early_close, never_started or stall, once
        `after_chunks` audio deltas have been sent."""
        if kind not in FAULTS and kind not in REALTIME_FAULTS:
            raise ValueError(f"unknown realtime fault {kind!r}")
        with self._lock:
            self._realtime_faults.extend(Fault(kind, after_chunks, delay_s) for _ in range(times))

    def enqueue_voice_fault(self, kind: str, times: int = 1) -> None:
        """Make the next `times` requests to the customization route fail this way: a row of
        VOICE_ERRORS (audio too short, voice limit...) or of the error table."""
        if kind not in VOICE_ERRORS and kind not in FAULTS:
            raise ValueError(f"unknown voice fault {kind!r}")
        with self._lock:
            self._voice_faults.extend([kind] * times)

    def customization_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(CUSTOMIZATION_PATH)]

    def hold(self) -> None:
        """Receive and record requests, but send no answer until release() (or clear/stop)."""
        self._open.clear()

    def release(self) -> None:
        """Answer the held requests, paced as if they had just arrived."""
        self._open.set()

    def clear(self) -> None:
        """Forget requests, faults, files and custom voices, and go back to an instant upstream."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._voice_faults.clear()
            self._realtime_faults.clear()
            self.realtime_sessions.clear()
            self._files.clear()
            self.handler_errors.clear()
            self._wake.set()
            self._wake = threading.Event()
        self._open.set()
        self.profile = UpstreamProfile()
        self.voice_store.clear()

    def check_handler_errors(self) -> None:
        """Re-raise in the test the first error a handler thread hit."""
        if self.handler_errors:
            raise self.handler_errors[0]

    def generation_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith(GENERATION_PATH)]

    # --- used by the handler --------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        """Wait, unless the simulator is cleared or stopped first (then the client is dropped)."""
        if seconds > 0 and self._wake.wait(seconds):
            raise ClientGone

    def _wait_if_held(self) -> float:
        """Block while held (ending with the client dropped on clear or stop); the seconds held."""
        held_from, wake = time.time(), self._wake
        while not self._open.wait(0.05):
            if wake.is_set():
                raise ClientGone
        return time.time() - held_from

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _next_realtime_fault(self) -> Fault | None:
        with self._lock:
            return self._realtime_faults.pop(0) if self._realtime_faults else None

    def _record_realtime(self, record: RealtimeRecord) -> None:
        with self._lock:
            self.realtime_sessions.append(record)

    def _next_voice_fault(self) -> str | None:
        with self._lock:
            return self._voice_faults.pop(0) if self._voice_faults else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _store_file(self, audio_id: str, pcm: bytes, expires_at: int, delay_s: float) -> None:
        with self._lock:
            self._files[audio_id] = (wav_bytes(pcm), expires_at, delay_s)
            while len(self._files) > FILES_KEPT:
                self._files.popitem(last=False)

    def _file(self, audio_id: str) -> tuple[bytes, int, float] | None:
        with self._lock:
            return self._files.get(audio_id)

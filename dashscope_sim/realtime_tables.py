"""What the real DashScope's WebSocket models offer, written from the voices-and-realtime reference
(dashscope-voices-and-realtime.md §1, §2, §4), not from the app's catalogue.

Every detail the reference marks **unverified** is decided HERE, once, with the reason beside it,
so a wrong guess is a one-line fix: the error event's shape, the names of the `*.done` events,
`session.finished`, the WAV delta's header, the Qwen-Audio host, voices and word-time fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tables import (
    BEIJING_ONLY,
    BOTH_REGIONS,
    LANGUAGE_TYPES,
    QWEN3_INSTRUCT_VOICES,
    QWEN3_TABLE_A,
    QWEN3_TABLE_B,
    QWEN_TTS_DIALECT_VOICES,
    QWEN_TTS_VOICES,
)

# --- Where (§1) ---------------------------------------------------------------------------------
# The realtime route; Singapore shares the port under /intl, as the HTTP routes do here.
REALTIME_PATHS = {"beijing": "/api-ws/v1/realtime", "singapore": "/intl/api-ws/v1/realtime"}
# Qwen-Audio TTS 3.x: a "workspace-specific host" (§4, unverified); the simulator serves the
# task protocol at DashScope's usual duplex route in each region.
TASK_PATHS = {"beijing": "/api-ws/v1/inference", "singapore": "/intl/api-ws/v1/inference"}

# --- Session values (§2) ------------------------------------------------------------------------
MODES = ("server_commit", "commit")
SAMPLE_RATES = (8000, 16000, 24000, 48000)
# mp3 and opus are real formats (§2), but the simulator has no encoder: it refuses them with the
# InvalidParameter row below rather than send bytes that are not what they claim.
FORMATS = ("pcm", "wav")
FORMATS_NOT_SIMULATED = ("mp3", "opus")
RATE_RANGE = (0.5, 2.0)  # speech_rate and pitch_rate
VOLUME_RANGE = (0, 100)
DEFAULT_SESSION = {
    "mode": "server_commit",
    "response_format": "pcm",
    "sample_rate": 24000,
    "speech_rate": 1.0,
    "pitch_rate": 1.0,
    "volume": 50,
}
# In server_commit mode the server speaks what it has once a sentence ends, or once this many
# characters wait without one (unverified: the docs say only "the server decides").
SERVER_COMMIT_MAX_CHARS = 80
SENTENCE_ENDS = "。！？!?；;.\n"

# --- Unverified wire shapes (§2) ------------------------------------------------------------------
# The error event: OpenAI-realtime style {"type": "error", "error": {"type", "code", "message"}}.
ERROR_EVENT_TYPE = "invalid_request_error"
# The events around the audio, in the order sent (only response.done is documented by name).
AUDIO_DONE_EVENTS = (
    "response.audio.done",
    "response.content_part.done",
    "response.output_item.done",
)
SESSION_FINISHED = "session.finished"
# A refused connection (key, model): the error event, then the server closes once the client has
# hung up or after this long (unverified; the app must cope with either order).
REFUSED_CLOSE_AFTER_S = 2.0
# A "wav" response: the first delta starts with a 44-byte RIFF header whose sizes are 0xFFFFFFFF
# (the length is not known when it is sent); the rest is the PCM.
WAV_STREAM_SIZE = 0xFFFFFFFF

# --- Qwen-Audio TTS 3.x (§4) --------------------------------------------------------------------
# Word times: result-generated carries payload.output.sentence {index, words: [{text,
# begin_time, end_time}]} (milliseconds, from the task's start), as the docs' excerpt names them;
# the simulator sends them with sentence-begin (before the sentence's audio) and again with
# sentence-end (which event the real service uses is not documented; the app takes either).
WORD_TIME_FIELDS = ("begin_time", "end_time")
REALTIME_CHUNK_SECONDS = 0.1  # audio per delta (the real service's pace is not documented)


@dataclass(frozen=True)
class RealtimeModel:
    id: str
    protocol: str  # "realtime" (session events) or "task" (run-task / continue-task)
    regions: tuple[str, ...]
    voices: tuple[str, ...]
    language_types: tuple[str, ...] = LANGUAGE_TYPES
    instructions: bool = False
    family: str = ""  # "design" or "clone": speaks only the account's voices of that family
    formats: tuple[str, ...] = FORMATS
    sample_rates: tuple[int, ...] = SAMPLE_RATES
    word_times: bool = False

    def offered_in(self, region: str) -> bool:
        return region in self.regions


_QWEN3 = QWEN3_TABLE_A + QWEN3_TABLE_B


def _qwen3(model_id: str, voices: tuple[str, ...] = _QWEN3, **extra) -> RealtimeModel:
    return RealtimeModel(model_id, "realtime", BOTH_REGIONS, voices, **extra)


def _older(model_id: str) -> RealtimeModel:
    # Qwen-TTS-Realtime: 7 voices, zh/en, 24 kHz PCM only (§1); no language_type; Beijing, as
    # qwen-tts (not said for the realtime one: assumed).
    return RealtimeModel(
        model_id,
        "realtime",
        BEIJING_ONLY,
        QWEN_TTS_VOICES + QWEN_TTS_DIALECT_VOICES,
        language_types=(),
        formats=("pcm",),
        sample_rates=(24000,),
    )


def _audio3(model_id: str) -> RealtimeModel:
    # Voices of Qwen-Audio TTS 3.x: unverified; assumed to be qwen3-tts-flash's 49.
    return RealtimeModel(model_id, "task", BOTH_REGIONS, _QWEN3, word_times=True)


REALTIME_MODELS = (
    _qwen3("qwen3-tts-flash-realtime"),
    _qwen3("qwen3-tts-flash-realtime-2025-11-27"),
    _qwen3("qwen3-tts-flash-realtime-2025-09-18", QWEN3_TABLE_A),
    _qwen3("qwen3-tts-instruct-flash-realtime", QWEN3_INSTRUCT_VOICES, instructions=True),
    _qwen3(
        "qwen3-tts-instruct-flash-realtime-2026-01-22", QWEN3_INSTRUCT_VOICES, instructions=True
    ),
    _older("qwen-tts-realtime"),
    _older("qwen-tts-realtime-latest"),
    _older("qwen-tts-realtime-2025-07-15"),
    _qwen3("qwen3-tts-vc-realtime-2026-01-15", (), family="clone"),
    _qwen3("qwen3-tts-vc-realtime-2025-11-27", (), family="clone"),
    _qwen3("qwen3-tts-vd-realtime-2026-01-15", (), family="design"),
    _qwen3("qwen3-tts-vd-realtime-2025-12-16", (), family="design"),
    _audio3("qwen-audio-3.0-tts-flash"),
    _audio3("qwen-audio-3.1-tts-flash"),
    _audio3("qwen-audio-3.1-tts-plus"),
)


def realtime_model(model_id: object) -> RealtimeModel | None:
    return next((m for m in REALTIME_MODELS if m.id == model_id), None)

"""Custom voices on the simulated DashScope: the customization route (voice design and voice
cloning), written from dashscope-voices-and-realtime.md §1 and §3, not from the app.

Every detail the reference marks **unverified** is a constant or a table row here (names marked
[unverified]), so a wrong guess is a one-line fix. A voice belongs to the account (the key) that
made it and speaks only through its own family of models: designed voices through the VD models,
cloned ones through the VC models.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import threading
import time
import wave
from dataclasses import dataclass, field

import numpy as np

from .audio import render_speech, wav_bytes

CUSTOMIZATION_PATH = "/services/audio/tts/customization"  # §3
DESIGN_MODEL = "qwen-voice-design"
ENROLLMENT_MODEL = "qwen-voice-enrollment"
FAMILY_OF_SERVICE = {DESIGN_MODEL: "design", ENROLLMENT_MODEL: "clone"}
ACTIONS = ("create", "list", "query", "delete")

MAX_PROMPT_CHARS = 2048  # voice_prompt (§3)
NAME_PATTERN = re.compile(r"[A-Za-z0-9_]{1,16}")  # preferred_name (§3)
MAX_AUDIO_BYTES = 10 * 1024 * 1024  # §3
MIN_AUDIO_S = 3.0  # §3
MAX_AUDIO_S = 60.0  # §3
SILENCE_RMS = 100  # [unverified] below this 16-bit RMS a recording counts as silent
ACCOUNT_VOICE_LIMIT = 1000  # [unverified] CosyVoice's documented cap, assumed for Qwen (§1)
DEFAULT_PAGE_SIZE = 10  # [unverified]
# [unverified] the designed voice's name; cloned ones follow the documented form (§3).
NAME_FORMAT = {
    "design": "qwen-tts-vd-{name}-voice-{stamp}",
    "clone": "qwen-tts-vc-{name}-voice-{stamp}",
}
PREVIEW_FORMAT = "wav"  # [unverified] the preview's response_format when none is asked for

# fault or refusal -> (HTTP status, code, message). Only Audio.PreprocessError for a transcript
# mismatch is documented (§3); every other code and message here is [unverified].
VOICE_ERRORS = {
    "audio_too_short": (400, "Audio.PreprocessError", "Audio is too short: at least 3 s."),
    "audio_too_long": (400, "Audio.PreprocessError", "Audio is too long: at most 60 s."),
    "audio_too_large": (400, "Audio.FileTooLarge", "Audio file exceeds 10 MB."),
    "audio_silent": (400, "Audio.PreprocessError", "No valid speech found in audio."),
    "audio_format": (400, "Audio.FormatNotSupported", "Audio format is not supported."),
    "transcript_mismatch": (
        400,
        "Audio.PreprocessError",
        "The text does not match the audio content.",
    ),
    "prompt_too_long": (400, "InvalidParameter", "voice_prompt exceeds 2048 characters."),
    "invalid_name": (
        400,
        "InvalidParameter",
        "preferred_name must be 1-16 characters of letters, digits or underscores.",
    ),
    "voice_limit": (400, "Voice.LimitExceeded", "The number of voices has reached the limit."),
    "voice_not_found": (404, "Voice.NotFound", "The voice does not exist."),
    "wrong_target": (400, "InvalidParameter", "target_model is not supported."),
    "missing_input": (400, "InvalidParameter", "Required input parameter missing."),
}
# Synthesis with a custom voice through a model of the other family, or a voice that is gone.
WRONG_FAMILY = (400, "InvalidParameter", "Voice '{voice}' is not supported by model {model}.")
VOICE_GONE = (400, "InvalidParameter", "Voice '{voice}' does not exist.")

MP3_STARTS = (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


@dataclass
class CustomVoice:
    name: str
    family: str  # "design" or "clone"
    target_model: str
    account: str  # the key that made it
    created_at: float = field(default_factory=time.time)
    details: dict = field(default_factory=dict)  # voice_prompt, preview_text, or the transcript

    def row(self) -> dict:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.created_at))
        return {"voice": self.name, "target_model": self.target_model, "gmt_create": when}


class VoiceStore:
    """Every account's custom voices; safe to use from the handler's threads."""

    def __init__(self) -> None:
        self.voices: dict[str, CustomVoice] = {}
        self.limit = ACCOUNT_VOICE_LIMIT
        self._count = 0
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.voices.clear()
            self.limit = ACCOUNT_VOICE_LIMIT

    def family_of(self, account: str, voice: str) -> str | None:
        """The family of this account's voice, or None if it has no such voice."""
        with self._lock:
            found = self.voices.get(voice)
            return found.family if found and found.account == account else None

    def handle(self, account: str, family: str, body: dict, models: dict[str, str]) -> tuple:
        """(status, payload) for one customization request; `models` maps each model the
        region offers to its family ("" for stock models)."""
        inputs = body.get("input")
        action = inputs.get("action") if isinstance(inputs, dict) else None
        if action not in ACTIONS:
            return VOICE_ERRORS["missing_input"]
        with self._lock:
            if action == "create":
                return self._create(account, family, inputs, body.get("parameters") or {}, models)
            mine = [v for v in self.voices.values() if v.account == account and v.family == family]
            if action == "list":
                return self._list(mine, inputs)
            found = next((v for v in mine if v.name == inputs.get("voice")), None)
            if found is None:
                return VOICE_ERRORS["voice_not_found"]
            if action == "delete":
                del self.voices[found.name]
                return 200, {"voice": found.name}
            return 200, {**found.row(), **found.details}

    def _list(self, mine: list[CustomVoice], inputs: dict) -> tuple:
        index = int(inputs.get("page_index") or 0)
        size = int(inputs.get("page_size") or DEFAULT_PAGE_SIZE)
        page = sorted(mine, key=lambda v: v.created_at)[index * size : (index + 1) * size]
        return 200, {"voice_list": [v.row() for v in page], "total_count": len(mine)}

    def _create(self, account, family, inputs, parameters, models) -> tuple:
        target = inputs.get("target_model")
        if models.get(target) != family:
            return VOICE_ERRORS["wrong_target"]
        name = inputs.get("preferred_name")
        if family == "clone" or name is not None:
            if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
                return VOICE_ERRORS["invalid_name"]
        refusal = _design_refusal(inputs) if family == "design" else _audio_refusal(inputs)
        if refusal:
            return refusal
        if sum(1 for v in self.voices.values() if v.account == account) >= self.limit:
            return VOICE_ERRORS["voice_limit"]
        self._count += 1
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{self._count:04d}"
        voice = CustomVoice(
            NAME_FORMAT[family].format(name=(name or "voice").lower(), stamp=stamp),
            family,
            target,
            account,
        )
        if family == "design":
            voice.details = {k: inputs[k] for k in ("voice_prompt", "preview_text")}
        self.voices[voice.name] = voice
        output = {"voice": voice.name, "target_model": target}
        if family == "design":
            output["preview_audio"] = _preview(target, voice.name, inputs, parameters)
        return 200, output


def _design_refusal(inputs: dict) -> tuple | None:
    prompt, preview = inputs.get("voice_prompt"), inputs.get("preview_text")
    if not isinstance(prompt, str) or not prompt.strip():
        return VOICE_ERRORS["missing_input"]
    if not isinstance(preview, str) or not preview.strip():
        return VOICE_ERRORS["missing_input"]
    if len(prompt) > MAX_PROMPT_CHARS:
        return VOICE_ERRORS["prompt_too_long"]
    return None


def _preview(target: str, voice: str, inputs: dict, parameters: dict) -> dict:
    pcm = render_speech(target, voice, inputs["preview_text"])
    return {
        "data": base64.b64encode(wav_bytes(pcm)).decode(),
        "response_format": parameters.get("response_format") or PREVIEW_FORMAT,
        "sample_rate": 24_000,
    }


def _audio_refusal(inputs: dict) -> tuple | None:
    """Why the recording cannot make a voice, as the service would say it, or None."""
    audio = inputs.get("audio")
    uri = audio.get("data") if isinstance(audio, dict) else None
    if not isinstance(uri, str) or not uri.startswith("data:") or ";base64," not in uri:
        return VOICE_ERRORS["missing_input"]  # the simulator cannot fetch public URLs
    try:
        data = base64.b64decode(uri.split(";base64,", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return VOICE_ERRORS["audio_format"]
    if len(data) > MAX_AUDIO_BYTES:
        return VOICE_ERRORS["audio_too_large"]
    kind = _sniff(data)
    if kind is None:
        return VOICE_ERRORS["audio_format"]
    if kind != "wav":
        return None  # MP3 and M4A are taken on trust: the simulator decodes only WAV
    try:
        with wave.open(io.BytesIO(data)) as reader:
            if reader.getsampwidth() != 2:
                return VOICE_ERRORS["audio_format"]
            seconds = reader.getnframes() / reader.getframerate()
            samples = np.frombuffer(reader.readframes(reader.getnframes()), "<i2")
    except (wave.Error, EOFError):
        return VOICE_ERRORS["audio_format"]
    if seconds < MIN_AUDIO_S:
        return VOICE_ERRORS["audio_too_short"]
    if seconds > MAX_AUDIO_S:
        return VOICE_ERRORS["audio_too_long"]
    if not samples.size or np.sqrt(np.mean(samples.astype(float) ** 2)) < SILENCE_RMS:
        return VOICE_ERRORS["audio_silent"]
    return None


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(MP3_STARTS):
        return "mp3"
    if data[4:8] == b"ftyp":
        return "m4a"
    return None

"""Custom voices: the customization route (design and cloning), and its failures."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import requests

from .. import errors
from ..messages import say
from .failures import _network_error, _unreadable, error_for_response
from .request import Upstream

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

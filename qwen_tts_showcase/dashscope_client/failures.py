"""Turning DashScope's failures into typed errors with a message key."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from .. import errors
from ..messages import Message, say
from .request import Upstream

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

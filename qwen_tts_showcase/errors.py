"""Every error the demo shows to a visitor.

    DemoError                     str(err) is safe to show to a visitor (English, then Chinese)
    ├── InputError                bad text, voice, model, language or key; raised before any request
    ├── LimitReachedError         a quota of this demo was reached (.retry_after_s); before a request
    └── DashScopeError            .code .status_code .request_id .retryable
        ├── MissingKeyError       no key; raised before any request is sent
        ├── InvalidKeyError       401 InvalidApiKey (wrong key, or a key of the other region)
        ├── AccessDeniedError     403 *, Arrearage
        ├── ContentRejectedError  DataInspectionFailed
        ├── BadRequestError       other 4xx
        ├── RateLimitError        429 Throttling*                          retryable
        ├── ServiceError          5xx, unreadable response                 retryable
        ├── ConnectionFailedError refused or dropped connection            retryable
        ├── UpstreamTimeoutError  no answer within the timeout
        ├── IncompleteAudioError  a stream that stopped before its last frame
        └── AudioDownloadError    the audio URL is expired or unreachable

Messages say what happened and what to do. They never hold the key, the raw body or audio.
"""

from __future__ import annotations

from .messages import Message, in_both, say

ECHO_CHARS = 40  # the most of a visitor's value a message repeats


def echo(value: object) -> str:
    """A visitor's value as a message repeats it: quoted, escaped by repr, and kept short."""
    shown = repr(value)
    return shown if len(shown) <= ECHO_CHARS else shown[: ECHO_CHARS - 1] + "…"


class DemoError(Exception):
    """An error whose text is written for people: a Message from the catalogue (messages.py)."""

    def __init__(self, message: Message) -> None:
        self.msg = message
        super().__init__(self.en)

    def text(self, language: str) -> str:
        """The message in one language ("en" or "zh")."""
        return self.msg.text(language)

    @property
    def en(self) -> str:
        return self.text("en")

    @property
    def zh(self) -> str:
        return self.text("zh")

    def message(self, prefer_chinese: bool = False) -> str:
        """Both languages, the visitor's first."""
        return in_both(self, prefer_chinese)

    def __str__(self) -> str:
        return self.message()


def unexpected_error() -> DemoError:
    """What a visitor is told of a bug in the demo; the details go to the log only."""
    return DemoError(say("unexpected_error"))


class InputError(DemoError):
    """The request was refused before reaching DashScope."""


class LimitReachedError(DemoError):
    """A visitor, an address or the owner's key reached a limit the Space sets (see quota.py)."""

    def __init__(self, message: Message, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DashScopeError(DemoError):
    """DashScope (or the way to it) failed; carries the machine details as attributes."""

    retryable = False

    def __init__(
        self,
        message: Message,
        *,
        code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.code = code
        self.status_code = status_code
        self.request_id = request_id
        super().__init__(message)

    def details(self) -> list[Message]:
        """HTTP status, code and request id, as far as DashScope sent them ([] when it said nothing)."""
        if not (self.code or self.request_id):
            return []
        return [
            *([say("detail_status", status=self.status_code)] if self.status_code else []),
            *([say("detail_code", code=self.code)] if self.code else []),
            *([say("detail_request_id", request_id=self.request_id)] if self.request_id else []),
        ]

    def text(self, language: str) -> str:
        """The message, then what DashScope said: "… (HTTP 429, code Throttling, request id …)"."""
        message, details = super().text(language), self.details()
        if not details:
            return message
        joined = ", ".join(detail.text(language) for detail in details)
        return say("error_details", message=message, details=joined).text(language)


class MissingKeyError(DashScopeError):
    pass


class InvalidKeyError(DashScopeError):
    pass


class AccessDeniedError(DashScopeError):
    pass


class ContentRejectedError(DashScopeError):
    pass


class BadRequestError(DashScopeError):
    pass


class RateLimitError(DashScopeError):
    retryable = True


class ServiceError(DashScopeError):
    retryable = True


class ConnectionFailedError(DashScopeError):
    retryable = True


class UpstreamTimeoutError(DashScopeError):
    pass


class IncompleteAudioError(DashScopeError):
    pass


class AudioDownloadError(DashScopeError):
    pass

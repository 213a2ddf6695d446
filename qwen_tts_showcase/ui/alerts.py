"""What a visitor sees when something fails: one calm sentence in their language, never a
traceback or the key; the rest (code, request id, the other language) folded away."""

from __future__ import annotations

import html
import logging
import re
from functools import partial

import gradio as gr

from ..errors import DashScopeError, DemoError, MissingKeyError, unexpected_error
from ..messages import say
from .i18n import prefers_chinese

log = logging.getLogger(__name__)

# Where a message's first sentence ends: a full stop (or ! ?) before a space and a capital, or
# a Chinese full stop. What follows is the detail a visitor may unfold.
_SENTENCE_END = {
    "en": re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])"),
    "zh": re.compile(r"(?<=[。！？])"),
}


def first_sentence(text: str, language: str) -> tuple[str, str]:
    """The text's first sentence, and the rest ("" when it is one sentence)."""
    parts = _SENTENCE_END[language].split(text, maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


def calm_message(err: DemoError, chinese: bool) -> str:
    """One short sentence in the visitor's language, then <details> with the rest of it, what
    DashScope said (code, request id) and the whole message in the other language. HTML: the
    message can echo what the visitor sent (a voice name), so every piece is escaped."""
    first, other = ("zh", "en") if chinese else ("en", "zh")
    escape = partial(html.escape, quote=False)
    plain = DemoError.text(err, first)  # without DashScope's details, which go below
    headline, rest = first_sentence(plain, first)
    folded = [escape(rest)] if rest else []
    if isinstance(err, DashScopeError):
        folded += [escape(detail.text(first)) for detail in err.details()]
    folded.append(f'<span lang="{other}">{escape(DemoError.text(err, other))}</span>')
    action = ""
    if isinstance(err, MissingKeyError):  # what the visitor can do, not only the Space's owner
        action = f' <a href="#connection">{escape(say("toast_open_connection").text(first))}</a>'
    summary = escape(say("toast_details").text(first))
    body = "<br>".join(folded)
    return (
        f"{escape(headline)}{action}"
        f'<details class="toast-details"><summary>{summary}</summary>{body}</details>'
    )


def as_gradio_error(err: DemoError, request: gr.Request | None, calm: bool = True) -> gr.Error:
    """The error as a calm toast worded in the browser's language (studio.js titles it in the
    page's language: Gradio titles a group of toasts by their type, in English). calm=False:
    plain text in both languages, the browser's first, for API callers (no HTML)."""
    log.info("Synthesis refused or failed: %s", type(err).__name__)
    chinese = prefers_chinese(request)
    # Toasts render HTML; the message can echo what the visitor sent (a voice name).
    message = calm_message(err, chinese) if calm else html.escape(err.message(chinese), quote=False)
    return gr.Error(message, duration=None, print_exception=False)


def unexpected(exc: Exception) -> gr.Error:
    """A generic message for a bug; the details go to the log only."""
    log.exception("Unexpected failure", exc_info=exc)
    return gr.Error(str(unexpected_error()), duration=None, print_exception=False)

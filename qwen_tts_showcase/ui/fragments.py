"""Small pieces of the page's HTML: result numbers, voice headings, errors in place."""

from __future__ import annotations

import html

from ..catalogue import Voice
from ..errors import DemoError
from ..messages import say
from ..speech import SpeechResult
from .i18n import bilingual, localized_html


def _words(key: str) -> str:
    return localized_html(say(key))


def _item(label: str, value: str, name: str) -> str:
    return (
        f'<div class="stat stat-{name}"><span class="stat-label">{label}</span>'
        f'<span class="stat-value">{value}</span></div>'
    )


def readout_html(result: SpeechResult) -> str:
    """Time to first audio, total time, audio length, real-time factor and what was billed.

    The values are also data attributes, so tests read numbers rather than parse prose.
    """
    unit = _words("readout_characters" if result.billing == "characters" else "readout_tokens")
    items = [
        _item(_words("readout_first_audio"), f"{result.first_audio_s:.2f} s", "first"),
        _item(_words("readout_total_time"), f"{result.total_s:.2f} s", "total"),
        _item(_words("readout_audio_length"), f"{result.audio_s:.2f} s", "audio"),
        _item(_words("readout_realtime_factor"), f"{result.realtime_factor:.2f}", "rtf"),
        _item(_words("readout_billed"), f"{result.billed} {unit}", "billed"),
    ]
    if result.parts > 1:
        items.append(_item(_words("readout_requests"), str(result.parts), "parts"))
    if result.cached:
        items.append(_item(_words("readout_source"), _words("readout_cached"), "cached"))
    attributes = {
        "first-audio-s": f"{result.first_audio_s:.3f}",
        "total-s": f"{result.total_s:.3f}",
        "audio-s": f"{result.audio_s:.3f}",
        "rtf": f"{result.realtime_factor:.3f}",
        "billed": str(result.billed),
        "billing": result.billing,
        "parts": str(result.parts),
        "cached": "true" if result.cached else "false",
    }
    data = " ".join(f'data-{name}="{value}"' for name, value in attributes.items())
    request_id = html.escape(result.request_id or "—")
    return (
        f'<div class="readout" {data}>{"".join(items)}</div>'
        f'<div class="request-id">{_words("readout_request_id")} '
        f"<code>{request_id}</code></div>"
    )


def voice_heading(voice: Voice, badge: str) -> str:
    """A voice's name in both scripts and a badge (its dialect or the sample's language)."""
    return (
        f'<div class="voice-heading"><span class="voice-name">{html.escape(voice.name)}</span>'
        f'<span class="voice-name-zh">{html.escape(voice.zh_name)}</span>'
        f'<span class="badge">{badge}</span></div>'
    )


def dialect_badge(voice: Voice) -> str:
    return bilingual(html.escape(voice.variety_en), html.escape(voice.variety_zh))


def error_html(err: DemoError) -> str:
    """A failure shown in place of a result (where a toast would hide the others' results)."""
    return f'<div class="result-error">{localized_html(err)}</div>'


def pending_html() -> str:
    return f'<div class="pending">{_words("generating")}</div>'

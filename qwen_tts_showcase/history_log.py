"""A visitor's generations as plain JSON rows, kept in their browser (never a key, never audio)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from .messages import say
from .speech import SpeechResult

HISTORY_LIMIT = 50  # rows kept per browser, newest first
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # UTC
TEXT_PREVIEW_CHARS = 48
# Each field and the type a row from the browser must have; anything else is dropped on read,
# since the browser's storage is the visitor's to edit.
ROW_FIELDS = {
    "time": str,
    "model": str,
    "voice": str,
    "text": str,
    "audio_s": float,
    "first_audio_s": float,
    "total_s": float,
    "billed": int,
    "billing": str,
    "cache_key": str,
}


class _Headings(Sequence[str]):
    """Headings from the message catalogue, read when first used, not at import."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys

    def __getitem__(self, index):
        return [say(key).en for key in self.keys][index]

    def __len__(self) -> int:
        return len(self.keys)


# The table's headings (English; the page shows them in the visitor's language: ui/history.py).
COLUMNS = _Headings(
    (
        "history_column_time",
        "history_column_voice",
        "history_column_model",
        "history_column_text",
        "history_column_audio",
        "history_column_first",
        "history_column_total",
    )
)
COLUMN_WIDTHS = ["16%", "10%", "15%", "32%", "9%", "9%", "9%"]


def history_row(result: SpeechResult, when: datetime) -> dict:
    """One generation as the browser stores it: what was asked, how it went, where the audio is."""
    request = result.request
    return {
        "time": when.astimezone(timezone.utc).strftime(TIME_FORMAT),
        "model": request.model,
        "voice": request.voice,
        "text": request.text,
        "audio_s": round(result.audio_s, 2),
        "first_audio_s": round(result.first_audio_s, 3),
        "total_s": round(result.total_s, 3),
        "billed": result.billed,
        "billing": result.billing,
        "cache_key": result.cache_key,
    }


def row_time(row: dict) -> datetime:
    """When a row's audio was made, in UTC."""
    return datetime.strptime(row["time"], TIME_FORMAT).replace(tzinfo=timezone.utc)


def _is_row(row: object) -> bool:
    if not isinstance(row, dict):
        return False
    typed = all(
        isinstance(row.get(name), (int, float) if kind is float else kind)
        and not isinstance(row.get(name), bool)
        for name, kind in ROW_FIELDS.items()
    )
    try:
        return typed and bool(row_time(row))
    except ValueError:
        return False


def valid_rows(rows: object) -> list[dict]:
    """The well-formed rows of what the browser sent, newest first, at most HISTORY_LIMIT."""
    if not isinstance(rows, list):
        return []
    return [{name: row[name] for name in ROW_FIELDS} for row in rows if _is_row(row)][
        :HISTORY_LIMIT
    ]


def add_rows(rows: object, new_rows: list[dict]) -> list[dict]:
    """The history with new rows on top, the oldest beyond HISTORY_LIMIT dropped."""
    return (list(reversed(new_rows)) + valid_rows(rows))[:HISTORY_LIMIT]


def preview(text: str, limit: int = TEXT_PREVIEW_CHARS) -> str:
    """The start of a text on one line, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def table_rows(rows: list[dict]) -> list[list]:
    """What the history table shows, one list per row, in COLUMNS order."""
    return [
        [
            row["time"],
            row["voice"],
            row["model"],
            preview(row["text"]),
            row["audio_s"],
            row["first_audio_s"],
            row["total_s"],
        ]
        for row in rows
    ]

"""Every sentence a visitor reads, from one data file (data/messages.json), in English and Chinese.

Code names a key; the file holds the words. A key's text may hold `{name}` fields, filled from
the keyword arguments given to say(); a field whose value is itself a Message (or a Both, a name
another data file gives in both languages) is rendered in the same language, so messages compose
("{reason}; retrying in {delay_s} s").

    say("no_text").en                       -> "There is no text to speak. ..."
    say("too_long", length=6000, cap=5000).text("zh")
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from .datafiles import DataFileError, data_path, load_json

MESSAGES_FILE = data_path("messages.json")
LANGUAGES = ("en", "zh")


class MessageCatalogueError(DataFileError):
    """The messages file is malformed, or code asked for a key it does not hold."""


@dataclass(frozen=True)
class Both:
    """A value in both languages from another data file (a region's name), to fill a field."""

    en: str
    zh: str

    def text(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class Message:
    """A keyed sentence with its fields; rendered on demand in either language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, language: str) -> str:
        """The sentence in `language` ("en" or "zh"), its fields filled."""
        template = catalogue()[self.key][language]
        values = {
            name: value.text(language) if isinstance(value, (Message, Both)) else value
            for name, value in self.params.items()
        }
        return template.format_map(values)

    @property
    def en(self) -> str:
        return self.text("en")

    @property
    def zh(self) -> str:
        return self.text("zh")


def listing(items: Iterable[Message | Both]) -> Both:
    """Items joined by the catalogue's list separator, in each language (to fill one field)."""
    items, separator = list(items), say("list_separator")
    en, zh = (separator.text(lang).join(item.text(lang) for item in items) for lang in LANGUAGES)
    return Both(en, zh)


def in_both(message: Message, prefer_chinese: bool = False) -> str:
    """Both languages on two lines, the visitor's first: for toasts, which gr.I18n cannot reach.

    Anything with .text(language) will do (a DemoError too)."""
    first, second = ("zh", "en") if prefer_chinese else ("en", "zh")
    return f"{message.text(first)}\n{message.text(second)}"


def say(key: str, **params: object) -> Message:
    """The message `key`, checked to exist and to get exactly the fields its text names."""
    entry = catalogue().get(key)
    if entry is None:
        raise MessageCatalogueError(f"{MESSAGES_FILE.name}: no message {key!r}")
    wanted = fields_of(entry["en"])
    if wanted != set(params):
        raise MessageCatalogueError(
            f"{MESSAGES_FILE.name}: message {key!r} takes {sorted(wanted)}, got {sorted(params)}"
        )
    return Message(key, params)


def fields_of(template: str) -> set[str]:
    """The `{name}` fields a template fills (format specs and conversions aside)."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """{key: {"en": ..., "zh": ...}}, read once and checked: both languages, the same fields."""
    raw = load_json(MESSAGES_FILE)
    messages = {key: entry for key, entry in raw.items() if not key.startswith("_")}
    for key, entry in messages.items():
        if not isinstance(entry, dict) or set(entry) != set(LANGUAGES):
            raise MessageCatalogueError(f"{MESSAGES_FILE.name}: {key!r} needs exactly {LANGUAGES}")
        if not all(isinstance(entry[lang], str) and entry[lang].strip() for lang in LANGUAGES):
            raise MessageCatalogueError(f"{MESSAGES_FILE.name}: {key!r} has an empty text")
        if fields_of(entry["en"]) != fields_of(entry["zh"]):
            raise MessageCatalogueError(
                f"{MESSAGES_FILE.name}: {key!r}: English and Chinese fill different fields"
            )
    return messages

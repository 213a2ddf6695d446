"""The message catalogue: every key in both languages with the same fields, every key used, and
no visitor's sentence left in the code (no Han character in any module of the package)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qwen_tts_showcase.datafiles import load_json
from qwen_tts_showcase.errors import DashScopeError, DemoError
from qwen_tts_showcase.messages import (
    MESSAGES_FILE,
    Both,
    MessageCatalogueError,
    catalogue,
    fields_of,
    say,
)
from qwen_tts_showcase.ui.theme import page_head

PACKAGE = Path(__file__).parent.parent / "qwen_tts_showcase"
PAGE_SCRIPT = PACKAGE / "ui" / "assets" / "page.js"
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # as page.js counts them
# Keys that no code names as a literal because they are built from parts. Keep it short.
COMPOSED_KEYS: frozenset[str] = frozenset()


def _entries() -> dict[str, object]:
    return {key: entry for key, entry in load_json(MESSAGES_FILE).items() if key[0] != "_"}


def _sources() -> dict[Path, str]:
    files = sorted(PACKAGE.rglob("*.py")) + sorted(PAGE_SCRIPT.parent.glob("*.js"))
    return {path: path.read_text(encoding="utf-8") for path in files}


def test_every_message_has_english_and_chinese_and_nothing_else():
    lacking = {
        key: entry
        for key, entry in _entries().items()
        if not isinstance(entry, dict)
        or set(entry) != {"en", "zh"}
        or not all(isinstance(text, str) and text.strip() for text in entry.values())
    }
    assert lacking == {}


def test_english_and_chinese_fill_the_same_fields():
    different = {
        key: (sorted(fields_of(entry["en"])), sorted(fields_of(entry["zh"])))
        for key, entry in _entries().items()
        if fields_of(entry["en"]) != fields_of(entry["zh"])
    }
    assert different == {}


def test_every_message_is_named_by_the_code_or_the_page_script():
    code = "\n".join(_sources().values())
    unused = sorted(
        key
        for key in _entries()
        if key not in COMPOSED_KEYS and f'"{key}"' not in code and f"'{key}'" not in code
    )
    assert unused == []


def test_no_module_of_the_package_holds_a_han_character():
    """Chinese lives in the data files; code names message keys."""
    offenders = {
        str(path.relative_to(PACKAGE)): len(HAN.findall(text))
        for path, text in _sources().items()
        if path.suffix == ".py" and HAN.search(text)
    }
    assert offenders == {}


def test_the_page_script_has_no_words_of_its_own_and_gets_its_messages_in_the_head():
    assert not HAN.search(PAGE_SCRIPT.read_text(encoding="utf-8"))
    head = page_head()
    assert head.index("window.qwenTtsMessages = {") < head.index("window.qwenTts = {")
    assert catalogue()["page_queue_full"]["zh"] in head


def test_a_message_fills_its_fields_in_each_language_and_composes():
    reason = say("stream_cut_short")
    message = say("partial_audio", reason=reason)
    assert (
        message.en == reason.en + " Playback stopped part-way; the incomplete audio was not kept."
    )
    assert message.zh.startswith(reason.zh) and not HAN.search(message.en)
    region = say("names_and", first=Both("Beijing", "北"), second=Both("Singapore", "新"))
    assert (region.en, region.zh) == ("Beijing and Singapore", "北、新")


def test_asking_for_an_unknown_key_or_the_wrong_fields_fails_naming_the_key():
    with pytest.raises(MessageCatalogueError, match="no message 'no_such_key'"):
        say("no_such_key")
    with pytest.raises(MessageCatalogueError, match=r"'span_s' takes \['seconds'\], got \[\]"):
        say("span_s")


def test_every_message_pointing_at_the_key_field_names_it_the_same_way():
    """The section is "Connection", the field "Your DashScope API key", in both languages."""
    where = say("where_key")
    assert where.en == "Connection → Your DashScope API key"
    assert catalogue()["ui_connection"]["en"].startswith("Connection")
    assert catalogue()["ui_api_key"]["en"].startswith("Your DashScope API key")
    for key in ("ui_no_key",):
        entry = catalogue()[key]
        assert where.en in entry["en"] and where.zh in entry["zh"]
    for text in catalogue().values():
        assert "Settings → API key" not in text["en"] and "'API key'" not in text["en"]


def test_dashscope_details_follow_the_message_in_its_language():
    err = DashScopeError(say("throttled"), code="Throttling", status_code=429, request_id="r-1")
    assert err.en.endswith(" (HTTP 429, code Throttling, request id r-1)")
    assert err.zh.endswith("（HTTP 429, code Throttling, 请求 ID r-1）")
    assert str(err) == f"{err.en}\n{err.zh}" and err.message(True) == f"{err.zh}\n{err.en}"
    assert DemoError(say("unexpected_error")).zh == catalogue()["unexpected_error"]["zh"]

"""The page's counter measures text exactly as the server does (window.qwenTts vs text.py)."""

from __future__ import annotations

import random

from qwen_tts_showcase.text import clean_text, input_size

from ..helpers import HARD_STRINGS, HARD_STRINGS_JSON

# The file's text is parsed in the page: lone surrogates would not survive Playwright's transport.
MEASURE_HARD_STRINGS = """(json) => JSON.parse(json).map(({ text }) => [
  window.qwenTts.measure(text, "characters"), window.qwenTts.measure(text, "tokens"),
])"""


def test_the_page_measures_each_hard_string_as_the_server_does(open_page):
    page = open_page()
    in_browser = page.evaluate(MEASURE_HARD_STRINGS, HARD_STRINGS_JSON)
    listed = [[case["characters"], case["tokens"]] for case in HARD_STRINGS]
    on_server = [
        [input_size(clean_text(case["text"]), unit) for unit in ("characters", "tokens")]
        for case in HARD_STRINGS
    ]
    assert on_server == listed, "tests/test_text_and_audio.py says which"
    mismatches = [
        (case["why"], browser, server)
        for case, browser, server in zip(HARD_STRINGS, in_browser, on_server, strict=True)
        if browser != server
    ]
    assert mismatches == []


def random_texts(count: int, seed: int = 7) -> list[str]:
    alphabet = (
        "ab Zé_9 ,.!?你好世界。，！、“”'\"\t\n\r\u200b\u00ad🎉Ж한ア〇½\u3000\u0301\u200d\U0001f3fd"
    )
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]


def test_the_page_measures_random_mixes_as_the_server_does(open_page):
    page = open_page()
    texts = random_texts(300)
    for unit in ("tokens", "characters"):
        in_browser = page.evaluate(
            "([texts, unit]) => texts.map(t => window.qwenTts.measure(t, unit))", [texts, unit]
        )
        on_server = [input_size(clean_text(t), unit) for t in texts]
        counts = zip(texts, in_browser, on_server, strict=True)
        assert [(text, b, s) for text, b, s in counts if b != s] == []

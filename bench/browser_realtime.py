"""The realtime models in Chromium (run by bench/realtime.py): how far the word lit during a live
stream is from the audio clock when it lights up, speak-as-written's first sound from the first
word sent (a paragraph whose first sentence is long), and speak-as-I-type's first sound from the
first typed character. The app runs in this process against the simulator; Playwright drives
Debian's Chromium (bench/browser.py)."""

from __future__ import annotations

import os
import statistics
import time

from bench.browser import CHROMIUM_ARGS, DONE_TIMEOUT_MS, LIVE_TAP_JS, _executable, available
from bench.services import free_port
from dashscope_sim import DashScopeSimulator, UpstreamProfile
from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.config import Settings

QWEN_AUDIO = "Qwen-Audio TTS 3.1 Flash"  # qwen-audio-3.1-tts-flash, as the model picker names it
REALTIME = "Qwen3-TTS Flash Realtime"  # qwen3-tts-flash-realtime
DRIFT_TEXT = (
    "Here is how the words light up while the voice speaks them. Each one should turn on as it "
    "is heard, not before and not after. The audio clock decides, not the network."
)
TYPED_TEXT = "Sure! Here is how a voice sounds while you are still typing."
DRIFT_BOUND_MS = 50  # the bound
KEY_DELAY_MS = 200  # a typist at about 60 words a minute
# Every word lit in the live box, the first time it lights: the played position (ms of the
# run's audio, from the AudioContext's clock as realtime.js reads it, the player's inserted
# silences taken out) against the word's begin_time. A MutationObserver sees the class change
# in the same frame as it happens.
DRIFT_JS = """() => {
  window.__drift = [];
  const lit = new Set();
  const shown = new Map();  // begin -> played position when the word first appeared in the box
  const heard = (run, ctx) => {
    let frames = Math.floor(ctx.currentTime * 24000) - run.firstFrame;
    for (const [at, length] of run.gaps) {
      if (frames < at) break;
      frames = Math.max(at, frames - length);
    }
    return frames / 24;
  };
  new MutationObserver((mutations) => {
    const run = window.qwenTts.live.current();
    const ctx = window.qwenTts.live.clock();
    if (!run || !ctx || run.firstFrame === null) return;
    const now = heard(run, ctx);
    for (const span of document.querySelectorAll('#live_words .spoken')) {
      if (!shown.has(span.dataset.begin)) shown.set(span.dataset.begin, now);
    }
    for (const { target } of mutations) {
      if (!target.classList.contains('lit') || !target.closest('#live_words')) continue;
      if (lit.has(target.dataset.begin)) continue;
      lit.add(target.dataset.begin);
      window.__drift.push({ begin: +target.dataset.begin, heard: now, done: run.done,
                            shown: shown.get(target.dataset.begin) });
    }
  }).observe(document.body, { subtree: true, attributes: true, childList: true,
                              attributeFilter: ['class'] });
}"""
HEARD_ALL_JS = """() => { const run = window.qwenTts.live.current();
  return run && run.state === 'complete' && run.sources.size === 0; }"""
KEYS_JS = """() => {
  window.__keys = { first: null, sentence: null };
  window.addEventListener('keydown', (event) => {
    const at = performance.timeOrigin + performance.now();
    if (window.__keys.first === null) window.__keys.first = at;
    if (window.__keys.sentence === null && '.!?'.includes(event.key)) window.__keys.sentence = at;
  }, true);
}"""


def in_chromium(
    simulator: DashScopeSimulator, settings: Settings, runs: int, written_text: str
) -> None:
    """Print the drift, speak-as-written and typing tables (or say why not)."""
    if not available():
        print("\nChromium or Playwright is missing: the browser measures are skipped.")
        return
    from playwright.sync_api import sync_playwright

    from qwen_tts_showcase.ui import build_demo, launch_options

    demo = build_demo(settings, load_catalogue())
    _, url, _ = demo.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(settings),
    )
    profile = simulator.profile
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_executable(), args=CHROMIUM_ARGS)
            try:
                # about real time: the words play while the stream is still arriving
                simulator.profile = UpstreamProfile(profile.first_chunk_delay_s, 0.9)
                drifts = [drift(browser, url) for _ in range(runs)]
                simulator.profile = profile
                written = [writing(browser, url, simulator, written_text) for _ in range(runs)]
                typed = [typing(browser, url) for _ in range(runs)]
            finally:
                browser.close()
    finally:
        simulator.profile = profile
        demo.close()
    report(drifts, typed)
    report_written(written_text, written)


def page_with(browser, url: str, model: str):
    page = browser.new_page()
    page.goto(url)
    page.wait_for_selector("#input_counter .input-counter")
    page.locator("#model input").click()
    page.get_by_role("option", name=model, exact=True).click()
    return page


def drift(browser, url: str) -> list[dict]:
    """One Qwen-Audio stream through the live player: each word's {begin, heard, done}."""
    page = page_with(browser, url, QWEN_AUDIO)
    page.locator("#text textarea").fill(DRIFT_TEXT)
    page.evaluate(DRIFT_JS)
    page.locator("#generate").click()
    page.wait_for_function(HEARD_ALL_JS, timeout=DONE_TIMEOUT_MS)
    found = page.evaluate("() => window.__drift")
    page.close()
    return found


def writing(browser, url: str, simulator: DashScopeSimulator, text: str) -> dict:
    """Speak as it is written, pressed in Chromium: seconds from the first piece of text the
    simulator received to the first sound at the output, and the silences over 30 ms heard
    after it (the player's own count: the writing is slower than the speech)."""
    page = page_with(browser, url, REALTIME)
    page.locator("#speak_as_written input").check()
    page.locator("#text textarea").fill(text)
    page.evaluate(LIVE_TAP_JS)
    before = len(simulator.realtime_sessions)
    page.locator("#generate").click()
    page.wait_for_function("() => window.__meter.firstSoundAt !== null", timeout=DONE_TIMEOUT_MS)
    page.wait_for_function(HEARD_ALL_JS, timeout=DONE_TIMEOUT_MS)
    meter = page.evaluate("() => window.__meter")
    page.close()
    session = simulator.realtime_sessions[before]
    return {
        "first_sound": meter["firstSoundAt"] / 1000 - session.first_text_at,
        "gaps": [frames / 24 for frames in meter["gaps"]],
    }


def report_written(text: str, written: list[dict]) -> None:
    times = [run["first_sound"] for run in written]
    gaps = [len(run["gaps"]) for run in written]
    silent = [sum(run["gaps"]) / 1000 for run in written]
    print(f"\nSpeak as it is written, pressed in Chromium ({text!r}):\n")
    print("| From the first word sent to the first sound | Silences over 30 ms after it, per run |")
    print("|---|---|")
    print(
        f"| {statistics.median(times):.3f} s ({min(times):.3f}–{max(times):.3f}) "
        f"| {statistics.median(gaps):g} ({statistics.median(silent):.2f} s) |"
    )


def typing(browser, url: str) -> dict:
    """Speak as I type, one key every KEY_DELAY_MS: when the first key went down, when the
    first sentence's end did, and when the first sound reached the output (seconds)."""
    page = page_with(browser, url, REALTIME)
    page.locator("#speak_as_typed input").check()
    page.locator("#text textarea").fill("")
    page.locator("#text textarea").click()
    page.evaluate(LIVE_TAP_JS)
    page.evaluate(KEYS_JS)
    page.keyboard.type(TYPED_TEXT, delay=KEY_DELAY_MS)
    page.wait_for_function("() => window.__meter.firstSoundAt !== null", timeout=DONE_TIMEOUT_MS)
    page.wait_for_function(HEARD_ALL_JS, timeout=DONE_TIMEOUT_MS)
    keys = page.evaluate("() => window.__keys")
    sound = page.evaluate("() => window.__meter.firstSoundAt")
    page.close()
    time.sleep(0.5)
    return {
        "from_first_key": (sound - keys["first"]) / 1000,
        "from_sentence_end": (sound - keys["sentence"]) / 1000,
    }


def report(drifts: list[list[dict]], typed: list[dict]) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    words = [word for run in drifts for word in run]
    streaming = [word for word in words if not word["done"]]
    gaps = [word["heard"] - word["begin"] for word in words]
    print(f"\nChromium, Qwen-Audio through the live player, {len(drifts)} runs, {len(words)} words")
    print(f"({len(streaming)} of them lit while the stream was still arriving):\n")
    late = [w for w in words if abs(w["heard"] - w["begin"]) > DRIFT_BOUND_MS]
    came_late = [w for w in late if w["shown"] is not None and w["shown"] > w["begin"]]
    p95 = statistics.quantiles(gaps, n=20)[-1] if len(gaps) > 1 else gaps[0]
    print("| Lit word vs audio clock at its start | Median | 95th percentile | Max (absolute) |")
    print("|---|---|---|---|")
    print(
        f"| heard position when the word lights, minus its begin_time | "
        f"{statistics.median(gaps):.1f} ms | {p95:.1f} ms | {max(abs(g) for g in gaps):.1f} ms |"
    )
    print(
        f"\nWords lit more than {DRIFT_BOUND_MS} ms off: {len(late)} of {len(words)}; of those, "
        f"{len(came_late)} reached the page only after their audio had started playing "
        f"(per run: {[sum(abs(w['heard'] - w['begin']) > DRIFT_BOUND_MS for w in r) for r in drifts]}"
        f"; load average {load}, 2 cores)."
    )
    print(f"\nSpeak as I type, one key every {KEY_DELAY_MS} ms ({TYPED_TEXT!r}):\n")
    print("| First sound | Median (min–max) |")
    print("|---|---|")
    for name, key in (
        ("from the first typed character", "from_first_key"),
        ("from the key that ends the first sentence", "from_sentence_end"),
    ):
        times = [run[key] for run in typed]
        print(f"| {name} | {statistics.median(times):.3f} s ({min(times):.3f}–{max(times):.3f}) |")

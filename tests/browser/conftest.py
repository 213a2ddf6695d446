"""Browser tests: Debian's Chromium, driven by Playwright, against the real app and the simulator.

Chromium cannot be downloaded here (`playwright install` needs a CDN), so the tests use the
distribution's package and install it with apt-get, once, when it is missing. Every request the
page makes outside the app is refused, except the blog's recordings, which are served a local WAV.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import pcm_to_wav

CHROMIUM = Path("/usr/bin/chromium")
# expect() polls; its 5 s default is short for a server round trip on a busy 2-core CI machine.
# A bound on waiting, never an assertion about speed.
expect.set_options(timeout=15_000)
CJK_FONTS = Path("/usr/share/fonts/opentype/noto")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OFFICIAL_AUDIO_HOST = "qianwen-res.oss-cn-beijing.aliyuncs.com"
OFFICIAL_AUDIO = pcm_to_wav(render_speech("blog", "blog", "官方录音", seconds=2.0))
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# Records every media element that starts playing, including the ones Gradio's waveform player
# keeps out of the DOM, so a test can ask whether (and how far) it played.
PLAY_RECORDER = """
window.__played = [];
const originalPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  if (!window.__played.includes(this)) window.__played.push(this);
  return originalPlay.apply(this, arguments);
};
"""


def _missing_packages() -> list[str]:
    missing = [] if CHROMIUM.exists() else ["chromium"]
    if not any(CJK_FONTS.glob("NotoSansCJK*")):
        missing.append("fonts-noto-cjk")  # without it Chinese renders as boxes
    return missing


def _install(packages: list[str]) -> str:
    """apt-get install the packages; an empty string on success, else why it failed."""
    if os.geteuid() != 0:
        return "installing them needs root"
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    return ""


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium (and CJK fonts), installed with apt-get if missing."""
    missing = _missing_packages()
    if missing:
        failure = _install(missing)
        if failure or _missing_packages():
            pytest.skip(f"browser tests need the Debian packages {missing}: {failure}")
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium: Path) -> Iterator[Browser]:
    """One Chromium for the browser tests; closed before the other tests run, since Playwright's
    event loop in the main thread would be in the way of theirs."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser, app) -> Iterator[Callable[..., Page]]:
    """A factory: the app in a fresh browser context (own storage, as a new visitor)."""
    _, url = app
    contexts, refused = [], []

    def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS:
            route.continue_()
        elif host == OFFICIAL_AUDIO_HOST:
            route.fulfill(status=200, content_type="audio/wav", body=OFFICIAL_AUDIO)
        else:
            refused.append(route.request.url)
            route.abort()

    def open_(
        locale: str = "en-US", viewport: dict = DESKTOP, player: str = "stream", **context_options
    ) -> Page:
        """player "stream": the streamed gr.Audio these tests were written for (the live player's
        fallback); "live": the Web Audio player (test_live_player.py)."""
        context = browser.new_context(locale=locale, viewport=viewport, **context_options)
        contexts.append(context)
        context.route("**/*", guard)
        context.add_init_script(PLAY_RECORDER)
        if player == "stream":
            context.add_init_script('window.qwenTtsPlayer = "stream";')
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.qwenTts && document.querySelector('#generate')")
        page.locator("#input_counter .input-counter").wait_for()  # the page's load events ran
        return page

    yield open_
    for context in contexts:
        context.close()
    assert refused == [], "the page must not reach the network"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save screenshots: a temporary folder, or the README's committed ones when
    the run is asked to update them (SHOWCASE_UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("SHOWCASE_UPDATE_SCREENSHOTS") != "1":
        return tmp_path_factory.mktemp("screenshots")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

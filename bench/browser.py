"""First sound in a real browser: Chromium plays the page, and the clock stops when audio moves.

Optional: it needs Playwright and a Chromium (Debian's at /usr/bin/chromium). The page's own
clock measures from the click on Generate to the live player's `currentTime > 0`, so it includes
what no HTTP measurement sees: hls.js polling the playlist, decoding and the audio device.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
]
DONE_TIMEOUT_MS = 120_000

FIRST_SOUND_JS = """async (streaming) => {
  const box = document.querySelector('#streaming input[type=checkbox]');
  if (box.checked !== streaming) box.click();
  const started = performance.now();
  document.querySelector('#generate').click();
  return await new Promise((resolve) => {
    const poll = () => {
      const audio = document.querySelector('#live_audio audio');
      if (audio && audio.currentTime > 0) resolve((performance.now() - started) / 1000);
      else setTimeout(poll, 5);
    };
    poll();
  });
}"""
DONE_JS = "() => document.querySelector('#readout').innerText.trim().length > 0"


def available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists() or shutil.which("chromium") is not None


async def first_sound(app_url: str, texts: list[tuple[str, bool]]) -> list[float]:
    """Seconds from the click to first sound, for each (text, streaming), one fresh page each."""
    from playwright.async_api import async_playwright

    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium"),
            args=CHROMIUM_ARGS,
        )
        try:
            for text, streaming in texts:
                page = await browser.new_page()
                await page.goto(app_url)
                await page.locator("#text textarea").fill(text)
                await page.locator("#connection button").first.click()  # holds the switch
                await page.wait_for_selector("#streaming input[type=checkbox]")
                results.append(await page.evaluate(FIRST_SOUND_JS, streaming))
                # Let the synthesis finish, so it does not overlap the next measurement.
                await page.wait_for_function(DONE_JS, timeout=DONE_TIMEOUT_MS)
                await page.close()
        finally:
            await browser.close()
    return results

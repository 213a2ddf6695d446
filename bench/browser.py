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
STREAM_PLAYER = 'window.qwenTtsPlayer = "stream";'  # today's gr.Audio(streaming=True) player

# The live player (page.js): an AudioWorklet on its output notes the audio frame of the first
# non-silent sample, and counts silent runs over 30 ms between the first and the last sound of a
# stream. When that frame reaches the audio output, in the page's wall clock, comes from the
# context's own output timestamp (the moment a given frame is heard), so the page's main
# thread being busy when the worklet's message arrives adds nothing; `noticedAt` is that
# message's arrival, as measured before.
LIVE_TAP_JS = """async () => {
  const { context, output } = window.qwenTts.live.context();
  const code = `registerProcessor("tape", class extends AudioWorkletProcessor {
    process(inputs) {
      const channel = inputs[0][0];
      let loud = -1;
      if (channel) for (let i = 0; i < channel.length; i++) if (channel[i] !== 0) { loud = i; break; }
      let tail = 0;
      if (channel) for (let i = channel.length - 1; i >= 0 && channel[i] === 0; i--) tail++;
      this.port.postMessage({ loud, tail: channel ? tail : 128, frames: 128, at: currentFrame });
      return true;
    }
  });`;
  const url = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  await context.audioWorklet.addModule(url);
  const tap = new AudioWorkletNode(context, "tape");
  const meter = window.__meter = { firstSoundAt: null, silentRun: 0, gaps: [] };
  tap.port.onmessage = ({ data }) => {
    if (data.loud >= 0) {
      if (meter.firstSoundAt === null) {
        meter.noticedAt = performance.timeOrigin + performance.now();
        const heard = context.getOutputTimestamp();  // frame contextTime is output at performanceTime
        meter.firstSoundAt = performance.timeOrigin + heard.performanceTime +
          1000 * ((data.at + data.loud) / context.sampleRate - heard.contextTime);
      }
      // silence before this block's first sound ends a run
      const run = meter.silentRun + data.loud;
      if (meter.firstSoundAt !== null && run > 720 && meter.heard) meter.gaps.push(run);
      meter.heard = true;
      meter.silentRun = data.tail;
    } else if (meter.heard) meter.silentRun += data.frames;
  };
  output.connect(tap);
  tap.connect(context.destination);
}"""
LIVE_PRESS_JS = """() => {
  window.__meter.firstSoundAt = null; window.__meter.heard = false;
  window.__meter.silentRun = 0; window.__meter.gaps = [];
  window.__pressedAt = performance.timeOrigin + performance.now();
  document.querySelector('#generate').click();
}"""
LIVE_DONE_JS = """() => { const panel = document.querySelector('#live_player .live-panel');
  return panel && panel.dataset.state === 'complete'
         && window.qwenTts.live.current().sources.size === 0
         && document.querySelector('#readout').innerText.trim().length > 0; }"""
LIVE_READY_JS = "() => window.qwenTts.live.ready()"
LIVE_READY_FOR_NEW_JS = """(loaded) => window.qwenTts.live.ready()
  && document.querySelector('#live_ready textarea').value !== loaded"""
READY_TIMEOUT_MS = 15_000
LIVE_RESULT_JS = """() => ({ pressedAt: window.__pressedAt / 1000,
  ticket: window.qwenTts.live.pressed(), firstSoundAt: window.__meter.firstSoundAt / 1000,
  noticedAt: window.__meter.noticedAt / 1000, gaps: window.__meter.gaps.length })"""
STREAM_PRESS_JS = """() => {
  window.__pressedAt = performance.timeOrigin + performance.now();
  document.querySelector('#generate').click();
  return new Promise((resolve) => {
    const poll = () => {
      const audio = document.querySelector('#live_audio audio');
      if (audio && audio.currentTime > 0) {
        resolve({ pressedAt: window.__pressedAt / 1000,
                  firstSoundAt: (performance.timeOrigin + performance.now()) / 1000 });
      } else setTimeout(poll, 5);
    };
    poll();
  });
}"""


def available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists() or shutil.which("chromium") is not None


def _executable() -> str:
    return str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")


async def first_sound(app_url: str, texts: list[tuple[str, bool]]) -> list[float]:
    """Seconds from the click to first sound in today's streamed player, for each (text,
    streaming), one fresh page each."""
    from playwright.async_api import async_playwright

    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=_executable(), args=CHROMIUM_ARGS
        )
        try:
            for text, streaming in texts:
                page = await browser.new_page()
                await page.add_init_script(STREAM_PLAYER)
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


async def player_first_sound(
    app_url: str, texts: list[str], player: str, repeat_last: int = 0
) -> list[dict]:
    """For each text, on a fresh page with this player ("live" or "stream"): when Generate was
    pressed and when the first sound reached the output (page wall clock, seconds since the
    epoch), and for the live player the silent gaps over 30 ms inside the stream. Then, on the
    last page, the last text pressed again `repeat_last` times (cache hits)."""
    from playwright.async_api import async_playwright

    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=_executable(), args=CHROMIUM_ARGS
        )
        try:
            for number, text in enumerate(texts, start=1):
                page = await browser.new_page()
                if player == "stream":
                    await page.add_init_script(STREAM_PLAYER)
                await page.goto(app_url)
                await page.wait_for_selector("#input_counter .input-counter")
                if player == "live":  # the ticket asked for the page's opening inputs
                    await page.wait_for_function(LIVE_READY_JS, timeout=READY_TIMEOUT_MS)
                    loaded = await page.locator("#live_ready textarea").input_value()
                await page.locator("#text textarea").fill(text)
                if player == "live":  # and the one for this text, once it settled
                    await page.wait_for_function(
                        LIVE_READY_FOR_NEW_JS, arg=loaded, timeout=READY_TIMEOUT_MS
                    )
                presses = 1 + (repeat_last if number == len(texts) else 0)
                if player == "live":
                    await page.evaluate(LIVE_TAP_JS)
                for _ in range(presses):
                    if player == "live":
                        # A visitor with the page open: its ticket is asked for ahead.
                        await page.wait_for_function(LIVE_READY_JS, timeout=READY_TIMEOUT_MS)
                        await page.evaluate(LIVE_PRESS_JS)
                        await page.wait_for_function(LIVE_DONE_JS, timeout=DONE_TIMEOUT_MS)
                        results.append({"text": text, **await page.evaluate(LIVE_RESULT_JS)})
                    else:
                        sound = await page.evaluate(STREAM_PRESS_JS)
                        results.append({"text": text, **sound})
                        await page.wait_for_function(DONE_JS, timeout=DONE_TIMEOUT_MS)
                await page.close()
        finally:
            await browser.close()
    return results


LIVE_PLAYING_JS = """() => { const panel = document.querySelector('#live_player .live-panel');
  return panel && panel.dataset.state === 'playing'; }"""
LIVE_STOP_JS = """() => { const at = performance.timeOrigin + performance.now();
  document.querySelector('#live_player .live-stop').click(); return at / 1000; }"""
LIVE_STOPPED_JS = """() => document.querySelector('#live_player .live-panel')
  .dataset.state === 'stopped'"""


async def stop_clicks(app_url: str, texts: list[str]) -> list[dict]:
    """For each text, on a fresh page with the live player: Generate, then Stop once it plays;
    when Stop was clicked (page wall clock, seconds since the epoch)."""
    from playwright.async_api import async_playwright

    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=_executable(), args=CHROMIUM_ARGS
        )
        try:
            for text in texts:
                page = await browser.new_page()
                await page.goto(app_url)
                await page.wait_for_selector("#input_counter .input-counter")
                await page.locator("#text textarea").fill(text)
                await page.locator("#generate").click()
                await page.wait_for_function(LIVE_PLAYING_JS, timeout=DONE_TIMEOUT_MS)
                results.append({"text": text, "stoppedAt": await page.evaluate(LIVE_STOP_JS)})
                await page.wait_for_function(LIVE_STOPPED_JS, timeout=DONE_TIMEOUT_MS)
                await page.close()
        finally:
            await browser.close()
    return results

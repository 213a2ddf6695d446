"""What the browser tests do on the page, in the words of the page."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable

from playwright.sync_api import Locator, Page, Route, TimeoutError, expect

LIVE_AUDIO = "#live_audio audio"
AAC_PADDING_S = 0.15  # the streamed player's AAC adds priming and padding to the PCM's length


def media_state(page: Page, selector: str) -> dict | None:
    """src, currentTime, duration and paused of the first media element matching selector."""
    return page.evaluate(
        """(selector) => { const a = document.querySelector(selector);
            return a && {src: a.currentSrc || a.src, time: a.currentTime, duration: a.duration,
                         paused: a.paused, ended: a.ended}; }""",
        selector,
    )


def wait_until_playing(page: Page, selector: str, src_not: str = "") -> dict:
    """Poll until the element plays a source (other than src_not) past its first instant."""
    page.wait_for_function(
        """([selector, old]) => { const a = document.querySelector(selector);
            return a && (a.currentSrc || a.src) && (a.currentSrc || a.src) !== old
                   && a.currentTime > 0; }""",
        arg=[selector, src_not],
    )
    return media_state(page, selector)


def wait_for_duration(page: Page, selector: str, seconds: float, tolerance: float) -> float:
    """Poll until the element's duration is within tolerance of seconds (a stream grows)."""
    page.wait_for_function(
        """([selector, seconds, tolerance]) => { const a = document.querySelector(selector);
            return a && Math.abs(a.duration - seconds) <= tolerance; }""",
        arg=[selector, seconds, tolerance],
    )
    return media_state(page, selector)["duration"]


def played(page: Page) -> list[dict]:
    """Every media element that was asked to play, waveform players' hidden ones included."""
    return page.evaluate(
        """() => window.__played.map(a => ({src: a.currentSrc || a.src, time: a.currentTime,
                                           duration: a.duration}))"""
    )


STARTED_JS = """(before) => window.__played.length > before
                           && window.__played.at(-1).currentTime > 0"""


def press_play(page: Page, player_id: str, attempts: int = 3) -> dict:
    """Press a waveform player's Play button; the media element that started, once it has
    played a bit.

    Gradio's waveform player drops a press that lands while it is still loading its audio (the
    element stays paused at 0 s and the button says Play again), as a person would see; the
    test then presses again, as a person would."""
    before = len(played(page))
    for attempt in range(attempts):
        page.locator(f"#{player_id}").get_by_role("button", name="Play", exact=True).click()
        try:
            page.wait_for_function(STARTED_JS, arg=before, timeout=5_000)
            break
        except TimeoutError:
            if attempt == attempts - 1:
                raise
    return played(page)[-1]


def press_generate(page: Page) -> None:
    """Press Generate once what the last press made has finished playing: until then the
    button is Stop (studio.js), and a press stops it instead."""
    generate = page.locator("#generate")
    expect(generate).not_to_have_class(re.compile("studio-busy"))
    generate.click()


def choose(page: Page, dropdown_id: str, option: str) -> None:
    """Open a dropdown and pick the option with exactly this label."""
    page.locator(f"#{dropdown_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"#{dropdown_id} input")).to_have_value(option)


def readout(page: Page, root: str = "#readout") -> dict[str, str]:
    """The numbers under a result, as the readout's data attributes carry them."""
    return page.locator(f"{root} .readout").evaluate(
        """(element) => Object.fromEntries([...element.attributes]
            .filter(a => a.name.startsWith('data-')).map(a => [a.name.slice(5), a.value]))"""
    )


def run_and_wait_for_readout(page: Page, action, root: str = "#readout") -> dict[str, str]:
    """Do action (a click, a key), then wait for a readout other than the one shown before."""
    before = page.locator(root).inner_html()
    action()
    page.wait_for_function(
        """([root, before]) => { const element = document.querySelector(root);
            return element && element.querySelector('.readout')
                   && element.innerHTML !== before; }""",
        arg=[root, before],
    )
    return readout(page, root)


def poll(page: Page, condition: Callable[[], object], what: str) -> None:
    """Wait for a condition of the test's own (a route it holds) with the page's clock: route
    handlers run only while Playwright is called, so a plain loop would wait for ever."""
    for _ in range(1000):  # 20 s
        if condition():
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"gave up waiting for {what}")


# The id of the dependency (with a Python function) that a click or a change of the component
# #`trigger` runs, and that sends to #`output` (when given).
DEPENDENCY = """([trigger, output]) => { const config = window.gradio_config;
  const id = (elemId) => config.components.find((c) => c.props?.elem_id === elemId).id;
  return config.dependencies.find((d) => d.backend_fn && d.targets.some(([t]) => t === id(trigger))
    && (!output || d.outputs.includes(id(output)))).id; }"""


def hold_answers(page: Page, trigger: str, output: str = "", most: int | None = None) -> list:
    """From now on, the answers of that dependency (DEPENDENCY) are held (only the first `most`
    of them, if given): the server has acted, the page has not heard yet (a slow network). Each
    held one is (route, response), for route.fulfill(response=response)."""
    event = page.evaluate(DEPENDENCY, [trigger, output])
    held = []

    def hold(route: Route) -> None:
        sent = json.loads(route.request.post_data or "{}")
        if sent.get("fn_index") == event and (most is None or len(held) < most):
            held.append((route, route.fetch()))
        else:
            route.continue_()

    page.route("**/gradio_api/run/predict", hold)
    return held


def toast(page: Page) -> Locator:
    return page.get_by_test_id("toast-body")


TABS = {
    "Studio": "合成",
    "Compare voices": "音色对比",
    "Batch": "批量",
    "History": "历史",
    "Benchmarks": "评测",
    "Design": "音色设计",
    "Clone": "音色复刻",
}  # each tab's name in English and in Chinese (one language per page)


def tab(page: Page, name: str) -> Locator:
    """A tab by its English name, in whichever language the page speaks."""
    return page.get_by_role("tab", name=re.compile(f"^({re.escape(name)}|{TABS[name]})$"))


def open_tab(page: Page, name: str) -> None:
    tab(page, name).click()


DESIGN_TAB = re.compile(f"^(Design|{TABS['Design']})$")


VD = "qwen3-tts-vd-2026-01-26"


def design_voice(page, simulator, name="grandpa"):
    page.locator("#design_shuffle").click()
    expect(page.locator("#design_description textarea")).not_to_have_value("")
    page.locator("#design_name textarea").fill(name)
    page.locator("#design_run").click()
    expect(page.locator("#design_status")).to_contain_text(f"Voice {name} is made")
    return simulator.customization_requests()[-1]


# An AudioWorklet on the audio thread: every render quantum of the player's output, in order
# (an input with nothing playing has no channels: 128 silent samples then).
TAP = """async () => {
  if (window.__tape) return;
  const { context, output } = window.qwenTts.live.context();
  const code = `registerProcessor("tape", class extends AudioWorkletProcessor {
    process(inputs) {
      const channel = inputs[0][0];
      this.port.postMessage(channel ? Int16Array.from(channel, (x) => Math.round(x * 32768))
                                    : new Int16Array(128));
      return true;
    }
  });`;
  const module = URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
  await context.audioWorklet.addModule(module);
  const tap = new AudioWorkletNode(context, "tape");
  const tape = window.__tape = [];
  tap.port.onmessage = (event) => tape.push(event.data);
  output.connect(tap);
  tap.connect(context.destination);
}"""


SOUNDED = "() => (window.__tape || []).some((block) => block.some((x) => x !== 0))"


HEARD = """() => { const all = []; for (const block of window.__tape) all.push(...block);
  const first = all.findIndex((x) => x !== 0);
  let last = all.length - 1; while (last >= 0 && all[last] === 0) last--;
  return first < 0 ? [] : all.slice(first, last + 1); }"""


PANEL = "#live_player .live-panel"


def trimmed(pcm: bytes) -> list[int]:
    """The samples between the first and the last that is not silent."""
    samples = list(struct.unpack(f"<{len(pcm) // 2}h", pcm))
    first = next(i for i, x in enumerate(samples) if x)
    last = max(i for i, x in enumerate(samples) if x)
    return samples[first : last + 1]


def wait_for_state(page: Page, state: str) -> None:
    expect(page.locator(PANEL)).to_have_attribute("data-state", state)

"""The live player in Chromium: raw PCM from the app's own route played with Web Audio.

A tap on the player's output (a ScriptProcessorNode the test adds) records every sample that
reaches the audio output, so the tests ask what was heard, not what a request returned."""

from __future__ import annotations

import re
import struct
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from bench.browser import LIVE_READY_FOR_NEW_JS as READY_FOR_NEW
from bench.browser import LIVE_READY_JS as READY
from dashscope_sim import most_at_once
from qwen_tts_showcase.audio import wav_to_pcm

from ..conftest import wait_until
from ..helpers import connections_to
from .pages import (
    HEARD,
    LIVE_AUDIO,
    PANEL,
    SOUNDED,
    TAP,
    choose,
    open_tab,
    poll,
    press_generate,
    readout,
    toast,
    trimmed,
    wait_for_state,
    wait_until_playing,
)

RATE = 24_000
GAP_SAMPLES = int(0.030 * RATE)  # a silence longer than 30 ms inside the stream is a gap


@pytest.fixture(scope="module")
def app(launch_app):
    """The app with its cache on (each test speaks a text of its own)."""
    return launch_app(SHOWCASE_CACHE_MAX_MB="50")


def live_page(open_page, **options) -> Page:
    page = open_page(player="live", **options)
    expect(page.locator("html")).to_have_class("live-player")
    page.evaluate(TAP)
    return page


def generate(page: Page, text: str) -> None:
    page.locator("#text textarea").fill(text)
    page.locator("#generate").click()


PEAK_FRAMES = 480  # page.js: a waveform column per 20 ms

# How many of the canvas's pixel columns have anything drawn in them.
INKED_COLUMNS = """(selector) => {
  const canvas = document.querySelector(selector);
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  const inked = new Set();
  for (let i = 3; i < data.length; i += 4) if (data[i]) inked.add(((i - 3) / 4) % canvas.width);
  return inked.size;
}"""


def peaks(pcm: bytes) -> list[float]:
    """The loudest sample of every whole PEAK_FRAMES, as a fraction of full scale."""
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return [
        max(abs(sample) for sample in samples[start : start + PEAK_FRAMES]) / 32768
        for start in range(0, len(samples) - PEAK_FRAMES + 1, PEAK_FRAMES)
    ]


def gaps(samples: list[int]) -> int:
    """Runs of silence longer than 30 ms."""
    count = run = 0
    for sample in samples:
        run = run + 1 if sample == 0 else 0
        count += run == GAP_SAMPLES + 1
    return count


def test_the_stream_reaches_the_output_whole_and_gapless_and_the_result_is_kept(
    open_page, simulator
):
    # Upstream ahead of real time, in small frames: every piece arrives before it is due.
    simulator.profile.realtime_factor = 0.5
    simulator.profile.chunk_seconds = 0.12
    page = live_page(open_page)
    text = "今儿个天儿不错，咱们出去遛遛弯儿吧。出门记得带伞。"
    generate(page, text)
    page.wait_for_function(SOUNDED)  # first sound reached the audio output
    wait_for_state(page, "complete")
    expect(page.locator(f"{PANEL} .live-status")).to_contain_text("Played")  # all of it played
    (sent,) = simulator.generation_requests()
    heard = page.evaluate(HEARD)
    assert gaps(heard) == 0
    assert heard == trimmed(sent.pcm)  # every sample DashScope sent, in order, nothing added
    # The waveform of what arrived: the loudest of every 20 ms, drawn across the bar.
    assert page.evaluate("window.qwenTts.live.current().peaks") == pytest.approx(peaks(sent.pcm))
    assert page.evaluate(INKED_COLUMNS, f"{PANEL} .live-wave") > 100
    # The finished recording, exactly those samples, in a normal player with its numbers.
    recording = page.get_by_test_id("waveform-Result (finished recording)").locator("audio")
    expect(recording).to_have_attribute("src", re.compile("^blob:"))
    wav = page.evaluate(
        "async (src) => [...new Uint8Array(await (await fetch(src)).arrayBuffer())]",
        recording.get_attribute("src"),
    )
    assert wav_to_pcm(bytes(wav)) == sent.pcm
    numbers = readout(page)
    assert float(numbers["audio-s"]) == pytest.approx(len(sent.pcm) / 48_000, abs=0.001)
    expect(page.locator("#download")).to_be_enabled()
    assert page.locator(LIVE_AUDIO).count() == 0  # nothing went through Gradio's stream


def test_a_short_stream_of_an_http_model_asks_the_app_only_for_its_audio_and_its_end(
    open_page, simulator
):
    """No /words (an HTTP model has none to light) and no /notices (/end brings them)."""
    page = live_page(open_page)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlsplit(request.url).path))
    generate(page, "就问这两样。")
    wait_for_state(page, "complete")
    expect(page.locator("#download")).to_be_enabled()  # the finish is in, the run over
    lives = [path for path in asked if path.startswith("/live/")]
    assert [path.count("/") for path in lives] == [2, 3] and lives[1].endswith("/end"), lives


def test_stop_and_esc_close_dashscopes_stream_and_keep_nothing(open_page, simulator):
    simulator.profile.realtime_factor = 1.0  # real time, two minutes: only a stop ends it
    simulator.profile.fixed_audio_seconds = 120.0
    simulator.profile.chunk_seconds = 0.1
    before = connections_to(simulator.port)
    page = live_page(open_page)
    for stop in (
        lambda: page.locator(f"{PANEL} .live-stop").click(),
        lambda: page.keyboard.press("Escape"),
    ):
        generate(page, f"停下来。{len(simulator.generation_requests())}")
        page.wait_for_function(SOUNDED)
        wait_for_state(page, "playing")
        stop()
        wait_for_state(page, "stopped")
        wait_until(lambda: connections_to(simulator.port) == before, "DashScope's stream to close")
        page.evaluate("() => window.__tape.length = 0")
    expect(page.locator("#download")).to_be_disabled()
    assert page.locator("#result_audio audio[src]").count() == 0
    simulator.profile.realtime_factor = 0.0
    simulator.profile.fixed_audio_seconds = 1.0
    generate(page, "停下来。0")  # the stopped text was not cached: DashScope is asked again
    wait_for_state(page, "complete")
    assert len(simulator.generation_requests()) == 3


def test_reloading_mid_stream_closes_dashscopes_stream_and_keeps_nothing(open_page, simulator):
    simulator.profile.realtime_factor = 1.0
    simulator.profile.fixed_audio_seconds = 120.0
    simulator.profile.chunk_seconds = 0.1
    before = connections_to(simulator.port)
    page = live_page(open_page)
    generate(page, "重新加载页面。")
    page.wait_for_function(SOUNDED)
    page.reload()
    wait_until(lambda: connections_to(simulator.port) == before, "DashScope's stream to close")
    # Nothing of it was kept: the same text asked again reaches DashScope again.
    simulator.profile.realtime_factor = 0.0
    simulator.profile.fixed_audio_seconds = 1.0
    expect(page.locator("html")).to_have_class("live-player")
    page.evaluate(TAP)
    generate(page, "重新加载页面。")
    wait_for_state(page, "complete")
    assert len(simulator.generation_requests()) == 2
    expect(page.locator("#readout .readout")).to_have_attribute("data-cached", "false")


def test_a_cache_hit_plays_through_the_same_player_without_dashscope(open_page, simulator):
    page = live_page(open_page)
    text = "缓存里的这句话。"
    generate(page, text)
    wait_for_state(page, "complete")
    expect(page.locator("#readout .readout")).to_have_attribute("data-cached", "false")
    # Until the last of it has been heard, Generate is Stop (test_busy_stop.py).
    page.wait_for_function("() => window.qwenTts.live.current().sources.size === 0")
    page.evaluate("() => window.__tape.length = 0")
    # Pressed again as a visitor whose page is open: with the ticket asked for ahead, whose
    # live_use (clearing the previous results) goes once the sound is on its way.
    page.wait_for_function(READY)
    page.locator("#generate").click()
    page.wait_for_function(SOUNDED)
    wait_for_state(page, "complete")
    assert page.evaluate("() => window.qwenTts.live.pressed()") == "ready"
    # The new results stay, once the page is quiet again (its next ticket asked for): the
    # finish came after the clearing, not before it.
    page.wait_for_function(READY)
    expect(page.locator("#readout .readout")).to_have_attribute("data-cached", "true")
    expect(page.locator("#download")).to_be_enabled()
    assert len(simulator.generation_requests()) == 1


def requests_after_click(page: Page, click) -> list[str]:
    """The page's requests from a click until its live stream is complete: "GET <path>", or
    the name of the page event it runs."""
    config = page.evaluate("async () => (await fetch('config')).json()")
    events = {d["id"]: d.get("api_name") for d in config["dependencies"]}
    seen: list[str] = []

    def note(request) -> None:
        if request.method == "POST":
            body = request.post_data_json or {}
            seen.append(str(events.get(body.get("fn_index"), request.url)))
        else:
            seen.append(f"GET {request.url.split('//', 1)[1].split('/', 1)[1]}")

    page.on("request", note)
    click()
    wait_for_state(page, "complete")
    page.remove_listener("request", note)
    return seen


def ticket_ahead_for(page: Page, text: str) -> str:
    """Type `text` into a loaded page; the ticket the page then asks for ahead, for that text."""
    page.wait_for_function(READY)  # asked for once the page is loaded
    loaded = page.locator("#live_ready textarea").input_value()
    page.locator("#text textarea").fill(text)
    page.wait_for_function(READY_FOR_NEW, arg=loaded)  # asked for again once the text settled
    return page.locator("#live_ready textarea").input_value().split(" ")[1]


def test_with_a_ticket_ready_generate_is_one_request_and_plays_what_the_page_shows(
    open_page, simulator
):
    page = live_page(open_page)
    ticket = ticket_ahead_for(page, "早就准备好的票。")
    assert simulator.generation_requests() == []  # asking ahead sent nothing to DashScope
    seen = requests_after_click(page, lambda: page.locator("#generate").click())
    # Straight to the stream of the ticket ready before: no ticket event after the click.
    assert "live_ticket" not in seen and f"GET live/{ticket}" in seen, seen
    (sent,) = simulator.generation_requests()
    assert spoken(sent) == ("早就准备好的票。", "Cherry")
    assert "live_use" not in seen, "a page's first press has no results to clear"
    page.wait_for_function(READY)  # asked for again, for the next press
    # Pressed again (once all is heard: until then Generate is Stop), the results it shows go
    # once the new sound is on its way (live_use).
    page.wait_for_function("() => window.qwenTts.live.current().sources.size === 0")
    again = requests_after_click(page, lambda: page.locator("#generate").click())
    assert "live_use" in again and "live_ticket" not in again, again
    page.wait_for_function(READY)
    # A text changed just before the press is never played from the ticket of the old one.
    page.locator("#text textarea").fill("刚刚改过的句子。")
    press_generate(page)
    wait_for_state(page, "complete")
    assert spoken(simulator.generation_requests()[-1]) == ("刚刚改过的句子。", "Cherry")
    # Nor from the ticket of a voice picked just before the press.
    page.wait_for_function(READY)
    choose(page, "voice", "Ethan · 普通话 Mandarin · ♂")
    # Gradio holds a picked value a moment after the picker shows it (any event sent sooner
    # carries the old one); once its change event came, the old voice's ticket is void.
    page.wait_for_function("() => !window.qwenTts.live.ready()")
    press_generate(page)
    wait_for_state(page, "complete")
    assert spoken(simulator.generation_requests()[-1]) == ("刚刚改过的句子。", "Ethan")


def spoken(sent) -> tuple[str, str]:
    """The text and voice of a request DashScope received."""
    return sent.body["input"]["text"], sent.body["input"]["voice"]


def test_a_ticket_asked_for_ahead_that_the_server_let_go_falls_back_to_asking(open_page, simulator):
    page = live_page(open_page)
    ticket = ticket_ahead_for(page, "这张票已经不在了。")
    # The ready ticket is gone on the server (here: used up by another request).
    page.evaluate(
        "async (ticket) => { await (await fetch(`live/${ticket}`)).arrayBuffer(); }", ticket
    )
    page.locator("#generate").click()
    wait_for_state(page, "complete")  # not "failed": the page asked for a new ticket
    # and its stream (the cache's, by now) went to the finished recording as usual
    expect(page.locator("#readout .readout")).to_have_attribute("data-cached", "true")
    assert len(simulator.generation_requests()) == 1


def test_a_failure_mid_stream_leaves_no_playable_audio(open_page, simulator):
    simulator.profile.chunk_seconds = 0.1
    simulator.enqueue_fault("drop_midstream", after_chunks=3)
    page = live_page(open_page)
    generate(page, "这句话会在中途断掉，后面的内容听不到了。")
    wait_for_state(page, "broken")
    expect(page.locator(f"{PANEL} .live-status")).to_contain_text("part-way")
    expect(toast(page)).to_contain_text("part-way")
    expect(page.locator("#download")).to_be_disabled()
    assert page.locator("#result_audio audio[src]").count() == 0
    assert page.locator(LIVE_AUDIO).count() == 0


def test_an_error_before_the_first_audio_is_shown_in_words(open_page, simulator):
    simulator.enqueue_fault("invalid_key")
    page = live_page(open_page)
    generate(page, "钥匙不对。")
    wait_for_state(page, "failed")
    expect(page.locator(f"{PANEL} .live-status")).to_contain_text("region")
    expect(toast(page)).to_contain_text("region")


def test_a_stream_not_asked_for_by_the_page_is_refused(open_page, simulator):
    page = live_page(open_page)
    answer = page.evaluate(
        """async () => { const r = await fetch('/live/made-up-ticket');
                         return [r.status, await r.json()]; }"""
    )
    assert answer[0] == 403 and "not opened by this page" in answer[1]["en"]
    assert simulator.generation_requests() == []


def test_without_web_audio_generate_falls_back_to_the_streamed_player(open_page, simulator):
    page = open_page(player="live")  # but this browser has no AudioContext:
    page.context.add_init_script("delete window.AudioContext;")
    page.reload()
    expect(page.locator("html")).to_have_class("stream-player")
    generate(page, "没有网页音频也能播放。")
    wait_until_playing(page, LIVE_AUDIO)
    expect(page.locator("#live_player")).to_be_hidden()
    assert len(simulator.generation_requests()) == 1


def test_the_streamed_player_keeps_no_audio_after_a_failure_mid_stream(open_page, simulator):
    simulator.profile.chunk_seconds = 0.1
    simulator.enqueue_fault("drop_midstream", after_chunks=3)
    page = open_page()  # the streamed gr.Audio
    generate(page, "这句话也会在中途断掉，后面的内容听不到了。")
    expect(toast(page)).to_contain_text("part-way")
    expect(page.locator(LIVE_AUDIO)).to_have_count(0)


def test_a_gallery_card_speaks_through_the_live_player(open_page, simulator):
    page = live_page(open_page)
    page.locator("#card-dylan-zh-2").get_by_role("button", name="Generate live").click()
    page.wait_for_function(SOUNDED)
    panel = page.locator("#card-live-dylan-zh-2 .live-panel")  # it plays in the card
    expect(panel).to_have_attribute("data-state", "complete")
    expect(panel.locator(".live-status")).to_contain_text("Played")  # all of it played
    (sent,) = simulator.generation_requests()
    assert sent.body["input"]["voice"] == "Dylan"
    assert page.evaluate(HEARD) == trimmed(sent.pcm)
    expect(page.locator("#readout .readout")).to_be_visible()


PRESET_VOICES = ["Cherry", "Dylan", "Jada", "Sunny"]  # data/compare.json, in slot order
COMPARED = """() => window.qwenTts.live.compared().map((r) => ({
  state: r.state, checksum: r.checksum, frames: r.receivedFrames }))"""
ALL_HEARD = """() => window.qwenTts.live.compared().length === 4 && window.qwenTts.live.compared()
  .every((r) => r.done && r.sources.size === 0 && r.pending.length === 0)"""


def checksum(pcm: bytes) -> int:
    """page.js's hash of the samples a player scheduled (Math.imul(sum, 31) + sample)."""
    total = 0
    for (sample,) in struct.iter_unpack("<h", pcm):
        total = (total * 31 + (sample & 0xFFFF)) & 0xFFFFFFFF
    return total


def test_four_compare_players_stream_at_once_each_hearing_its_own_voice(open_page, simulator):
    simulator.profile.realtime_factor = 0.5
    simulator.profile.chunk_seconds = 0.12
    page = live_page(open_page)
    open_tab(page, "Compare voices")
    simulator.profile.first_chunk_delay_s = 1.0  # a second before each first frame
    page.locator("#compare_run").click()
    expect(page.locator("[id^=compare_status_] .readout")).to_have_count(4)
    sent = {r.body["input"]["voice"]: r.pcm for r in simulator.generation_requests()}
    assert sorted(sent) == sorted(PRESET_VOICES) and len(set(sent.values())) == 4
    spans = [(r.received_at, r.first_audio_sent_at) for r in simulator.generation_requests()]
    assert most_at_once(spans) == 4  # all four were waiting for DashScope at the same time
    players = page.evaluate(COMPARED)
    for index, voice in enumerate(PRESET_VOICES):
        expect(page.locator(f"#compare_heading_{index}")).to_contain_text(voice)
        pcm = sent[voice]
        assert players[index] == {
            "state": "complete",
            "checksum": checksum(pcm),
            "frames": len(pcm) // 2,
        }
        expect(page.locator(f"#compare_live_{index} .live-panel")).to_have_attribute(
            "data-state", "complete"
        )
    # Heard one after another in slot order, each voice whole and unmixed (silence aside).
    page.wait_for_function(ALL_HEARD)
    heard = [x for x in page.evaluate(HEARD) if x]
    voices = [x for voice in PRESET_VOICES for x in trimmed(sent[voice]) if x]
    assert heard == voices
    assert page.locator(LIVE_AUDIO).count() == 0  # nothing went through Gradio's stream


def test_a_history_row_replays_at_once_through_the_live_player(open_page, simulator):
    page = live_page(open_page)
    generate(page, "历史里的这一句。")
    wait_for_state(page, "complete")
    page.wait_for_function("() => window.qwenTts.live.current().sources.size === 0")
    (sent,) = simulator.generation_requests()
    page.evaluate("() => window.__tape.length = 0")
    open_tab(page, "History")
    page.locator("#history_table [data-testid=cell-0-3]").click()
    page.wait_for_function(SOUNDED)  # played without pressing play
    expect(page.locator("#history_live .live-panel")).to_have_attribute("data-state", "complete")
    page.wait_for_function(
        "() => document.querySelector('#history_live .live-status').innerText.includes('Played')"
    )
    assert page.evaluate(HEARD) == trimmed(sent.pcm)  # the recording, every sample
    expect(page.locator("#history_download")).to_be_enabled()  # and the normal player's file
    assert len(simulator.generation_requests()) == 1, "a replay costs no API call"


def test_a_retry_is_told_under_the_player_while_it_plays(open_page, simulator):
    simulator.enqueue_fault("throttling_plain")  # the first attempt is throttled, then retried
    simulator.profile.fixed_audio_seconds = 4.0  # heard long enough for the note to be read
    page = live_page(open_page)
    generate(page, "先被限流，再试一次。")
    expect(page.locator(f"{PANEL} .live-note")).to_contain_text("retrying")
    wait_for_state(page, "complete")
    assert len(simulator.generation_requests()) == 2


def test_a_compare_slot_never_plays_before_the_slots_ahead_of_it_whatever_arrives_first(
    open_page, simulator
):
    """The third stream ends before the second, then the fourth arrives: it waits its turn
    (it used to play at once, over the others: the one before it was done, but not yet heard)."""
    simulator.profile.fixed_audio_seconds = 1.0
    page = live_page(open_page)
    open_tab(page, "Compare voices")
    page.locator("#compare_text textarea").fill("轮到谁就谁说。")  # short, and not cached
    held: dict[str, tuple] = {}  # ticket: the route and the app's answer, fulfilled below

    def hold(route):
        held[route.request.url.rsplit("/", 1)[1]] = (route, route.fetch())

    page.route("**/live/*", hold)
    page.locator("#compare_run").click()
    poll(page, lambda: len(held) == 4, "the four requests, answered by the app, held here")
    tickets = page.evaluate("() => window.qwenTts.live.compared().map((r) => r.ticket)")
    assert sorted(tickets) == sorted(held)

    def answer(slot: int, until: str) -> None:
        route, response = held[tickets[slot]]
        route.fulfill(response=response)
        page.wait_for_function(f"() => window.qwenTts.live.compared()[{slot}].{until}")

    answer(2, "done")  # the third, whole, behind the second
    answer(3, "done")  # the fourth, whole too: it waits for the third's turn
    answer(0, "done")
    answer(1, "done")
    page.wait_for_function(ALL_HEARD, timeout=60_000)
    streamed = [held[ticket][1].body() for ticket in tickets]  # what each slot was sent
    assert len(set(streamed)) == 4
    heard = [x for x in page.evaluate(HEARD) if x]
    assert heard == [x for pcm in streamed for x in trimmed(pcm) if x]

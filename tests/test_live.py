"""The live route (qwen_tts_showcase/live.py) against the real app and the simulator: a ticket
from the page's own session, then raw PCM admitted exactly like the Generate event."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from qwen_tts_showcase import live
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.live import MEDIA_TYPE
from qwen_tts_showcase.live_tickets import TICKET_TTL_S, LiveTickets, Outcome
from qwen_tts_showcase.messages import say
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import SpeechOrder
from qwen_tts_showcase.text import estimated_tokens

from .conftest import BEIJING_KEY, REALTIME_DEFAULTS, wait_until
from .helpers import connections_to, page_event

TEXT = "今儿个天儿不错，咱们出去遛遛弯儿吧。"
REFUSED = "was not opened by this page"


def ticket(
    url: str, session: str, text: str = TEXT, api_key: str = "", voice: str = "Cherry"
) -> str:
    """A live ticket from the Studio's hidden start button, as page.js asks for one."""
    # the last: the owner token's gr.State, which the session fills in (ui/voices.py)
    inputs = [text, "qwen-tts-latest", voice, "Auto", "", "beijing", api_key, True, None]
    inputs += REALTIME_DEFAULTS  # the realtime models' controls, ignored for this model
    return page_event(url, "generate_live", inputs, session)[0]


def stream(url: str, token: str) -> requests.Response:
    return requests.get(f"{url}live/{token}", timeout=30)


def end(url: str, token: str) -> requests.Response:
    return requests.get(f"{url}live/{token}/end", timeout=30)


@pytest.fixture
def session() -> str:
    return uuid.uuid4().hex


def test_a_ticket_from_the_page_streams_exactly_the_pcm_dashscope_sent(app, simulator, session):
    _, url = app
    token = ticket(url, session)
    answer = stream(url, token)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == MEDIA_TYPE
    sent = simulator.generation_requests()
    assert len(sent) == 1 and answer.content == sent[0].pcm and len(answer.content) > 24_000
    assert end(url, token).json() == {"state": "complete"}


def test_a_ticket_is_used_once_and_a_made_up_one_reaches_nothing(app, simulator, session):
    _, url = app
    token = ticket(url, session)
    assert stream(url, token).status_code == 200
    again = stream(url, token)
    assert again.status_code == 403 and REFUSED in again.json()["en"]
    made_up = stream(url, "not-a-ticket-from-any-page")
    assert made_up.status_code == 403
    body = made_up.json()
    assert REFUSED in body["en"] and "页面" in body["zh"]
    assert len(simulator.generation_requests()) == 1  # only the first reached DashScope


def test_a_ticket_asked_for_ahead_carries_the_pages_stamp_and_streams_once(app, simulator, session):
    _, url = app
    inputs = [TEXT, "qwen-tts-latest", "Cherry", "Auto", "", "beijing", "", True, None]
    inputs += [*REALTIME_DEFAULTS, "7"]  # the realtime models' controls, then the stamp
    stamp, token = page_event(url, "live_ahead", inputs, session)[0].split(" ")
    assert stamp == "7"  # page.js keeps it only while its inputs still have this stamp
    assert simulator.generation_requests() == []  # asking ahead sends nothing to DashScope
    answer = stream(url, token)
    (sent,) = simulator.generation_requests()
    assert answer.status_code == 200 and answer.content == sent.pcm
    assert stream(url, token).status_code == 403  # single use, like any ticket
    # Played, it becomes the page's ticket; its recording is told to this session only.
    assert page_event(url, "live_use", [token], session)[0] == token
    assert end(url, token).json() == {"state": "complete"}


def test_an_error_before_the_first_audio_is_json_in_both_languages(app, simulator, session):
    _, url = app
    simulator.enqueue_fault("invalid_key")
    answer = stream(url, ticket(url, session))
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["error"] == "InvalidKeyError" and "region" in body["en"] and body["zh"]


def test_no_text_is_refused_before_dashscope(app, simulator, session):
    _, url = app
    answer = stream(url, ticket(url, session, text="   "))
    assert answer.status_code == 400 and "no text" in answer.json()["en"]
    assert simulator.generation_requests() == []


def test_a_failure_mid_stream_is_told_at_the_end_and_nothing_is_cached(
    launch_app, simulator, session
):
    _, url = launch_app(SHOWCASE_CACHE_MAX_MB="50")
    simulator.profile.chunk_seconds = 0.2
    simulator.enqueue_fault("drop_midstream", after_chunks=2)
    token = ticket(url, session)
    answer = stream(url, token)
    assert answer.status_code == 200 and 0 < len(answer.content)
    told = end(url, token)
    assert told.status_code == 502 and "part-way" in told.json()["en"]
    # Not cached: the same order goes to DashScope again, and completes.
    answer = stream(url, ticket(url, session))
    assert end(url, answer.url.rsplit("/", 1)[1]).json() == {"state": "complete"}
    assert len(simulator.generation_requests()) == 2


def test_the_visitor_limit_and_the_budget_apply_and_an_own_key_is_not_in_the_url(
    launch_app, simulator, session
):
    _, url = launch_app(SHOWCASE_VISITOR_REQUESTS="1", SHOWCASE_DAILY_CHAR_BUDGET="12")
    assert stream(url, ticket(url, session, text="你好。")).status_code == 200
    second = stream(url, ticket(url, session, text="再见。"))
    assert (
        second.status_code == 429 and "the most this demo allows one visitor" in second.json()["en"]
    )
    assert second.json()["retry_after_s"] > 0
    # Another visitor is not held by the first one's limit, but by the owner key's budget.
    other = uuid.uuid4().hex
    long = "今天天气很好，我们出去走走吧。"
    refused = stream(url, ticket(url, other, text=long))
    assert refused.status_code == 429 and "budget" in refused.json()["en"]
    # With their own key the budget does not apply; the key stays on the server.
    token = ticket(url, other, text=long, api_key=BEIJING_KEY)  # the simulator's only key
    assert BEIJING_KEY not in token
    answer = stream(url, token)
    assert answer.status_code == 200 and answer.content
    assert BEIJING_KEY not in answer.url


def test_a_cache_hit_streams_without_dashscope(launch_app, simulator, session):
    _, url = launch_app(SHOWCASE_CACHE_MAX_MB="50")
    first = stream(url, ticket(url, session)).content
    again = stream(url, ticket(url, session))
    assert again.status_code == 200 and again.content == first
    assert len(simulator.generation_requests()) == 1


def test_leaving_closes_the_dashscope_stream_and_caches_nothing(launch_app, simulator, session):
    _, url = launch_app(SHOWCASE_CACHE_MAX_MB="50")
    simulator.profile.realtime_factor = 1.0  # real time, two minutes: it outlasts the test
    simulator.profile.fixed_audio_seconds = 120.0
    simulator.profile.chunk_seconds = 0.1
    before = connections_to(simulator.port)
    token = ticket(url, session)
    with requests.get(f"{url}live/{token}", stream=True, timeout=30) as answer:
        assert answer.status_code == 200, answer.content
        assert next(answer.iter_content(4800))  # audio is flowing
    wait_until(lambda: connections_to(simulator.port) == before, "DashScope's stream to close")
    assert end(url, token).json() == {"state": "stopped"}
    simulator.profile.realtime_factor = 0.0
    simulator.profile.fixed_audio_seconds = 3.0
    stream(url, ticket(url, session))
    assert len(simulator.generation_requests()) == 2  # the stopped one was not cached


def test_a_key_that_cannot_be_one_is_refused_without_being_echoed(app, simulator, session):
    _, url = app
    bad = "sk-not a key\r\nX-Injected: 1"
    answer = stream(url, ticket(url, session, api_key=bad))
    assert answer.status_code == 400 and bad not in answer.text and "X-Injected" not in answer.text
    assert simulator.generation_requests() == []


def test_tickets_are_single_use_short_lived_bound_to_an_address_and_told_to_their_session():
    now = [0.0]
    tickets = LiveTickets(clock=lambda: now[0])
    order = SpeechOrder("你好。", "Cherry", "qwen-tts-latest", "beijing")
    visitor = Visitor(session="page-1", ip="10.0.0.1")
    token = tickets.issue(order, visitor, "sk-own", True)
    assert tickets.redeem(token, "10.0.0.2") is None  # another address
    redeemed = tickets.redeem(token, "10.0.0.1")
    assert redeemed.order == order and redeemed.api_key == "sk-own"
    assert "sk-own" not in repr(redeemed)
    assert tickets.redeem(token, "10.0.0.1") is None  # once
    now[0] += 10 * TICKET_TTL_S  # a stream may last long: its ticket stays while it plays
    tickets.end(redeemed, Outcome(stopped=True))
    assert tickets.outcome(token, "page-2", wait_s=0) is None  # not this session's
    assert tickets.outcome(token, "page-1", wait_s=0) == Outcome(stopped=True)
    assert tickets.outcome(token, "page-1", wait_s=0) is None  # told once
    late = tickets.issue(order, visitor, "", True)
    now[0] += TICKET_TTL_S + 1
    assert tickets.redeem(late, "10.0.0.1") is None  # unused too long


ONE_TEXT = str(estimated_tokens(TEXT) * 3 // 2)  # a daily budget for TEXT once, not twice
SLOW_FRAME_S = 60.0  # the simulator's next frame is this far away: a close before it is the app's
PATIENT = {"SHOWCASE_READ_TIMEOUT_S": "90", "SHOWCASE_TOTAL_TIMEOUT_S": "120"}  # not the closer


def hung_up(simulator, bound_s: float = 10.0) -> bool:
    """Whether the simulator saw the app close its stream, polled for at most bound_s (well
    below SLOW_FRAME_S, so a close that waits for the next frame fails)."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        sent = simulator.generation_requests()
        if sent and sent[-1].hung_up_at is not None:
            return True
        time.sleep(0.02)
    return False


def test_a_stop_closes_the_dashscope_stream_at_once_keeps_the_charge_and_caches_nothing(
    launch_app, simulator, session
):
    _, url = launch_app(SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_DAILY_CHAR_BUDGET=ONE_TEXT, **PATIENT)
    simulator.profile.chunk_seconds = 0.5  # one frame now, the next SLOW_FRAME_S later
    simulator.profile.realtime_factor = SLOW_FRAME_S / 0.5
    simulator.profile.fixed_audio_seconds = 3.0
    token = ticket(url, session)
    with requests.get(f"{url}live/{token}", stream=True, timeout=30) as answer:
        assert answer.status_code == 200, answer.content
        assert next(answer.iter_content(4800))  # audio is flowing
    assert hung_up(simulator), "the DashScope stream stayed open until its next frame"
    assert end(url, token).json() == {"state": "stopped"}
    # Audio was sent, so its characters count; and it was not cached (a hit would be served).
    again = stream(url, ticket(url, session))
    assert again.status_code == 429 and "budget" in again.json()["en"]
    assert len(simulator.generation_requests()) == 1


def test_a_stop_before_the_first_audio_closes_the_stream_and_refunds_the_visitor(
    launch_app, simulator, session
):
    _, url = launch_app(SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_DAILY_CHAR_BUDGET=ONE_TEXT, **PATIENT)
    simulator.profile.first_chunk_delay_s = SLOW_FRAME_S
    simulator.profile.fixed_audio_seconds = 3.0
    token = ticket(url, session)
    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=10) as page:  # a fetch, then Stop
        page.sendall(f"GET /live/{token} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        wait_until(lambda: simulator.generation_requests(), "the request to reach DashScope")
    assert hung_up(simulator), "the DashScope stream stayed open until its first frame"
    assert end(url, token).json() == {"state": "stopped"}
    # No audio, so its characters are refunded: the budget still holds the text, sent again.
    simulator.profile.first_chunk_delay_s = 0.0
    again = stream(url, ticket(url, session))
    assert again.status_code == 200 and again.content
    assert len(simulator.generation_requests()) == 2


def test_retries_and_parts_are_told_to_the_page_while_it_streams(launch_app, simulator, session):
    _, url = launch_app()
    simulator.enqueue_fault("throttling_plain")  # the first attempt is throttled, then retried
    token = ticket(url, session)
    assert stream(url, token).status_code == 200
    told = requests.get(f"{url}live/{token}/notices", timeout=10).json()["notices"]
    assert len(told) == 1 and "retrying" in told[0]["en"] and "2 of" in told[0]["en"]
    assert told[0]["zh"] and told[0]["zh"] != told[0]["en"]
    # /end says them too, the last word on a stream too short for the page to have asked
    assert end(url, token).json() == {"state": "complete", "notices": told}
    long = "今天天气很好，我们出去走走吧。" * 60  # over the model's limit: sent in parts
    token = ticket(url, session, text=long)
    assert stream(url, token).status_code == 200
    told = [
        n["en"] for n in requests.get(f"{url}live/{token}/notices", timeout=10).json()["notices"]
    ]
    parts = len(simulator.generation_requests()) - 2
    assert parts > 1 and told == [
        say("speaking_part", number=n, count=parts).en for n in range(1, parts + 1)
    ]
    assert requests.get(f"{url}live/made-up/notices", timeout=10).status_code == 403


def test_a_complete_stream_ends_in_one_event_recording_file_in_its_format_and_history_row(
    app, simulator, session
):
    """What the page gets once a stream ended complete, all from the finish (live_done): the
    recording (DashScope's samples), the download in the format chosen, the row on top of the
    history the browser sent, and its table."""
    _, url = app
    token = ticket(url, session)
    answer = stream(url, token)
    heard = answer.content
    assert answer.headers[live.WORDS_HEADER] == "0"  # an HTTP model: no words to ask /words for
    assert end(url, token).json() == {"state": "complete"}  # nothing was noticed on the way
    earlier = {
        "time": "2026-12-01 08:00:00",
        "model": "qwen-tts-latest",
        "voice": "Dylan",
        "text": "An earlier line.",
        "audio_s": 1.0,
        "first_audio_s": 0.3,
        "total_s": 1.2,
        "billed": 9,
        "billing": "tokens",
        "cache_key": "0" * 64,
    }
    recording, download, caption, readout, _, _, _, rows, table = page_event(
        url, "live_done", [token, "mp3", [earlier], ""], session
    )
    with requests.get(recording["url"], timeout=30) as wav:
        assert wav_to_pcm(wav.content) == heard == simulator.generation_requests()[0].pcm
    assert download["value"]["orig_name"].endswith(".mp3") and download["interactive"]
    assert ".mp3" in caption and "KB" in caption and "readout" in readout
    assert [row["text"] for row in rows] == [TEXT, earlier["text"]]
    assert [line[3] for line in table["data"]][:2] == [TEXT, earlier["text"]]


def test_a_listener_that_reads_slowly_holds_only_seconds_of_audio_in_the_app(
    synthesizer, simulator
):
    """DashScope sends 30 s at once; the body is not read: the app reads ahead only as far as
    READ_AHEAD_BYTES (a chunk more at most), then every sample still arrives, in order."""
    simulator.profile.fixed_audio_seconds = 30.0
    order = SpeechOrder(TEXT, "Cherry", "qwen-tts-latest", "beijing")
    pull = live._Pull(synthesizer.speech(order, visitor=Visitor("slow", "10.0.0.9")))

    async def listen() -> bytes:
        heard = [await pull.read()]
        deadline = time.monotonic() + 60
        while pull._ready_bytes < live.READ_AHEAD_BYTES:  # the thread reads ahead, then waits
            assert time.monotonic() < deadline, "gave up waiting for the read-ahead"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)  # time enough for an unbounded read-ahead to take it all
        chunk_bytes = 2 * round(simulator.profile.chunk_seconds * 24_000)
        assert pull._ready_bytes < live.READ_AHEAD_BYTES + chunk_bytes
        while (audio := await pull.read()) is not None:
            heard.append(audio)
        return b"".join(heard)

    heard = asyncio.run(listen())
    (sent,) = simulator.generation_requests()
    assert len(sent.pcm) == 30 * 48_000 and heard == sent.pcm

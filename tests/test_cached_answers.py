"""Answers someone already paid for (issue 14, items 1 and 16): a limit of their own, one file
per recording, one upstream call for identical requests at once, and "cache" said only to a
visitor who asked before."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from gradio_client.exceptions import AppError

from qwen_tts_showcase.batch import BatchRow, run_batch
from qwen_tts_showcase.downloads import downloads_dir
from qwen_tts_showcase.errors import ContentRejectedError, LimitReachedError
from qwen_tts_showcase.quota import UNMETERED, DiskShare, Visitor
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer

from .conftest import WAIT_LIMIT_S, simulator_settings, wait_until
from .helpers import assert_wav_is

TEXT = "今儿个天儿不错，咱们出去遛遛弯儿吧。"
ALICE, BOB = Visitor("alice", "198.51.100.1"), Visitor("bob", "198.51.100.2")


def cached_app(launch_app, tmp_path, **overrides):
    return launch_app(
        SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(tmp_path / "cache"), **overrides
    )


def folder_bytes() -> int:
    return sum(path.stat().st_size for path in downloads_dir().rglob("*") if path.is_file())


def make(catalogue, simulator, tmp_path, **overrides) -> Synthesizer:
    cache = {"SHOWCASE_CACHE_MAX_MB": "50", "SHOWCASE_CACHE_DIR": str(tmp_path / "cache")}
    settings = simulator_settings(simulator, catalogue, **{**cache, **overrides})
    return Synthesizer(catalogue, settings)


def order(text: str = TEXT) -> SpeechOrder:
    return SpeechOrder(text, "Dylan", "qwen-tts-latest", "beijing")


# --- item 1: a limit of their own, and no new file per answer ------------------------------------


def test_cached_answers_over_the_request_limit_are_served_until_their_own_limit(
    launch_app, simulator, tmp_path, new_client
):
    """/synthesize: a visitor over its per-minute synthesis limit still gets audio already made,
    up to SHOWCASE_CACHED_REQUESTS, then a refusal saying what was reached; none of it writes a
    new file or reaches DashScope."""
    _, url = cached_app(
        launch_app,
        tmp_path,
        SHOWCASE_VISITOR_REQUESTS="1",
        SHOWCASE_CACHED_REQUESTS="3",
        SHOWCASE_DAILY_CHAR_BUDGET="20",
    )
    client = new_client(url)
    first = client.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize")
    pcm = simulator.generation_requests()[0].pcm
    before = folder_bytes()
    again = [
        client.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize") for _ in range(3)
    ]
    for path in again:
        assert_wav_is(path, pcm)
    assert {Path(path).name for path in again} == {Path(first).name}
    assert folder_bytes() == before, "a cached answer writes no new download"
    with pytest.raises(AppError) as caught:
        client.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize")
    assert "ready-made recordings" in str(caught.value) and "现成的录音" in str(caught.value)
    with pytest.raises(AppError, match="1 synthesis"):  # the synthesis limit is its own
        client.predict(TEXT + "!", "Dylan", "qwen-tts-latest", api_name="/synthesize")
    assert len(simulator.generation_requests()) == 1
    other = new_client(url)  # another visitor's cached answers are counted apart
    assert_wav_is(other.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize"), pcm)


def test_cached_answers_count_against_nothing_of_the_budget(simulator, catalogue, tmp_path):
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_DAILY_CHAR_BUDGET="40")
    synthesizer.speech(order(), visitor=ALICE).complete()
    spent = synthesizer.quota.spent_today()
    for _ in range(5):
        assert synthesizer.speech(order(), visitor=BOB).complete().billed >= 0
    assert synthesizer.quota.spent_today() == spent


def test_the_cached_limit_can_never_be_turned_off(simulator, catalogue, tmp_path):
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_CACHED_REQUESTS="0")
    synthesizer.speech(order(), visitor=ALICE).complete()  # made: not a cached answer
    synthesizer.speech(order(), visitor=ALICE).complete()  # the one cached answer allowed
    with pytest.raises(LimitReachedError, match="ready-made"):
        synthesizer.speech(order(), visitor=ALICE).complete()


def history_select(url: str, session: str, row: dict) -> dict:
    """The History table's select event, sent as the page sends it (outside the queue)."""
    config = requests.get(f"{url.rstrip('/')}/config", timeout=WAIT_LIMIT_S).json()
    table = next(
        c["id"] for c in config["components"] if c["props"].get("elem_id") == "history_table"
    )
    fn_index = next(
        index
        for index, dependency in enumerate(config["dependencies"])
        if [table, "select"] in [list(target) for target in dependency["targets"]]
    )
    answer = requests.post(
        f"{url.rstrip('/')}/gradio_api/run/predict",
        json={
            "fn_index": fn_index,
            "data": [[row]],
            "event_data": {"index": [0, 3], "value": row["text"]},
            "session_hash": session,
        },
        timeout=WAIT_LIMIT_S,
    )
    answer.raise_for_status()
    return answer.json()


def test_history_select_of_a_made_up_row_writes_nothing_new_and_is_limited(
    launch_app, simulator, catalogue, tmp_path, new_client
):
    """A made-up row whose key is that of a known text, with a new time on every call."""
    _, url = cached_app(launch_app, tmp_path, SHOWCASE_CACHED_REQUESTS="5")
    client = new_client(url)
    client.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize")
    cache_key = make(catalogue, simulator, tmp_path).plan(order()).cache_key
    before = None
    outputs = []
    for second in range(6):
        row = {
            "time": f"2030-01-01 00:00:{second:02d}",
            "model": "qwen-tts-latest",
            "voice": "Dylan",
            "text": TEXT,
            "audio_s": 1.0,
            "first_audio_s": 0.1,
            "total_s": 0.2,
            "billed": 1,
            "billing": "tokens",
            "cache_key": cache_key,
        }
        outputs.append(history_select(url, "made-up-session", row))
        if before is None:
            before = folder_bytes()
    assert folder_bytes() == before, "a replay writes no new download"
    downloads = [output["data"][2]["value"] for output in outputs[:5]]
    assert all(download and download["path"] == downloads[0]["path"] for download in downloads)
    assert "ready-made recordings" in outputs[5]["data"][3]
    assert outputs[5]["data"][2]["value"] is None


# --- item 16: one upstream call for identical requests, and what the cache reveals ----------------


def run_at_once(synthesizer, simulator, count: int) -> dict[int, object]:
    """`count` visitors ask for the same audio while DashScope holds the first request: their
    results (or errors), once the other visitors all wait on the first."""
    visitors = [Visitor(f"v{n}", f"198.51.100.{n}") for n in range(count)]
    results: dict[int, object] = {}

    def run(number: int) -> None:
        try:
            results[number] = synthesizer.speech(order(), visitor=visitors[number]).complete()
        except Exception as err:  # noqa: BLE001 - the test looks at what each visitor got
            results[number] = err

    simulator.hold()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    try:
        for thread in threads:
            thread.start()

        def waiting() -> int:  # visitors waiting on the first one's audio
            flights = list(getattr(synthesizer.cache, "_flights", {}).values())
            return sum(len(flight._landed._cond._waiters) for flight in flights)

        wait_until(
            lambda: waiting() == count - 1 or len(simulator.generation_requests()) == count,
            "the others to wait on the first (or, each on its own, to reach DashScope)",
        )
    finally:
        simulator.release()
        for thread in threads:
            thread.join(WAIT_LIMIT_S)
    return results


def test_identical_requests_at_once_share_one_upstream_call(simulator, catalogue, tmp_path):
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_READ_TIMEOUT_S="60")
    results = run_at_once(synthesizer, simulator, 6)
    assert len(simulator.generation_requests()) == 1
    pcm = simulator.generation_requests()[0].pcm
    assert len(results) == 6 and all(result.pcm == pcm for result in results.values())
    # Nobody but the one who made it asked before: nobody is told "cache".
    assert not any(result.cached for result in results.values())


def test_with_the_cache_off_identical_requests_still_share_one_call(simulator, catalogue, tmp_path):
    synthesizer = make(
        catalogue, simulator, tmp_path, SHOWCASE_CACHE_MAX_MB="0", SHOWCASE_READ_TIMEOUT_S="60"
    )
    results = run_at_once(synthesizer, simulator, 3)
    assert len(simulator.generation_requests()) == 1
    assert len({result.pcm for result in results.values()}) == 1


def test_when_the_first_fails_the_waiting_requests_try_themselves(simulator, catalogue, tmp_path):
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_READ_TIMEOUT_S="60")
    simulator.enqueue_fault("data_inspection_midstream", after_chunks=0)  # once it is released
    results = run_at_once(synthesizer, simulator, 3)
    failed = [result for result in results.values() if isinstance(result, ContentRejectedError)]
    made = [result for result in results.values() if not isinstance(result, Exception)]
    assert len(failed) == 1 and len(made) == 2 and made[0].pcm == made[1].pcm
    assert len(simulator.generation_requests()) == 2  # the failed one, then one for both others
    assert not synthesizer.cache._flights, "every flight is landed, however it ended"


def test_cache_is_said_only_to_a_visitor_who_asked_before(simulator, catalogue, tmp_path):
    synthesizer = make(catalogue, simulator, tmp_path)
    made = synthesizer.speech(order(), visitor=ALICE).complete()
    assert not made.cached
    bob = synthesizer.speech(order(), visitor=BOB).complete()
    assert bob.pcm == made.pcm and not bob.cached, "Bob must not learn that Alice asked first"
    assert synthesizer.speech(order(), visitor=ALICE).complete().cached
    assert synthesizer.speech(order(), visitor=BOB).complete().cached  # Bob asked before now
    assert synthesizer.speech(order(), visitor=UNMETERED).complete().cached  # the owner's pack
    assert len(simulator.generation_requests()) == 1


def test_a_gallery_line_may_say_cache_to_anyone(simulator, catalogue, tmp_path):
    """The gallery's lines are public: saying "cache" reveals nobody's text."""
    synthesizer = make(catalogue, simulator, tmp_path)
    sample = catalogue.samples[0]
    line = SpeechOrder(sample.text, sample.voice, sample.model, "beijing")
    synthesizer.speech(line, visitor=ALICE).complete()
    assert synthesizer.speech(line, visitor=BOB).complete().cached


# --- the Disk target: what one visitor's new recordings may add a minute ------------------------


def test_a_visitors_new_recordings_are_bounded_per_window_by_session_and_address(
    simulator, catalogue, tmp_path
):
    """A synthesis reserves the most its text can write before it starts: with a 1 MB share the
    first (alone in the window) is let through, the next does not fit and is never sent."""
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_VISITOR_DISK_MB="1")
    texts = [f"第{n}句：今儿个天儿不错，咱们出去遛遛弯儿吧。" for n in range(4)]
    made = synthesizer.speech(order(texts[0]), visitor=ALICE).complete()
    assert len(made.pcm) * 3 < 1024 * 1024, "what it wrote leaves room, but not for the most"
    with pytest.raises(LimitReachedError) as caught:
        synthesizer.speech(order(texts[1]), visitor=ALICE).complete()
    assert "MB" in caught.value.en and "1 min" in caught.value.en and caught.value.zh
    same_address = Visitor("alice-new-tab", ALICE.ip)  # a new session does not dodge it
    with pytest.raises(LimitReachedError):
        synthesizer.speech(order(texts[2]), visitor=same_address).complete()
    assert len(simulator.generation_requests()) == 1
    # What is already made writes nothing new, so it still plays; others are not affected.
    assert synthesizer.speech(order(texts[0]), visitor=ALICE).complete().pcm == made.pcm
    synthesizer.speech(order(texts[1]), visitor=BOB).complete()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MB = 1024 * 1024


def test_a_disk_reservation_must_fit_and_is_settled_at_what_was_written():
    clock = Clock()
    share = DiskShare(10 * MB, 60.0, clock)
    first = share.reserve(ALICE, 6 * MB)
    with pytest.raises(LimitReachedError):
        share.reserve(ALICE, 5 * MB)  # 6 + 5 > 10: refused before anything is written
    first.settle(1 * MB)  # it wrote less than it could have
    share.reserve(ALICE, 5 * MB).settle(5 * MB)
    share.charge(ALICE, 4 * MB)  # already written (an upload): counted, not refused
    with pytest.raises(LimitReachedError) as caught:
        share.reserve(Visitor("alice-other-tab", ALICE.ip), 1)
    assert 0 < caught.value.retry_after_s <= 60
    share.reserve(BOB, 9 * MB)  # another visitor's share is its own
    clock.now += 60.5
    share.reserve(ALICE, 9 * MB)


def test_a_reservation_larger_than_the_share_waits_for_an_empty_window_and_its_size_out():
    """The longest texts may need more than one window's share: alone, and then the visitor waits
    as many windows as it filled, so over time no visitor writes more than the share a window."""
    clock = Clock()
    share = DiskShare(10 * MB, 60.0, clock)
    share.reserve(ALICE, 1 * MB).settle(1 * MB)
    with pytest.raises(LimitReachedError):
        share.reserve(ALICE, 25 * MB)  # not alone in the window
    clock.now += 61
    big = share.reserve(ALICE, 25 * MB)
    with pytest.raises(LimitReachedError):
        share.reserve(ALICE, 1)  # while it runs, nothing else
    big.settle(25 * MB)
    clock.now += 120  # 2 of the 2.5 windows it filled
    with pytest.raises(LimitReachedError):
        share.reserve(ALICE, 1)
    clock.now += 31
    share.reserve(ALICE, 1)


def test_a_batchs_rows_from_the_cache_are_charged_for_their_zip(simulator, catalogue, tmp_path):
    """A row already in the cache still writes its audio anew into the batch's ZIP (and Gradio's
    copy of it): past the visitor's share such rows fail, they do not grow the disk."""
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_VISITOR_DISK_MB="1")
    line = order("今儿个天儿不错，咱们出去遛遛弯儿吧。")
    made = synthesizer.speech(line, visitor=BOB).complete()  # another visitor's: in the cache
    rows = [BatchRow(n, line.text, line.voice, line.model) for n in range(2, 22)]
    result = run_batch(rows, synthesizer, tmp_path / "zips", "beijing", visitor=ALICE)
    ok = [outcome for outcome in result.outcomes if outcome.status == "ok"]
    assert ok, "rows from the cache are served while the share lasts"
    assert len(ok) * len(made.pcm) * 2 <= MB < (len(ok) + 1) * len(made.pcm) * 2
    refused = [outcome for outcome in result.outcomes if outcome.status == "failed"]
    assert refused and all("MB" in outcome.error for outcome in refused)
    assert len(simulator.generation_requests()) == 1


def test_a_new_session_per_request_meets_the_per_address_limit_of_cached_answers(
    simulator, catalogue, tmp_path
):
    synthesizer = make(catalogue, simulator, tmp_path, SHOWCASE_CACHED_REQUESTS="2")
    synthesizer.speech(order(), visitor=ALICE).complete()
    served = 0
    with pytest.raises(LimitReachedError, match="20 ready-made"):
        for number in range(100):
            synthesizer.speech(order(), visitor=Visitor(f"tab{number}", ALICE.ip)).complete()
            served += 1
    assert served == 20  # ten visitors' worth
    synthesizer.speech(order(), visitor=BOB).complete()  # another address is not affected

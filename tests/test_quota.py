"""Quota protection: per-visitor and per-address limits, the owner key's daily budget."""

from __future__ import annotations

import threading
import tracemalloc

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from starlette.datastructures import Headers

from qwen_tts_showcase import quota as quota_module
from qwen_tts_showcase.batch import BatchRow, run_batch
from qwen_tts_showcase.errors import LimitReachedError
from qwen_tts_showcase.quota import DAY_S, Limits, Quota, Visitor, client_ip, visitor_of
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer
from qwen_tts_showcase.text import estimated_tokens

from .conftest import BEIJING_KEY, simulator_settings, submit_generate

ALICE, BOB = Visitor("alice", "198.51.100.1"), Visitor("bob", "198.51.100.2")
LATEST = "qwen-tts-latest"  # billed in estimated tokens: about 4 for each line of the batches below


class Clock:
    """A hand-moved clock for both time sources; starts at noon UTC."""

    def __init__(self) -> None:
        self.now = 20_000 * DAY_S + DAY_S / 2

    def __call__(self) -> float:
        return self.now


def quota(**limits) -> tuple[Quota, Clock]:
    clock = Clock()
    return Quota(Limits(**limits), clock=clock, calendar=clock), clock


# --- the limits themselves ------------------------------------------------------------------------


def test_a_visitor_is_limited_within_the_window_and_told_when_to_come_back():
    limits, clock = quota(visitor_requests=3, visitor_window_s=60)
    for _ in range(3):
        limits.admit(ALICE, 10, owner_key=True)
        clock.now += 10
    with pytest.raises(LimitReachedError) as caught:
        limits.admit(ALICE, 10, owner_key=True)
    assert caught.value.retry_after_s == pytest.approx(30)  # the first start leaves at 60 s
    assert "You have started 3 syntheses in the last 1 min" in caught.value.en
    assert "Try again in 30 s" in caught.value.en and "30 秒后再试" in caught.value.zh
    limits.admit(BOB, 10, owner_key=True)  # others are not affected
    clock.now += 30
    limits.admit(ALICE, 10, owner_key=True)  # a slot freed: a sliding window, not a fixed one


def test_a_refused_attempt_does_not_count():
    limits, clock = quota(visitor_requests=1, visitor_window_s=60)
    limits.admit(ALICE, 1, owner_key=True)
    for _ in range(5):
        clock.now += 10
        with pytest.raises(LimitReachedError):
            limits.admit(ALICE, 1, owner_key=True)
    clock.now += 10
    limits.admit(ALICE, 1, owner_key=True)


def test_an_address_is_limited_across_sessions():
    limits, _ = quota(ip_requests=2, ip_window_s=3600)
    limits.admit(Visitor("tab-1", "203.0.113.7"), 1, owner_key=True)
    limits.admit(Visitor("tab-2", "203.0.113.7"), 1, owner_key=True)
    with pytest.raises(LimitReachedError, match="address has started 2 syntheses in the last 1 h"):
        limits.admit(Visitor("tab-3", "203.0.113.7"), 1, owner_key=True)
    limits.admit(Visitor("tab-4", "203.0.113.8"), 1, owner_key=True)


def test_the_owner_keys_daily_budget_counts_only_the_owner_key_and_resets_at_midnight_utc():
    limits, clock = quota(daily_characters=100)
    limits.admit(ALICE, 60, owner_key=True)
    limits.admit(ALICE, 5_000, owner_key=False)  # the visitor's own key: DashScope bills them
    with pytest.raises(LimitReachedError) as caught:
        limits.admit(BOB, 50, owner_key=True)
    assert "only 40 of today's 100 characters" in caught.value.en
    assert "your own DashScope API key" in caught.value.en
    assert "in 12 h" in caught.value.en and caught.value.retry_after_s == DAY_S / 2
    limits.admit(BOB, 40, owner_key=True)
    with pytest.raises(LimitReachedError, match="used up today's budget of 100 characters"):
        limits.admit(BOB, 1, owner_key=True)
    clock.now += DAY_S / 2  # midnight UTC
    limits.admit(BOB, 100, owner_key=True)


def test_a_refund_gives_the_characters_back_the_same_day_only():
    limits, clock = quota(daily_characters=100)
    limits.admit(ALICE, 30, owner_key=True).refund()
    assert limits.spent_today() == 0
    late = limits.admit(ALICE, 30, owner_key=True)
    clock.now += DAY_S
    limits.admit(ALICE, 90, owner_key=True)
    late.refund()  # yesterday's synthesis: today's count is untouched
    assert limits.spent_today() == 90


def test_zero_turns_every_limit_off_and_unknown_visitors_are_not_limited():
    unlimited, _ = quota()
    admitted = [unlimited.admit(ALICE, 5_000, owner_key=True) for _ in range(1_000)]
    assert len(admitted) == 1_000 and unlimited.spent_today() == 0, "no budget, nothing counted"
    anonymous, _ = quota(visitor_requests=1, ip_requests=1)
    admitted = [anonymous.admit(Visitor(), 1, owner_key=True) for _ in range(3)]
    assert len(admitted) == 3
    anonymous.admit(ALICE, 1, owner_key=True)  # the same limits stop a known visitor
    with pytest.raises(LimitReachedError):
        anonymous.admit(ALICE, 1, owner_key=True)


def memory_held_by_quota() -> int:
    """Bytes allocated by quota.py and still alive (tracemalloc must be tracing)."""
    snapshot = tracemalloc.take_snapshot()
    return sum(
        stat.size
        for stat in snapshot.statistics("filename")
        if stat.traceback[0].filename == quota_module.__file__
    )


def test_idle_visitors_are_forgotten_so_memory_stays_bounded():
    tracemalloc.start()
    try:
        limits, clock = quota(visitor_requests=5, visitor_window_s=60)
        for number in range(10_000):
            limits.admit(Visitor(f"session-{number}"), 1, owner_key=True)
        remembered = memory_held_by_quota()
        clock.now += 61
        limits.admit(ALICE, 1, owner_key=True)
        forgotten = memory_held_by_quota()
    finally:
        tracemalloc.stop()
    assert forgotten < remembered / 4, (remembered, forgotten)


def test_concurrent_visitors_never_get_more_than_the_limit():
    limits, _ = quota(visitor_requests=7)
    admitted = []

    def attempt() -> None:
        try:
            admitted.append(limits.admit(ALICE, 1, owner_key=True))
        except LimitReachedError:
            pass

    threads = [threading.Thread(target=attempt) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 7


# --- who the visitor is ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forwarded", "hops", "expected"),
    [
        ("203.0.113.7", 1, "203.0.113.7"),
        ("10.0.0.1, 203.0.113.7", 1, "203.0.113.7"),  # the left entry is the client's own claim
        ("6.6.6.6, 203.0.113.7, 10.1.1.1", 2, "203.0.113.7"),
        ("", 1, "10.16.3.80"),  # no header: the peer
        ("203.0.113.7", 0, "10.16.3.80"),  # no trusted proxy: the header is ignored
        ("203.0.113.7", 2, "10.16.3.80"),  # fewer entries than proxies: not from our proxies
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(forwarded, hops, expected):
    assert client_ip("10.16.3.80", forwarded, hops) == expected


class FakeRequest:
    """What a gr.Request offers: session_hash, client.host and headers."""

    def __init__(self, headers, host="10.16.3.80", session_hash="abc123") -> None:
        self.headers, self.session_hash = headers, session_hash
        self.client = type("Client", (), {"host": host})()


def test_a_second_forwarded_header_cannot_hide_the_proxys_entry():
    headers = Headers(raw=[(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"203.0.113.7")])
    assert visitor_of(FakeRequest(headers), 1) == Visitor("abc123", "203.0.113.7")
    assert visitor_of(FakeRequest({"x-forwarded-for": "203.0.113.7"}), 1).ip == "203.0.113.7"
    assert visitor_of(None, 1) == Visitor()


# --- in the synthesis: only real API calls count --------------------------------------------------


@pytest.fixture
def limited(simulator, catalogue, tmp_path) -> Synthesizer:
    settings = simulator_settings(
        simulator,
        catalogue,
        SHOWCASE_CACHE_MAX_MB="50",
        SHOWCASE_CACHE_DIR=str(tmp_path),
        SHOWCASE_VISITOR_REQUESTS="2",
        SHOWCASE_DAILY_CHAR_BUDGET="1000",
    )
    return Synthesizer(catalogue, settings)


def speak(synthesizer: Synthesizer, text: str, user_key: str = "") -> bytes:
    order = SpeechOrder(text, "Cherry", "qwen-tts-latest", "beijing")
    return b"".join(synthesizer.speech(order, api_key=user_key, visitor=ALICE))


def test_cache_hits_cost_nothing_and_count_against_nothing(limited, simulator):
    speak(limited, "第一句。")
    for _ in range(5):
        speak(limited, "第一句。")
    assert limited.quota.spent_today() == 4
    speak(limited, "第二句。")
    with pytest.raises(LimitReachedError):
        speak(limited, "第三句。")
    assert [r.body["input"]["text"] for r in simulator.generation_requests()] == [
        "第一句。",
        "第二句。",
    ]


def test_a_synthesis_that_failed_before_any_audio_is_refunded(limited, simulator):
    simulator.enqueue_fault("data_inspection")
    with pytest.raises(Exception, match="content safety"):
        speak(limited, "一句话。")
    assert limited.quota.spent_today() == 0


def test_a_visitors_own_key_is_not_charged_to_the_owners_budget(limited, simulator):
    speak(limited, "自带 Key。", user_key=BEIJING_KEY)
    assert limited.quota.spent_today() == 0
    assert simulator.generation_requests()[0].headers["authorization"] == f"Bearer {BEIJING_KEY}"


def test_a_batch_counts_as_one_request_and_each_row_against_the_budget(
    simulator, catalogue, tmp_path
):
    settings = simulator_settings(
        simulator, catalogue, SHOWCASE_VISITOR_REQUESTS="1", SHOWCASE_DAILY_CHAR_BUDGET="8"
    )
    synthesizer = Synthesizer(catalogue, settings)
    rows = [
        BatchRow(2, "一二三。", "Cherry", LATEST),
        BatchRow(3, "四五六。", "Cherry", LATEST),
        BatchRow(4, "七八九。", "Cherry", LATEST),
    ]
    result = run_batch(rows, synthesizer, tmp_path, "beijing", visitor=ALICE)
    assert [o.status for o in result.outcomes] == ["ok", "ok", "failed"]
    assert "used up today's budget of 8 characters" in result.outcomes[2].error
    with pytest.raises(LimitReachedError, match="You have started 1 synthesis in the last"):
        run_batch(rows, synthesizer, tmp_path, "beijing", visitor=ALICE)
    assert len(simulator.generation_requests()) == 2


# --- through the app ------------------------------------------------------------------------------


def synthesize(client: Client, text: str):
    return client.predict(text, "Cherry", "qwen-tts-latest", api_name="/synthesize")


def test_the_app_limits_each_visitor_and_says_so(launch_app, simulator, new_client):
    client, url = launch_app(SHOWCASE_VISITOR_REQUESTS="2")
    synthesize(client, "一。")
    synthesize(client, "二。")
    with pytest.raises(AppError) as caught:
        synthesize(client, "三。")
    assert "You have started 2 syntheses" in str(caught.value)
    assert "达到本演示对每位访客的上限" in str(caught.value)
    assert len(simulator.generation_requests()) == 2, "refused before any API call"
    synthesize(new_client(url), "三。")  # another visitor is served


def test_the_app_limits_an_address_and_ignores_a_forged_forwarded_entry(
    launch_app, simulator, new_client
):
    _, url = launch_app(SHOWCASE_IP_REQUESTS="2", SHOWCASE_TRUSTED_PROXY_HOPS="1")

    def visitor(forwarded: str) -> Client:
        return new_client(url, headers={"X-Forwarded-For": forwarded})

    synthesize(visitor("1.1.1.1, 203.0.113.7"), "一。")
    synthesize(visitor("2.2.2.2, 203.0.113.7"), "二。")
    with pytest.raises(AppError, match="Your network address has started 2 syntheses"):
        synthesize(visitor("3.3.3.3, 203.0.113.7"), "三。")
    synthesize(visitor("1.1.1.1, 203.0.113.8"), "三。")


def test_the_app_stops_the_owners_key_at_the_daily_budget_but_not_a_visitors_key(
    launch_app, simulator
):
    client, _ = launch_app(SHOWCASE_DAILY_CHAR_BUDGET="30")
    synthesize(client, "一" * 20)
    with pytest.raises(AppError, match="only 10 of today's 30 characters"):
        synthesize(client, "二" * 20)
    job = submit_generate(client, "二" * 20, api_key=BEIJING_KEY)
    assert job.result()[1].endswith(".wav")
    assert len(simulator.generation_requests()) == 2


# --- counted as DashScope bills, shared out (issue 14, items 5 and 6) -----------------------------


def budgeted(simulator, catalogue, **overrides) -> Synthesizer:
    settings = simulator_settings(simulator, catalogue, **overrides)
    return Synthesizer(catalogue, settings)


def say_as(synthesizer, text, visitor=ALICE, model="qwen3-tts-flash", voice="Cherry"):
    order = SpeechOrder(text, voice, model, "beijing")
    return synthesizer.speech(order, visitor=visitor).complete()


def test_the_budget_counts_chinese_as_qwen3_bills_it(simulator, catalogue):
    """Two 499-character Chinese texts: 998 characters, but qwen3 bills 1,996 (a Han is 2)."""
    synthesizer = budgeted(simulator, catalogue, SHOWCASE_DAILY_CHAR_BUDGET="1000")
    first = say_as(synthesizer, "天" * 499)
    assert first.billed == 998 == synthesizer.quota.spent_today(), "counted as DashScope billed"
    with pytest.raises(LimitReachedError, match="only 2 of today's 1,000 characters"):
        say_as(synthesizer, "地" * 499)
    assert len(simulator.generation_requests()) == 1


def test_the_budget_counts_qwen_tts_in_estimated_tokens(simulator, catalogue):
    synthesizer = budgeted(simulator, catalogue, SHOWCASE_DAILY_CHAR_BUDGET="1000")
    text = "Hello, world. " * 10
    say_as(synthesizer, text, model="qwen-tts-latest")
    assert synthesizer.quota.spent_today() == estimated_tokens(text.strip()) != len(text.strip())


def test_admitted_characters_never_exceed_the_budget_under_100_racing_requests(
    simulator, catalogue
):
    synthesizer = budgeted(simulator, catalogue, SHOWCASE_DAILY_CHAR_BUDGET="1000")
    results, refused, start = [], [], threading.Barrier(100)

    def visitor(number: int) -> None:
        start.wait()
        try:
            results.append(say_as(synthesizer, f"第{number:03d}号" + "天" * 25, Visitor()))
        except LimitReachedError:
            refused.append(number)

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    billed = sum(result.billed for result in results)  # what the simulator's usage said
    assert len(results) + len(refused) == 100
    assert billed <= 1000 and len(results) == 1000 // 57, billed  # 27 Han (2 each) + 3 digits
    assert billed == synthesizer.quota.spent_today()


def test_one_visitor_and_one_address_get_only_their_share_of_the_budget(simulator, catalogue):
    synthesizer = budgeted(
        simulator,
        catalogue,
        SHOWCASE_DAILY_CHAR_BUDGET="1000",
        SHOWCASE_VISITOR_DAILY_CHARS="100",
        SHOWCASE_IP_DAILY_CHARS="150",
    )
    say_as(synthesizer, "天" * 40)  # 80 of Alice's 100
    with pytest.raises(LimitReachedError, match="only 20 of the 100 characters one visitor") as err:
        say_as(synthesizer, "地" * 20)
    assert "每位访客" in err.value.zh
    same_address = Visitor("alice-again", ALICE.ip)  # a fresh session from the same address
    say_as(synthesizer, "人" * 30, same_address)  # 140 of the address's 150
    with pytest.raises(LimitReachedError, match="only 10 of the 150 characters one network"):
        say_as(synthesizer, "和" * 10, same_address)
    say_as(synthesizer, "和" * 40, BOB)  # others keep their own share
    synthesizer.speech(
        SpeechOrder("和" * 40, "Cherry", "qwen3-tts-flash", "beijing"),
        visitor=ALICE,
        api_key=BEIJING_KEY,
    ).complete()  # an own key is not counted
    assert synthesizer.quota.spent_today() == 80 + 60 + 80


def test_a_refund_gives_the_share_back(simulator, catalogue):
    synthesizer = budgeted(simulator, catalogue, SHOWCASE_VISITOR_DAILY_CHARS="100")
    simulator.enqueue_fault("data_inspection")
    with pytest.raises(Exception, match="content safety"):
        say_as(synthesizer, "天" * 40)
    say_as(synthesizer, "天" * 50)  # the refused 80 were given back


def test_a_batchs_rows_count_against_the_visitors_share_as_they_run(simulator, catalogue, tmp_path):
    synthesizer = budgeted(
        simulator, catalogue, SHOWCASE_VISITOR_REQUESTS="1", SHOWCASE_VISITOR_DAILY_CHARS="8"
    )
    rows = [
        BatchRow(2, "一二三。", "Cherry", LATEST),
        BatchRow(3, "四五六。", "Cherry", LATEST),
        BatchRow(4, "七八九。", "Cherry", LATEST),
    ]
    result = run_batch(rows, synthesizer, tmp_path, "beijing", visitor=ALICE)
    assert [o.status for o in result.outcomes] == ["ok", "ok", "failed"]
    assert "one visitor may spend today" in result.outcomes[2].error
    assert len(simulator.generation_requests()) == 2

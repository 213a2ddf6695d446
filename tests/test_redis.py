"""The limits protecting the owner's key, kept in a real redis-server (shared_state.py): two
stores standing for two replicas, each with its own client, share every limit; admissions are
atomic; keys expire by themselves; an unreachable Redis refuses the owner's key, and the stores
recover by themselves when it returns."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from qwen_tts_showcase.errors import LimitReachedError
from qwen_tts_showcase.quota import CachedAnswers, Limits, Quota, Visitor
from qwen_tts_showcase.shared_state import (
    PREFIX,
    RedisCachedAnswers,
    RedisQuota,
    RedisVoiceBook,
    Stores,
)
from qwen_tts_showcase.voices import OwnedVoice, VoiceBook, owner_id

from .real_services import RedisServer

ALICE = Visitor("alice", "10.0.0.1")
BOB = Visitor("bob", "10.0.0.2")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def replicas(redis_server: RedisServer) -> Iterator[tuple[Stores, Stores]]:
    """Two stores on one emptied Redis, as two replicas would have."""
    redis.Redis.from_url(redis_server.url).flushdb()
    yield Stores(redis_server.url), Stores(redis_server.url)


def test_without_a_url_the_stores_are_todays_in_memory_ones(tmp_path):
    stores = Stores("")
    assert not stores.shared
    assert type(stores.quota(Limits())) is Quota
    assert type(stores.cached_answers(5, 60)) is CachedAnswers
    assert type(stores.voice_book(tmp_path)) is VoiceBook


def test_with_a_url_they_are_kept_in_redis(replicas, tmp_path):
    one, _ = replicas
    assert isinstance(one.quota(Limits()), RedisQuota)
    assert isinstance(one.cached_answers(5, 60), RedisCachedAnswers)
    assert isinstance(one.voice_book(tmp_path), RedisVoiceBook)


def test_racing_admissions_on_two_replicas_never_pass_the_daily_budget(replicas):
    limits = Limits(daily_characters=1_000)
    quotas = [stores.quota(limits) for stores in replicas]
    admitted, refused = [], []
    lock = threading.Lock()

    def ask(i: int) -> None:
        visitor = Visitor(f"s{i}", f"10.1.0.{i}")
        try:
            quotas[i % 2].admit(visitor, 30, owner_key=True)
        except LimitReachedError as err:
            with lock:
                refused.append(err)
        else:
            with lock:
                admitted.append(30)

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(ask, range(100)))
    assert sum(admitted) == 990  # 33 of 30: the 34th would pass 1,000
    assert len(refused) == 67
    assert all("today's budget" in err.en or "only" in err.en for err in refused)
    assert quotas[0].spent_today() == quotas[1].spent_today() == 990


def test_a_refund_on_one_replica_frees_the_characters_for_the_other(replicas):
    limits = Limits(daily_characters=100, visitor_daily_characters=60)
    first, second = (stores.quota(limits) for stores in replicas)
    admission = first.admit(ALICE, 60, owner_key=True)
    with pytest.raises(LimitReachedError) as refused:
        second.admit(ALICE, 10, owner_key=True)
    assert "share" in refused.value.en
    admission.refund()
    assert first.spent_today() == 0
    second.admit(ALICE, 60, owner_key=True)
    assert first.spent_today() == 60


def test_visitor_and_address_windows_are_shared_and_say_when(replicas):
    limits = Limits(visitor_requests=2, visitor_window_s=60, ip_requests=3, ip_window_s=3600)
    first, second = (stores.quota(limits) for stores in replicas)
    first.admit(ALICE, 5, owner_key=True)
    second.admit(ALICE, 5, owner_key=True)
    with pytest.raises(LimitReachedError) as refused:
        first.admit(ALICE, 5, owner_key=True)
    assert "2 syntheses" in refused.value.en and 59 <= refused.value.retry_after_s <= 60
    # Another visitor at the same address: the address's third
    second.admit(Visitor("carol", ALICE.ip), 5, owner_key=True)
    with pytest.raises(LimitReachedError) as refused:
        first.admit(Visitor("dave", ALICE.ip), 5, owner_key=True)
    assert "address" in refused.value.en
    # A batch's rows (request already counted) are charged characters only
    first.admit(Visitor("alice", ALICE.ip, request_counted=True), 5, owner_key=True)


def test_every_limit_key_expires_by_itself(replicas, redis_server, tmp_path):
    one, _ = replicas
    limits = Limits(3, 60, 3, 3600, 1_000, 500, 500)
    one.quota(limits).admit(ALICE, 10, owner_key=True)
    one.cached_answers(5, 60).admit(ALICE)
    one.voice_book(tmp_path).claim(("a", "b"), 5, 2)
    client = redis.Redis.from_url(redis_server.url)
    keys = client.keys(PREFIX + "*")
    assert len(keys) == 10
    for key in keys:
        assert 0 < client.ttl(key) <= 86_400 + 3600, key


def test_cached_answers_are_limited_across_replicas(replicas):
    first, second = (stores.cached_answers(2, 60) for stores in replicas)
    first.admit(ALICE)
    second.admit(ALICE)
    with pytest.raises(LimitReachedError) as refused:
        first.admit(ALICE)
    assert refused.value.msg.key == "cached_limit" and 59 <= refused.value.retry_after_s <= 60
    second.admit(BOB)


def _voice(name: str, token: str, owner_key: bool = True, at: float = 1_000.0) -> OwnedVoice:
    return OwnedVoice(name, "design", "vd", "beijing", name, owner_id(token), owner_key, at)


def test_voice_book_and_caps_are_shared_and_claimed_atomically(replicas, tmp_path):
    books = [stores.voice_book(tmp_path / str(i)) for i, stores in enumerate(replicas)]
    books[0].add(_voice("v1", "tok-a"))
    assert books[1].get("v1") == _voice("v1", "tok-a")
    assert [v.voice for v in books[1].mine("tok-a")] == ["v1"]
    assert books[1].mine("tok-b") == []
    assert [v.voice for v in books[1].expired(0)] == ["v1"]
    books[1].remove("v1")
    assert books[0].get("v1") is None and books[0].mine("tok-a") == []

    claimed, refused = [], []

    def claim(i: int) -> None:
        try:
            claimed.append(books[i % 2].claim((f"who{i % 3}",), 5, 2))
        except LimitReachedError as err:
            refused.append(err)

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(claim, range(30)))
    assert len(claimed) == 5 and books[0].created_today() == 5
    assert {"voices_space_cap", "voices_visitor_cap"} >= {err.msg.key for err in refused}
    claimed[0]()  # a voice that was not made gives its place back
    assert books[1].created_today() == 4


def test_redis_down_refuses_the_owner_key_keeps_own_keys_and_recovers(redis_server, tmp_path):
    redis.Redis.from_url(redis_server.url).flushdb()
    stores = Stores(redis_server.url)
    quota = stores.quota(Limits(visitor_requests=2, daily_characters=1_000))
    answers = stores.cached_answers(2, 60)
    book = stores.voice_book(tmp_path)
    quota.admit(ALICE, 10, owner_key=True)
    redis_server.kill()
    try:
        with pytest.raises(LimitReachedError) as refused:
            quota.admit(BOB, 10, owner_key=True)
        assert "shared usage counters" in refused.value.en
        assert "共享用量计数器" in refused.value.zh
        assert refused.value.msg.key == "shared_state_down"
        # a visitor's own key: counted in this process meanwhile, limits still apply
        quota.admit(BOB, 10, owner_key=False)
        quota.admit(BOB, 10, owner_key=False)
        with pytest.raises(LimitReachedError) as limited:
            quota.admit(BOB, 10, owner_key=False)
        assert limited.value.msg.key == "visitor_limit"
        answers.admit(BOB)  # cached answers spend nothing of the key
        with pytest.raises(LimitReachedError) as voices_down:
            book.mine("tok")
        assert voices_down.value.msg.key == "shared_state_down"
        assert quota.spent_today() == 0
    finally:
        redis_server.start()  # the same port, empty: as after a restart without persistence
    quota.admit(BOB, 10, owner_key=True)  # back by itself, scripts loaded again
    assert quota.spent_today() == 10
    assert book.mine("tok") == []

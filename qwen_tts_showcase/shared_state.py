"""Where the limits protecting the owner's key live: this process's memory, or Redis.

One process (the default) keeps them in memory, exactly as quota.py and voices.py do. Several
replicas behind a load balancer share them through Redis (SHOWCASE_REDIS_URL): otherwise each
replica would spend the whole daily budget and give each visitor its limits once per replica.

With Redis, every admission is one Lua script (checked and counted at once: no two replicas can
both see room for the last characters), every key expires by itself (windows after their window,
daily counters the day after), and times are wall-clock milliseconds, the same on every replica.

When Redis cannot be reached, the owner's key is not spent unchecked: what would charge it is
refused with a message saying why (fail closed). Visitors' own keys keep working (their windows
are then counted in this process's memory), and so do cached answers. redis-py reconnects on
the next command, so the app recovers by itself when Redis returns; its scripts are loaded
again if Redis restarted empty.

What stays per replica, by design: the audio cache and the files for download (each replica has
its own disk), the memory of which visitor asked for which recording, and the disk share.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .errors import LimitReachedError
from .messages import say
from .quota import (
    DAY_S,
    Admission,
    CachedAnswers,
    Limits,
    Quota,
    Visitor,
    _budget_spent,
    _cached_limit,
    _ip_limit,
    _share_spent,
    _visitor_limit,
)
from .voices import MAX_VOICES, OwnedVoice, VoiceBook, owner_id

log = logging.getLogger(__name__)

PREFIX = "qwen-tts-showcase:"
RETRY_AFTER_DOWN_S = 30.0  # what a refusal says while Redis is unreachable
# A Redis that does not answer must not hold a visitor's synthesis: a refusal comes this fast.
CONNECT_TIMEOUT_S = 0.5
COMMAND_TIMEOUT_S = 1.0


def connect(url: str) -> redis.Redis:
    """A client for SHOWCASE_REDIS_URL with short timeouts and one immediate retry (a connection
    Redis closed on restart is replaced at once); nothing is sent yet."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )


def shared_state_down() -> LimitReachedError:
    """What a visitor reads when the shared counters cannot be reached (fail closed)."""
    message = say(
        "shared_state_down",
        own_key=say("own_key_instead", where_key=say("where_key")),
        wait=RETRY_AFTER_DOWN_S,
    )
    return LimitReachedError(message, retry_after_s=RETRY_AFTER_DOWN_S)


class Stores:
    """Makes the stores of the limits: in memory (no URL) or in one Redis (a URL)."""

    def __init__(self, redis_url: str = "", calendar: Callable[[], float] = time.time) -> None:
        self.redis_url = redis_url
        self.client = connect(redis_url) if redis_url else None
        self._calendar = calendar

    @property
    def shared(self) -> bool:
        return self.client is not None

    def quota(self, limits: Limits) -> Quota:
        if self.client is None:
            return Quota(limits)
        return RedisQuota(limits, self.client, calendar=self._calendar)

    def cached_answers(self, limit: int, window_s: float) -> CachedAnswers:
        if self.client is None:
            return CachedAnswers(limit, window_s)
        return RedisCachedAnswers(limit, window_s, self.client, calendar=self._calendar)

    def voice_book(self, directory: Path) -> VoiceBook:
        if self.client is None:
            return VoiceBook(directory)
        return RedisVoiceBook(directory, self.client, clock=self._calendar)


# --- Sliding windows and the daily budget --------------------------------------------------

# Shared by every admission script: how long until `key` (a sorted set of start times, ms) has
# room for one more start, 0 when it has now (limit 0 = unlimited).
_WINDOW_LUA = """
local function window_wait(key, limit, window, now)
  if limit <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
local function window_add(key, limit, window, now, member)
  if limit <= 0 then return end
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window))
end
"""

# KEYS: visitor window, address window, day's spent, visitor's day share, address's day share.
# Returns {0} when admitted, else {what, number}: 1/2 a window's wait (ms), 3/4/5 what was spent.
_ADMIT_LUA = (
    _WINDOW_LUA
    + """
local now, count = tonumber(ARGV[1]), ARGV[2] == '1'
local vlimit, vwindow = tonumber(ARGV[3]), tonumber(ARGV[4])
local ilimit, iwindow = tonumber(ARGV[5]), tonumber(ARGV[6])
local charged, budget = tonumber(ARGV[7]), tonumber(ARGV[8])
local shared, vshare, ishare = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local member, day_ttl = ARGV[12], tonumber(ARGV[13])
if count then
  local wait = window_wait(KEYS[1], vlimit, vwindow, now)
  if wait > 0 then return {1, wait} end
  wait = window_wait(KEYS[2], ilimit, iwindow, now)
  if wait > 0 then return {2, wait} end
end
local spent = tonumber(redis.call('GET', KEYS[3]) or '0')
if charged > 0 and spent + charged > budget then return {3, spent} end
local vspent = tonumber(redis.call('GET', KEYS[4]) or '0')
if shared > 0 and vshare > 0 and vspent + shared > vshare then return {4, vspent} end
local ispent = tonumber(redis.call('GET', KEYS[5]) or '0')
if shared > 0 and ishare > 0 and ispent + shared > ishare then return {5, ispent} end
if count then
  window_add(KEYS[1], vlimit, vwindow, now, member)
  window_add(KEYS[2], ilimit, iwindow, now, member)
end
if charged > 0 then
  redis.call('INCRBY', KEYS[3], charged)
  redis.call('EXPIRE', KEYS[3], day_ttl)
end
if shared > 0 and vshare > 0 then
  redis.call('INCRBY', KEYS[4], shared)
  redis.call('EXPIRE', KEYS[4], day_ttl)
end
if shared > 0 and ishare > 0 then
  redis.call('INCRBY', KEYS[5], shared)
  redis.call('EXPIRE', KEYS[5], day_ttl)
end
return {0, 0}
"""
)

# KEYS: counters; ARGV: what to take back from each (never below 0; a 0 counter is removed).
_REFUND_LUA = """
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[i])
  if amount > 0 and redis.call('EXISTS', key) == 1 then
    if redis.call('DECRBY', key, amount) <= 0 then redis.call('DEL', key) end
  end
end
return 0
"""


class RedisQuota(Quota):
    """Quota's limits kept in Redis, one script per admission; the in-memory Quota it extends
    counts visitors' own keys while Redis is unreachable."""

    def __init__(
        self,
        limits: Limits,
        client: redis.Redis,
        calendar: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limits, calendar=calendar)
        self._client = client
        self._admit_script = client.register_script(_ADMIT_LUA)
        self._refund_script = client.register_script(_REFUND_LUA)

    def admit(self, visitor: Visitor, characters: int, owner_key: bool) -> Admission:
        """Count one synthesis of `characters` in Redis, or raise LimitReachedError (a limit, or
        Redis unreachable while the owner's key would be spent)."""
        limits = self.limits
        wall = self._calendar()
        day, reset_s = int(wall // DAY_S), DAY_S - wall % DAY_S
        charged = characters if owner_key and limits.daily_characters else 0
        shared = characters if owner_key else 0
        keys = _quota_keys(visitor, day)
        args = [
            int(wall * 1000),
            0 if visitor.request_counted else 1,
            limits.visitor_requests if visitor.session else 0,
            int(limits.visitor_window_s * 1000),
            limits.ip_requests if visitor.ip else 0,
            int(limits.ip_window_s * 1000),
            charged,
            limits.daily_characters,
            shared,
            limits.visitor_daily_characters if visitor.session else 0,
            limits.ip_daily_characters if visitor.ip else 0,
            secrets.token_hex(8),
            int(reset_s) + 3600,  # a day's counters outlive it by an hour, then go
        ]
        try:
            what, number = self._admit_script(keys=keys, args=args)
        except redis.RedisError as err:
            if owner_key:
                log.warning("shared limits unreachable, owner key refused: %s", type(err).__name__)
                raise shared_state_down() from err
            return super().admit(visitor, characters, owner_key)  # counted here meanwhile
        what, number = int(what), int(number)
        if what == 1:
            raise _visitor_limit(limits, number / 1000)
        if what == 2:
            raise _ip_limit(limits, number / 1000)
        if what == 3:
            raise _budget_spent(limits.daily_characters, number, charged, reset_s)
        if what in (4, 5):
            words, share = (
                ("visitor_share_spent", limits.visitor_daily_characters)
                if what == 4
                else ("address_share_spent", limits.ip_daily_characters)
            )
            raise _share_spent(words, share, number, characters, reset_s)
        amounts = [
            charged,
            shared if limits.visitor_daily_characters and visitor.session else 0,
            shared if limits.ip_daily_characters and visitor.ip else 0,
        ]
        return Admission(refund=lambda: self._refund(keys[2:], amounts))

    def spent_today(self) -> int:
        """Characters of the owner's key counted today by every replica (0 when unreachable)."""
        day = int(self._calendar() // DAY_S)
        try:
            return int(self._client.get(_quota_keys(Visitor(), day)[2]) or 0)
        except redis.RedisError:
            return 0

    def _refund(self, keys: list[str], amounts: list[int]) -> None:  # type: ignore[override]
        if not any(amounts):
            return
        try:
            self._refund_script(keys=keys, args=amounts)
        except redis.RedisError as err:  # the characters stay counted: the safe side
            log.warning("refund not recorded, Redis unreachable: %s", type(err).__name__)


def _quota_keys(visitor: Visitor, day: int) -> list[str]:
    return [
        f"{PREFIX}win:visitor:{visitor.session}",
        f"{PREFIX}win:ip:{visitor.ip}",
        f"{PREFIX}day:{day}:spent",
        f"{PREFIX}day:{day}:visitor:{visitor.session}",
        f"{PREFIX}day:{day}:ip:{visitor.ip}",
    ]


# KEYS: the visitor's window, the address's window; ARGV: now, limits and windows, member.
_CACHED_LUA = (
    _WINDOW_LUA
    + """
local now = tonumber(ARGV[1])
local vlimit, ilimit, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = window_wait(KEYS[1], vlimit, window, now)
if wait > 0 then return {1, wait} end
wait = window_wait(KEYS[2], ilimit, window, now)
if wait > 0 then return {2, wait} end
window_add(KEYS[1], vlimit, window, now, ARGV[5])
window_add(KEYS[2], ilimit, window, now, ARGV[5])
return {0, 0}
"""
)


class RedisCachedAnswers(CachedAnswers):
    """The cached answers' limit counted in Redis (every replica together). Which visitor asked
    for which recording stays in memory: each replica has its own cache. A cached answer spends
    nothing of the owner's key, so while Redis is unreachable it is counted here instead."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        client: redis.Redis,
        calendar: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limit, window_s)
        self._calendar = calendar
        self._script = client.register_script(_CACHED_LUA)

    def admit(self, visitor: Visitor) -> None:
        who = visitor.session or visitor.ip
        args = [
            int(self._calendar() * 1000),
            self.limit if who else 0,
            self.limit * self.PER_ADDRESS if visitor.ip else 0,
            int(self.window_s * 1000),
            secrets.token_hex(8),
        ]
        keys = [f"{PREFIX}cached:visitor:{who}", f"{PREFIX}cached:ip:{visitor.ip}"]
        try:
            what, wait_ms = map(int, self._script(keys=keys, args=args))
        except redis.RedisError:
            super().admit(visitor)
            return
        if what == 1:
            raise _cached_limit(self.limit, self.window_s, wait_ms / 1000)
        if what == 2:
            raise _cached_limit(self.limit * self.PER_ADDRESS, self.window_s, wait_ms / 1000)


# --- Voices of visitors' own: the book and the Space key's daily caps -------------------------

# KEYS: the day's creations by anyone, then one counter per way the maker is known.
# ARGV: the Space's cap, the visitor's cap, the counters' lifetime. {0} claimed, else {1|2}.
_CLAIM_LUA = """
local per_day, per_visitor, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if per_day > 0 and tonumber(redis.call('GET', KEYS[1]) or '0') >= per_day then return 1 end
if per_visitor > 0 then
  for i = 2, #KEYS do
    if tonumber(redis.call('GET', KEYS[i]) or '0') >= per_visitor then return 2 end
  end
end
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ttl)
end
return 0
"""

# KEYS: the book, the owner's index. ARGV: name, record, owner, most voices kept.
# Past the most, the oldest voices made with visitors' own keys are forgotten (as VoiceBook).
_ADD_LUA = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
local most = tonumber(ARGV[4])
local over = redis.call('HLEN', KEYS[1]) - most
if over <= 0 then return 0 end
local own = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local voice = cjson.decode(all[i + 1])
  if not voice.owner_key then table.insert(own, voice) end
end
table.sort(own, function(a, b) return a.created_at < b.created_at end)
for i = 1, math.min(over, #own) do
  redis.call('HDEL', KEYS[1], own[i].voice)
  redis.call('SREM', ARGV[5] .. own[i].owner, own[i].voice)
end
return over
"""


class RedisVoiceBook(VoiceBook):
    """The book of voices in Redis, so every replica knows who owns which voice, and the Space
    key's creations counted per day in Redis, claimed before a voice is made (one script)."""

    BOOK = f"{PREFIX}voices"
    OWNERS = f"{PREFIX}voices:owner:"

    def __init__(
        self, directory: Path, client: redis.Redis, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._claim_script = client.register_script(_CLAIM_LUA)
        self._add_script = client.register_script(_ADD_LUA)
        self._unclaim_script = client.register_script(_REFUND_LUA)
        super().__init__(directory, clock=clock)

    def _load(self) -> None:  # nothing on disk: the book is in Redis
        pass

    def _call(self, command: Callable, *args, **options):
        """A Redis command; unreachable Redis becomes the visitor's clear refusal."""
        try:
            return command(*args, **options)
        except redis.RedisError as err:
            raise shared_state_down() from err

    def add(self, voice: OwnedVoice) -> None:
        record = json.dumps(asdict(voice))
        self._call(
            self._add_script,
            keys=[self.BOOK, self.OWNERS + voice.owner],
            args=[voice.voice, record, voice.owner, MAX_VOICES, self.OWNERS],
        )

    def remove(self, name: str) -> None:
        found = self.get(name)
        if found is None:
            return
        pipe = self._client.pipeline()
        pipe.hdel(self.BOOK, name)
        pipe.srem(self.OWNERS + found.owner, name)
        self._call(pipe.execute)

    def get(self, name: str) -> OwnedVoice | None:
        raw = self._call(self._client.hget, self.BOOK, name)
        return OwnedVoice(**json.loads(raw)) if raw else None

    def mine(self, token: str) -> list[OwnedVoice]:
        if not token:
            return []
        names = sorted(self._call(self._client.smembers, self.OWNERS + owner_id(token)))
        raws = self._call(self._client.hmget, self.BOOK, names) if names else []
        voices = [OwnedVoice(**json.loads(raw)) for raw in raws if raw]
        return sorted(voices, key=lambda v: v.created_at)

    def expired(self, retention_s: float) -> list[OwnedVoice]:
        now = self._clock()
        raws = self._call(self._client.hvals, self.BOOK)
        voices = (OwnedVoice(**json.loads(raw)) for raw in raws)
        return [v for v in voices if v.owner_key and now - v.created_at >= retention_s]

    def created_today(self, who: tuple[str, ...] | None = None) -> int:
        keys = self._claim_keys(who or ())
        counts = [int(n or 0) for n in self._call(self._client.mget, keys)]
        return counts[0] if who is None else max(counts[1:], default=0)

    def claim(self, who: tuple[str, ...], per_day: int, per_visitor: int) -> Callable[[], None]:
        keys = self._claim_keys(who)
        ttl = int(DAY_S - self._clock() % DAY_S) + 3600
        refused = self._call(self._claim_script, keys=keys, args=[per_day, per_visitor, ttl])
        if int(refused):
            raise self._cap_refusal(int(refused) == 1, per_day, per_visitor)
        return lambda: self._unclaim(keys)

    def _unclaim(self, keys: list[str]) -> None:
        try:
            self._unclaim_script(keys=keys, args=[1] * len(keys))
        except redis.RedisError as err:  # the creation stays counted: the safe side
            log.warning("voice cap not given back, Redis unreachable: %s", type(err).__name__)

    def _claim_keys(self, who: tuple[str, ...]) -> list[str]:
        day = int(self._clock() // DAY_S)
        return [f"{PREFIX}voices:day:{day}"] + [f"{PREFIX}voices:day:{day}:{w}" for w in who]

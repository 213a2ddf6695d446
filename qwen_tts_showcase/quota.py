"""Quota protection for a public Space: how often visitors may synthesize, and how much of the
owner's key a day may spend.

Three limits, each turned off by 0:
- per visitor (one Gradio session: a page load, or one gradio_client) and per IP address: a
  sliding window of synthesis starts, so a burst is refused and the refusal says when a slot frees;
- a daily character budget for the Space owner's key, reset at midnight UTC, and each visitor's
  and each address's share of it, so no one visitor spends the day's budget. Characters are
  counted as DashScope bills them (synthesis.py: a Han character is 2 for qwen3, tokens for
  qwen-tts). Syntheses with a visitor's own key are not counted (DashScope bills that visitor).

The Synthesizer asks only when a request to DashScope is about to be sent, so cache hits cost
nothing of these; they have a limit of their own (CachedAnswers, at the end), and so does what
one visitor's new recordings may add to the disk (DiskShare).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import LimitReachedError
from .messages import Message, say

DAY_S = 86_400


@dataclass(frozen=True)
class Visitor:
    """Who is asking: the Gradio session and the client's IP address ("" when unknown)."""

    session: str = ""
    ip: str = ""
    # Its request was already counted (a batch's rows): only characters are counted now.
    request_counted: bool = False


# Nobody in particular: only the owner key's daily budget applies. The showcase pack speaks as
# it (a batch's rows speak as their visitor, with request_counted set: Synthesizer.admit_batch).
UNMETERED = Visitor()


def client_ip(peer: str, forwarded_for: str, trusted_hops: int) -> str:
    """The visitor's address: the TCP peer's, or the one our `trusted_hops` proxies recorded.

    Each proxy appends the address it was connected from to X-Forwarded-For, so behind N proxies
    the visitor is the Nth entry from the right. Entries further left are whatever the client
    sent: trusting them would let anyone dodge the per-address limit with a made-up header.
    """
    if trusted_hops <= 0:
        return peer
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    return entries[-trusted_hops] if len(entries) >= trusted_hops else peer


def visitor_of(request: object, trusted_hops: int) -> Visitor:
    """The Visitor behind a gr.Request (read by duck typing: this module never imports gradio)."""
    if request is None:
        return Visitor()
    headers = getattr(request, "headers", None) or {}
    if hasattr(headers, "getlist"):  # a proxy may add a second header rather than extend the first
        forwarded = ",".join(headers.getlist("x-forwarded-for"))
    else:
        forwarded = dict(headers).get("x-forwarded-for", "")
    peer = getattr(getattr(request, "client", None), "host", "") or ""
    session = getattr(request, "session_hash", "") or ""
    return Visitor(session=session, ip=client_ip(peer, forwarded, trusted_hops))


@dataclass(frozen=True)
class Limits:
    visitor_requests: int = 0  # syntheses per visitor per visitor_window_s; 0 = unlimited
    visitor_window_s: float = 60.0
    ip_requests: int = 0  # syntheses per IP address per ip_window_s; 0 = unlimited
    ip_window_s: float = 3600.0
    daily_characters: int = 0  # characters a UTC day on the owner's key; 0 = unlimited
    visitor_daily_characters: int = 0  # one visitor's share of those; 0 = no share
    ip_daily_characters: int = 0  # one address's share of those; 0 = no share


@dataclass(frozen=True)
class Admission:
    """One synthesis let through; refund() returns its characters if it produced nothing."""

    refund: Callable[[], None] = field(repr=False, compare=False)


class _SlidingWindow:
    """The last `limit` start times per key; a key is full while all of them are in the window."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._starts: dict[str, deque[float]] = {}
        self._swept = 0.0

    def wait_s(self, key: str, now: float) -> float:
        """0 when key may start now, else the seconds until its oldest start leaves the window."""
        starts = self._starts.get(key) if self.limit and key else None
        if not starts or len(starts) < self.limit:
            return 0.0
        return max(0.0, starts[0] + self.window_s - now)

    def add(self, key: str, now: float) -> None:
        if self.limit and key:
            self._starts.setdefault(key, deque(maxlen=self.limit)).append(now)
        self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Forget keys idle for a whole window, once a window: sessions come and go by thousands."""
        if now - self._swept < self.window_s:
            return
        self._swept = now
        for key in [k for k, starts in self._starts.items() if starts[-1] <= now - self.window_s]:
            del self._starts[key]


class Quota:
    """Every limit's state, shared by all visitors of one app; safe to use from many threads."""

    def __init__(
        self,
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
        calendar: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits
        self._clock, self._calendar = clock, calendar
        self._visitors = _SlidingWindow(limits.visitor_requests, limits.visitor_window_s)
        self._ips = _SlidingWindow(limits.ip_requests, limits.ip_window_s)
        self._day, self._spent = -1, 0
        self._shares = _DailyShares(limits)
        self._lock = threading.Lock()

    def admit(self, visitor: Visitor, characters: int, owner_key: bool) -> Admission:
        """Count one synthesis of `characters`, or raise LimitReachedError saying what to do."""
        with self._lock:
            now, wall = self._clock(), self._calendar()
            if not visitor.request_counted:
                wait = self._visitors.wait_s(visitor.session, now)
                if wait:
                    raise _visitor_limit(self.limits, wait)
                wait = self._ips.wait_s(visitor.ip, now)
                if wait:
                    raise _ip_limit(self.limits, wait)
            day = int(wall // DAY_S)
            if day != self._day:
                self._day, self._spent = day, 0
                self._shares.new_day()
            charged = characters if owner_key and self.limits.daily_characters else 0
            if charged and self._spent + charged > self.limits.daily_characters:
                raise _budget_spent(
                    self.limits.daily_characters, self._spent, charged, DAY_S - wall % DAY_S
                )
            if owner_key:
                self._shares.check(visitor, characters, DAY_S - wall % DAY_S)
            if not visitor.request_counted:
                self._visitors.add(visitor.session, now)
                self._ips.add(visitor.ip, now)
            self._spent += charged
            shared = characters if owner_key else 0
            self._shares.add(visitor, shared)
            return Admission(refund=lambda: self._refund(charged, day, visitor, shared))

    def spent_today(self) -> int:
        """Characters of the owner's key counted so far today."""
        with self._lock:
            return self._spent if self._day == int(self._calendar() // DAY_S) else 0

    def _refund(self, characters: int, day: int, visitor: Visitor, shared: int) -> None:
        with self._lock:
            if day == self._day:
                self._spent = max(0, self._spent - characters)
                self._shares.add(visitor, -shared)


class _DailyShares:
    """Characters of the owner's key each visitor and each address spent today, against their
    share of the budget. Called under the Quota's lock; forgotten at midnight UTC, so at most one
    day of visitors is remembered (two small dicts)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._visitors: dict[str, int] = {}
        self._ips: dict[str, int] = {}

    def new_day(self) -> None:
        self._visitors.clear()
        self._ips.clear()

    def check(self, visitor: Visitor, characters: int, reset_s: float) -> None:
        """Raise LimitReachedError when `characters` more would pass a share."""
        for key, spent, share, words in (
            (
                visitor.session,
                self._visitors,
                self.limits.visitor_daily_characters,
                "visitor_share_spent",
            ),
            (visitor.ip, self._ips, self.limits.ip_daily_characters, "address_share_spent"),
        ):
            if key and share and spent.get(key, 0) + characters > share:
                raise _share_spent(words, share, spent.get(key, 0), characters, reset_s)

    def add(self, visitor: Visitor, characters: int) -> None:
        for key, spent in ((visitor.session, self._visitors), (visitor.ip, self._ips)):
            if key and characters:
                left = spent.get(key, 0) + characters
                if left > 0:
                    spent[key] = left
                else:
                    spent.pop(key, None)


# --- What a visitor reads --------------------------------------------------------------------


def _span(seconds: float) -> Message:
    """A duration in words, rounded up: "23 s", "5 h 12 min"."""
    seconds = max(1, int(-(-seconds // 1)))
    if seconds < 60:
        return say("span_s", seconds=seconds)
    minutes = -(-seconds // 60)
    if minutes < 60:
        return say("span_min", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    return (
        say("span_h_min", hours=hours, minutes=minutes) if minutes else say("span_h", hours=hours)
    )


def _syntheses(count: int) -> Message:
    return say("syntheses_one" if count == 1 else "syntheses_many", count=count)


def _visitor_limit(limits: Limits, wait_s: float) -> LimitReachedError:
    message = say(
        "visitor_limit",
        syntheses=_syntheses(limits.visitor_requests),
        window=_span(limits.visitor_window_s),
        wait=_span(wait_s),
    )
    return LimitReachedError(message, retry_after_s=wait_s)


def _ip_limit(limits: Limits, wait_s: float) -> LimitReachedError:
    message = say(
        "address_limit",
        syntheses=_syntheses(limits.ip_requests),
        window=_span(limits.ip_window_s),
        wait=_span(wait_s),
    )
    return LimitReachedError(message, retry_after_s=wait_s)


def _share_spent(
    words: str, share: int, spent: int, wanted: int, reset_s: float
) -> LimitReachedError:
    """A visitor's or an address's share of the budget cannot pay for `wanted` more."""
    own_key = say("own_key_instead", where_key=say("where_key"))
    message = say(
        words,
        share=share,
        left=max(0, share - spent),
        wanted=wanted,
        own_key=own_key,
        reset=_span(reset_s),
    )
    return LimitReachedError(message, retry_after_s=reset_s)


def _budget_spent(budget: int, spent: int, wanted: int, reset_s: float) -> LimitReachedError:
    left = max(0, budget - spent)
    own_key = say("own_key_instead", where_key=say("where_key"))
    if left == 0:
        message = say("budget_spent", budget=budget, own_key=own_key, reset=_span(reset_s))
    else:
        message = say(
            "budget_short",
            wanted=wanted,
            left=left,
            budget=budget,
            own_key=own_key,
            reset=_span(reset_s),
        )
    return LimitReachedError(message, retry_after_s=reset_s)


# --- Cached answers: a limit of their own ----------------------------------------------------


class CachedAnswers:
    """How often one visitor may be served audio someone already paid for, and which audio each
    visitor asked for before.

    A cached answer (a cache hit, a replay from History, a result shared with an identical
    request running at the same time) costs no API call and nothing of the budget, but reading
    and sending it still costs the server: `limit` per `window_s` per visitor (its session, or
    its address when it has none), never unlimited. The memory of what each visitor asked for
    decides whether a result may be called "cache" to them (speech.py): only audio they asked
    for before, so nobody learns from the page that someone else synthesized a text.
    """

    REMEMBERED = 20_000  # (visitor, recording) pairs; the oldest are forgotten first
    PER_ADDRESS = 10  # an address may have this many visitors' worth: a script that opens a new
    # session per request meets it, a room of people behind one router hardly does

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window_s = max(1, limit), window_s
        self._window = _SlidingWindow(self.limit, window_s)
        self._address_window = _SlidingWindow(self.limit * self.PER_ADDRESS, window_s)
        self._clock = clock
        self._asked: dict[tuple[str, str], None] = {}  # insertion-ordered: oldest first
        self._lock = threading.Lock()

    def admit(self, visitor: Visitor) -> None:
        """Count one cached answer for the visitor and its address, or raise LimitReachedError
        saying when."""
        who = visitor.session or visitor.ip
        with self._lock:
            now = self._clock()
            wait = self._window.wait_s(who, now)
            if wait:
                raise _cached_limit(self.limit, self.window_s, wait)
            wait = self._address_window.wait_s(visitor.ip, now)
            if wait:
                raise _cached_limit(self.limit * self.PER_ADDRESS, self.window_s, wait)
            self._window.add(who, now)
            self._address_window.add(visitor.ip, now)

    def asked_before(self, visitor: Visitor, key: str) -> bool:
        """Whether this visitor asked for this recording before (nobody in particular: yes)."""
        who = visitor.session or visitor.ip
        with self._lock:
            return not who or (who, key) in self._asked

    def remember(self, visitor: Visitor, key: str) -> None:
        who = visitor.session or visitor.ip
        if not who:
            return
        with self._lock:
            self._asked.pop((who, key), None)
            self._asked[(who, key)] = None
            while len(self._asked) > self.REMEMBERED:
                del self._asked[next(iter(self._asked))]


def _cached_limit(limit: int, window_s: float, wait_s: float) -> LimitReachedError:
    message = say("cached_limit", count=limit, window=_span(window_s), wait=_span(wait_s))
    return LimitReachedError(message, retry_after_s=wait_s)


# --- Disk: what one visitor's recordings may add a minute ------------------------------------


class DiskShare:
    """Bytes written on one visitor's behalf (recordings made for them, their batches' ZIPs,
    their uploads) per `window_s`, by session and by address alike: never more than
    `limit_bytes` a window. Answers already made write nothing new (a download is one file per
    recording) and are not counted.

    What is about to be written is reserved first, at the most it can be (a synthesis: what its
    text can last, speech.py), and refused when the window has no room for it; once written it
    is settled at its real size and counted from then on for a window, or for as many windows as
    it fills (the longest texts may make more than one window's share: such a reservation is
    let through only when the window is empty, and its visitor then waits its size out).
    """

    def __init__(
        self, limit_bytes: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit_bytes, self.window_s = limit_bytes, window_s
        self._clock = clock
        # per visitor: [until, size] entries; until is inf while a reservation is unsettled
        self._written: dict[str, list[list[float]]] = {}
        self._swept = 0.0
        self._lock = threading.Lock()

    def check(self, visitor: Visitor) -> None:
        """LimitReachedError when the visitor's window is full."""
        if not self.limit_bytes:
            return
        with self._lock:
            now = self._clock()
            for who in {visitor.session, visitor.ip} - {""}:
                entries = self._recent(who, now)
                if sum(entry[1] for entry in entries) >= self.limit_bytes:
                    self._refuse(entries, now)

    def reserve(self, visitor: Visitor, size: int) -> DiskReservation:
        """Hold `size` bytes of the visitor's share, or raise LimitReachedError saying when."""
        if not self.limit_bytes:
            return DiskReservation(lambda actual: None)
        with self._lock:
            now = self._clock()
            whos = sorted({visitor.session, visitor.ip} - {""})
            for who in whos:
                entries = self._recent(who, now)
                held = sum(entry[1] for entry in entries)
                room = self.limit_bytes - held
                if (held and held + size > self.limit_bytes) or room <= 0:
                    self._refuse(entries, now)
            entry = [float("inf"), float(size)]
            for who in whos:
                self._written.setdefault(who, []).append(entry)
            self._sweep(now)
        return DiskReservation(lambda actual: self._settle(entry, actual))

    def charge(self, visitor: Visitor, size: int) -> None:
        """Count bytes already written (not refused: the reservation was the time to refuse)."""
        if not self.limit_bytes:
            return
        entry = [float("inf"), float(size)]
        with self._lock:
            for who in {visitor.session, visitor.ip} - {""}:
                self._written.setdefault(who, []).append(entry)
        self._settle(entry, size)

    def _settle(self, entry: list[float], actual: int) -> None:
        with self._lock:
            entry[1] = float(max(0, actual))
            windows = max(1.0, entry[1] / self.limit_bytes)
            entry[0] = self._clock() + self.window_s * windows

    def _refuse(self, entries: list[list[float]], now: float) -> None:
        settled = [until for until, _ in entries if until != float("inf")]
        wait = max(1.0, min(settled) - now) if settled else self.window_s
        mb = self.limit_bytes // (1024 * 1024)
        message = say("disk_share", mb=mb, window=_span(self.window_s), wait=_span(wait))
        raise LimitReachedError(message, retry_after_s=wait)

    def _recent(self, who: str, now: float) -> list[list[float]]:
        entries = self._written.get(who, [])
        entries[:] = [entry for entry in entries if entry[0] > now]
        return entries

    def _sweep(self, now: float) -> None:
        """Forget visitors with nothing in their window, once a window."""
        if now - self._swept < self.window_s:
            return
        self._swept = now
        for who in [w for w in self._written if not self._recent(w, now)]:
            del self._written[who]


@dataclass(frozen=True)
class DiskReservation:
    """Bytes held for a write about to happen; settle() with what was really written (0 when
    nothing was)."""

    settle: Callable[[int], None] = field(repr=False, compare=False)

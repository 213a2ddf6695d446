"""The live route's tickets against a hostile visitor (issue 14): how many one session, one
address and everyone may hold, and how many may wait on one stream's end."""

from __future__ import annotations

import threading

from qwen_tts_showcase import live_tickets
from qwen_tts_showcase.live_tickets import LiveTickets, Outcome
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import SpeechOrder

from .conftest import wait_until

ORDER = SpeechOrder("你好。" * 1000, "Cherry", "qwen-tts-latest", "beijing")


def test_one_session_one_address_and_everyone_hold_a_bounded_number_of_tickets(monkeypatch):
    """4 a session, 20 an address, MAX_TICKETS in all: the newest of each are kept."""
    monkeypatch.setattr(live_tickets, "MAX_TICKETS", 50)
    tickets = LiveTickets()
    page = Visitor("page-1", "10.0.0.1")
    issued = [tickets.issue(ORDER, page, "", True) for _ in range(100)]
    usable = [t for t in issued if tickets.redeem(t, page.ip)]
    assert usable == issued[-4:], "a session's newest"
    kept = [tickets.issue(ORDER, page, "", True) for _ in range(4)]
    tabs = [Visitor(f"tab-{n}", "10.0.0.2") for n in range(100)]  # a new session per ticket
    per_tab = [tickets.issue(ORDER, tab, "", True) for tab in tabs]
    usable = [t for t, tab in zip(per_tab, tabs, strict=True) if tickets.redeem(t, tab.ip)]
    assert usable == per_tab[-20:], "an address's newest"
    crowd = [Visitor(f"crowd-{n}", f"10.1.{n // 250}.{n % 250}") for n in range(200)]
    for visitor in crowd:
        tickets.issue(ORDER, visitor, "", True)
    assert len(tickets._tickets) <= 50
    # a stream under way is never dropped to make room, and its end is still told
    assert tickets.outcome(issued[-1], "page-1", wait_s=0) == Outcome(stopped=True)
    assert all(tickets.redeem(t, page.ip) is None for t in kept), "the oldest of all went first"


def test_only_one_request_at_a_time_may_wait_on_a_streams_end():
    """Each wait holds a worker thread for up to its wait: many waits on one long stream would
    take every thread of the app."""
    tickets = LiveTickets()
    page = Visitor("page-1", "10.0.0.1")
    token = tickets.issue(ORDER, page, "", True)
    streaming = tickets.redeem(token, page.ip)
    answers: list[object] = []
    first = threading.Thread(target=lambda: answers.append(tickets.ended(token, 60)))
    first.start()
    wait_until(lambda: streaming.waited, "the page's own wait for the end")
    more = [threading.Thread(target=lambda: answers.append(tickets.ended(token, 60)))]
    more[0].start()
    wait_until(lambda: answers == [None], "a second wait on the same stream answered at once")
    tickets.end(streaming, Outcome(stopped=True))
    first.join(10)
    assert answers == [None, Outcome(stopped=True)]
    assert tickets.ended(token, 0) == Outcome(stopped=True)  # once ended, asking is instant

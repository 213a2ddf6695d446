"""Tickets from a page event to the live routes (live.py): who may stream what, once.

A page event of the visitor's session leaves its SpeechOrder here, with the visitor and their key
(kept server-side, never in a URL), and gets a random single-use ticket; the route redeems it
from the same address, and keeps how the stream ended under it for the session that asked.
Bounded in number and in time, so tickets cannot take the process's memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import DemoError
from .messages import Message
from .quota import Visitor
from .realtime import TypedText
from .speech import Speech, SpeechResult
from .synthesis import SpeechOrder

TICKET_TTL_S = 60.0  # an unused ticket is forgotten after this
OUTCOME_TTL_S = 60.0  # how long a finished stream (its audio included) waits for the page to ask
# Tickets kept at once: a page uses its newest, so older unused ones of its session and address
# go first, then the oldest unused of all (a ticket holds its text: the guard bounds it to 100k
# characters, so these bound what tickets can take of memory). Streams under way stay.
MAX_TICKETS_PER_SESSION = 4
MAX_TICKETS_PER_ADDRESS = 20
MAX_TICKETS = 1_000


@dataclass
class Outcome:
    """How one live stream ended: a result, an error, or stopped by the visitor (neither)."""

    result: SpeechResult | None = None
    error: DemoError | None = None
    stopped: bool = False


@dataclass
class _Ticket:
    order: SpeechOrder
    visitor: Visitor
    api_key: str = field(repr=False)  # never logged
    streaming: bool
    expires: float
    ready: SpeechResult | None = field(default=None, repr=False)  # a replay: nothing to make
    redeemed: bool = False
    waited: bool = False  # someone waits for its end: one at a time, each holds a thread
    outcome: Outcome | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    notices: list[Message] = field(default_factory=list)  # "part 2 of 3", a retry, in order
    speech: Speech | None = field(default=None, repr=False)  # once the route has made it
    typed: TypedText | None = field(default=None, repr=False)  # speak as I type: the text


class LiveTickets:
    """Tickets from a page event to the live route; safe to use from many threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tickets: dict[str, _Ticket] = {}
        self._lock = threading.Lock()

    def issue(self, order: SpeechOrder, visitor: Visitor, api_key: str, streaming: bool) -> str:
        """A new ticket for this visitor's order; only this visitor's session may use its end."""
        token = secrets.token_urlsafe(24)
        ticket = _Ticket(order, visitor, api_key, streaming, self._clock() + TICKET_TTL_S)
        if order.typed:  # its text comes from the page, once it streams
            ticket.typed = TypedText()
        with self._lock:
            self._sweep()
            self._make_room(visitor)
            self._tickets[token] = ticket
        return token

    def issue_ready(self, result: SpeechResult, visitor: Visitor) -> str:
        """A ticket that plays a finished recording (a History replay): no synthesis at all."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._sweep()
            request = result.request
            order = SpeechOrder(request.text, request.voice, request.model, region="")
            expires = self._clock() + TICKET_TTL_S
            self._tickets[token] = _Ticket(order, visitor, "", True, expires, ready=result)
        return token

    def redeem(self, token: str, ip: str) -> _Ticket | None:
        """The ticket's order, once, from the address its session came from; else None."""
        with self._lock:
            self._sweep()
            ticket = self._tickets.get(token)
            if ticket is None or ticket.redeemed or (ticket.visitor.ip and ticket.visitor.ip != ip):
                return None
            ticket.redeemed = True
            ticket.expires = float("inf")  # kept while it streams, however long
            return ticket

    def end(self, ticket: _Ticket, outcome: Outcome) -> None:
        """Record how a redeemed ticket's stream ended; kept OUTCOME_TTL_S for the page."""
        if ticket.typed is not None:
            ticket.typed.finish()  # nothing more is taken
        with self._lock:
            ticket.outcome = outcome
            ticket.expires = self._clock() + OUTCOME_TTL_S
        ticket.ended.set()

    def notices(self, token: str) -> list[Message] | None:
        """What the stream under this ticket has said so far; None for an unknown ticket."""
        with self._lock:
            ticket = self._tickets.get(token)
            return None if ticket is None or not ticket.redeemed else list(ticket.notices)

    def typed(self, token: str, ip: str) -> TypedText | None:
        """The text of a speak-as-I-type ticket, for the address its session came from (before
        its stream starts too: the first piece may come first); else None."""
        with self._lock:
            ticket = self._tickets.get(token)
        if ticket is None or (ticket.visitor.ip and ticket.visitor.ip != ip):
            return None
        return ticket.typed

    def speech(self, token: str) -> Speech | None | bool:
        """The speech a redeemed ticket streams (None before it is made); False for a ticket
        unknown or not yet used."""
        with self._lock:
            ticket = self._tickets.get(token)
            return False if ticket is None or not ticket.redeemed else ticket.speech

    def ended(self, token: str, wait_s: float = 10.0) -> Outcome | None:
        """How the ticket's stream ended, for its holder, without using it up; None when the
        ticket is unknown or its stream has not ended within wait_s."""
        with self._lock:
            ticket = self._tickets.get(token)
            if ticket is None or not ticket.redeemed or ticket.waited:
                return None
            ticket.waited = True
        try:
            return ticket.outcome if ticket.ended.wait(wait_s) else None
        finally:
            ticket.waited = False

    def outcome(self, token: str, session: str, wait_s: float = 10.0) -> Outcome | None:
        """How the ticket's stream ended, once, to the session it was issued to; None when the
        ticket is unknown, not this session's, or never streamed."""
        with self._lock:
            ticket = self._tickets.get(token)
        if ticket is None or ticket.visitor.session != session or not ticket.redeemed:
            return None
        ticket.ended.wait(wait_s)  # the page may have read the last byte before it was recorded
        with self._lock:
            self._tickets.pop(token, None)
        return ticket.outcome or Outcome(stopped=True)

    def _make_room(self, visitor: Visitor) -> None:
        """Forget the oldest tickets not streaming now, of the visitor's session, of its address,
        and of all, until one more fits each bound."""
        idle = [token for token, ticket in self._tickets.items() if ticket.expires != float("inf")]
        for key, most in (("session", MAX_TICKETS_PER_SESSION), ("ip", MAX_TICKETS_PER_ADDRESS)):
            mine = getattr(visitor, key)
            if not mine:
                continue
            same = [
                t
                for t in idle
                if t in self._tickets and getattr(self._tickets[t].visitor, key) == mine
            ]
            for token in same[: max(0, len(same) - most + 1)]:
                self._tickets.pop(token, None)
        idle = [token for token in idle if token in self._tickets]
        for token in idle[: max(0, len(self._tickets) - MAX_TICKETS + 1)]:
            del self._tickets[token]

    def _sweep(self) -> None:
        now = self._clock()
        for token in [t for t, ticket in self._tickets.items() if ticket.expires < now]:
            del self._tickets[token]

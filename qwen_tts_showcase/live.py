"""The page's live audio: raw PCM from DashScope to the browser's Web Audio player, no Gradio
event per piece and no ffmpeg.

A page event of the visitor's session (ui/studio.py) leaves what to speak with LiveTickets
(live_tickets.py) and gets a ticket: random, single-use, short-lived. The page then fetches `/live/<ticket>` from
the same origin; the route redeems the ticket and runs the one synthesis path
(`Synthesizer.speech`) as the visitor, with the visitor's key kept server-side, so it admits
exactly like the Generate event: quotas, budget, regions, cache, retries before the first audio.

- Before the first audio, a failure is an HTTP error whose JSON body holds the catalogue's
  message in both languages.
- Once audio flows, the body is 16-bit 24 kHz mono PCM, chunk by chunk as DashScope sends it
  (`audio/pcm`: Chromium buffers `application/octet-stream` bodies whole).
- How it ended (complete, failed mid-stream, stopped) is kept under the ticket; the page asks
  for it afterwards (`LiveTickets.outcome`), so a broken stream is never taken for a whole one.
- When the browser goes away (Stop, Esc, reload), the synthesis is closed at once: the
  DashScope connection is closed, nothing is cached, an unproduced synthesis is refunded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import errors
from .audio import SAMPLE_RATE_HZ
from .dashscope_client import SynthesisRequest
from .errors import DemoError, unexpected_error
from .live_tickets import LiveTickets, Outcome, _Ticket
from .messages import say
from .quota import visitor_of
from .realtime import TYPED_PIECE_MAX_CHARS, finished_timeline, timeline
from .speech import Speech
from .synthesis import Synthesizer

log = logging.getLogger(__name__)

ROUTE = "/live/{ticket}"
END_ROUTE = "/live/{ticket}/end"
NOTICES_ROUTE = "/live/{ticket}/notices"
WORDS_ROUTE = "/live/{ticket}/words"
TEXT_ROUTE = "/live/{ticket}/text"  # speak as I type: the page posts what is typed
MAX_TEXT_BODY_BYTES = 8 * 1024  # one typed piece's request, read no further
MEDIA_TYPE = f"audio/pcm;rate={SAMPLE_RATE_HZ};channels=1;encoding=s16le"
WORDS_HEADER = "X-Live-Words"  # "1" when the stream has words or sentences to light
_STATUS: list[tuple[type[DemoError], int]] = [
    (errors.InputError, 400),
    (errors.LimitReachedError, 429),
    (errors.MissingKeyError, 401),
    (errors.InvalidKeyError, 401),
    (errors.AccessDeniedError, 403),
    (errors.ContentRejectedError, 422),
    (errors.BadRequestError, 400),
    (errors.RateLimitError, 429),
    (errors.UpstreamTimeoutError, 504),
]


def error_body(err: DemoError) -> dict[str, object]:
    """A failure as the page reads it: the catalogue's words in both languages."""
    body: dict[str, object] = {"error": type(err).__name__, "en": err.en, "zh": err.zh}
    if isinstance(err, errors.LimitReachedError) and err.retry_after_s:
        body["retry_after_s"] = round(err.retry_after_s, 1)
    return body


def error_response(err: DemoError, status: int | None = None) -> Response:
    if status is None:
        status = next((code for cls, code in _STATUS if isinstance(err, cls)), 502)
        if type(err) is DemoError:  # unexpected_error(): a bug, already logged
            status = 500
    return Response(
        json.dumps(error_body(err), ensure_ascii=False),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


READ_AHEAD_BYTES = 4 * SAMPLE_RATE_HZ * 2  # 4 s of audio at most between DashScope and the body


class _Pull:
    """A synchronous Speech read in one worker thread and handed to the event loop as it comes.

    The loop is woken only while it waits, so a burst of chunks (DashScope may send seconds of
    audio at once) is one wake-up, not one thread hop per chunk: in a crowd those hops cost the
    app more than the audio. The thread reads at most READ_AHEAD_BYTES ahead of the body, so a
    slow listener holds bounded memory. Stop shuts the DashScope connection a read is blocked
    on, so the thread ends at once."""

    def __init__(self, speech: Speech, threads: anyio.CapacityLimiter | None = None) -> None:
        self._speech = speech
        self._threads = threads
        self._chunks = iter(speech)
        self._lock = threading.Condition()  # guards everything below
        self._ready: list[bytes] = []
        self._ready_bytes = 0
        self._ended = False
        self._failure: BaseException | None = None
        self._stopped = False
        self._waiting: asyncio.Future[None] | None = None  # the loop's read, asleep
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: asyncio.Future | None = None

    def _read_all(self) -> None:
        """The worker thread: every chunk of the speech, until it ends or is stopped."""
        failure: BaseException | None = None
        try:
            for chunk in self._chunks:
                with self._lock:
                    while self._ready_bytes >= READ_AHEAD_BYTES and not self._stopped:
                        self._lock.wait()
                    if self._stopped:
                        break
                    if chunk:
                        self._ready.append(chunk)
                        self._ready_bytes += len(chunk)
                        self._wake()
        except BaseException as exc:  # handed to the loop; a stop's broken read is no failure
            failure = exc
        finally:
            self._chunks.close()  # a stopped speech ends here: not cached, refunded if unheard
            with self._lock:
                self._ended = True
                self._failure = None if self._stopped else failure
                self._wake()

    def _wake(self) -> None:
        """Wake the loop's read, if it sleeps (the lock is held)."""
        if self._waiting is not None and self._loop is not None:
            waiter, self._waiting = self._waiting, None
            self._loop.call_soon_threadsafe(_resolve, waiter)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
            self._wake()
        self._speech.close()  # a read blocked on DashScope returns now
        if self._reader is None:  # never read: no thread holds the speech
            self._chunks.close()

    @property
    def stopped(self) -> bool:
        return self._stopped

    async def read(self) -> bytes | None:
        """All the audio that has come since the last read (waiting for some); None at the end
        or once stopped. A failure of the speech is raised here."""
        if self._reader is None and not self._stopped:
            self._loop = asyncio.get_running_loop()
            run = anyio.to_thread.run_sync(
                self._read_all, abandon_on_cancel=True, limiter=self._threads
            )
            self._reader = asyncio.ensure_future(run)
        while True:
            with self._lock:
                if self._stopped:
                    return None
                if self._ready:
                    audio = b"".join(self._ready)
                    self._ready.clear()
                    self._ready_bytes = 0
                    self._lock.notify_all()  # the thread may read on
                    return audio
                if self._ended:
                    if self._failure is not None:
                        raise self._failure
                    return None
                waiter = self._waiting = self._loop.create_future()
            await waiter


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _first_audio(request: Request, pull: _Pull) -> bytes | None:
    """The first chunk, while watching the visitor: one who leaves before it (Stop, reload) stops
    the speech at once. (Once the body streams, Starlette watches for the disconnect.)"""
    async with anyio.create_task_group() as watching:

        async def watch() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            pull.stop()

        watching.start_soon(watch)
        failure: Exception | None = None
        try:
            first = await pull.read()
        except Exception as exc:  # raised below, not wrapped in the task group's ExceptionGroup
            failure = exc
        watching.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return first


class LiveRoute:
    """`GET /live/<ticket>`: the synthesis as raw PCM, admitted as the ticket's visitor."""

    def __init__(self, synthesizer: Synthesizer, tickets: LiveTickets) -> None:
        self.synthesizer, self.tickets = synthesizer, tickets
        self._streams = anyio.CapacityLimiter(synthesizer.settings.concurrency_limit)
        # The SDK is synchronous: a stream's read waits in a worker thread. Its own pool, one
        # thread per stream at most, so listeners never wait on (or starve) the threads of
        # Gradio's events, which share the default pool of 40.
        self._threads = anyio.CapacityLimiter(synthesizer.settings.concurrency_limit)

    async def serve(self, request: Request) -> Response:
        ip = visitor_of(request, self.synthesizer.settings.trusted_proxy_hops).ip
        ticket = self.tickets.redeem(request.path_params["ticket"], ip)
        if ticket is None:
            return error_response(DemoError(say("live_refused")), 403)
        if ticket.ready is not None:
            return self._replay(ticket)
        borrower = object()
        await self._streams.acquire_on_behalf_of(borrower)
        pull: _Pull | None = None
        try:
            speech = self.synthesizer.speech(
                ticket.order,
                visitor=ticket.visitor,
                api_key=ticket.api_key,
                streaming=ticket.streaming,
                on_notice=ticket.notices.append,
                typed=ticket.typed,
            )
            ticket.speech = speech
            pull = _Pull(speech, self._threads)
            first = await _first_audio(request, pull)
        except BaseException as failure:
            if pull is not None:
                pull.stop()
            self._streams.release_on_behalf_of(borrower)
            error = _as_demo_error(failure)
            self.tickets.end(ticket, Outcome(error=error) if error else Outcome(stopped=True))
            if error is None:
                raise
            return error_response(error)
        if pull.stopped:  # the visitor left before the first audio
            self._streams.release_on_behalf_of(borrower)
            self.tickets.end(ticket, Outcome(stopped=True))
            return Response(status_code=204, headers={"Cache-Control": "no-store"})

        async def body() -> AsyncIterator[bytes]:
            outcome = Outcome(stopped=True)
            try:
                chunk = first
                while chunk is not None:
                    if chunk:
                        yield chunk
                    chunk = await pull.read()
                outcome = Outcome(result=speech.result)
            except DemoError as err:  # after the first audio: the page asks how it ended
                outcome = Outcome(error=err)
            except Exception as exc:
                log.exception("Live stream failed", exc_info=exc)
                outcome = Outcome(error=unexpected_error())
            finally:
                pull.stop()  # the visitor left (or it ended): close DashScope's stream now
                self._streams.release_on_behalf_of(borrower)
                self.tickets.end(ticket, outcome)

        return StreamingResponse(
            body(),
            media_type=MEDIA_TYPE,
            headers={"X-Accel-Buffering": "no", **_stream_headers(speech.plan.request)},
        )

    def _replay(self, ticket: _Ticket) -> Response:
        """A finished recording, in pieces as the player reads a stream."""
        result = ticket.ready
        self.tickets.end(ticket, Outcome(result=result))
        pcm, piece = result.pcm, 2 * SAMPLE_RATE_HZ

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, len(pcm), piece):
                yield pcm[start : start + piece]

        return StreamingResponse(
            body(), media_type=MEDIA_TYPE, headers=_stream_headers(result.request)
        )


class LiveEnd:
    """`GET /live/<ticket>/end`: whether the stream just read was complete, for the page's player
    (a stream cut by a failure ends like a whole one on the wire)."""

    def __init__(self, tickets: LiveTickets) -> None:
        self.tickets = tickets

    async def serve(self, request: Request) -> Response:
        token = request.path_params["ticket"]
        outcome = await anyio.to_thread.run_sync(self.tickets.ended, token)
        if outcome is None:
            return error_response(DemoError(say("live_refused")), 403)
        if outcome.error is not None:
            return error_response(outcome.error)
        state = "complete" if outcome.result is not None else "stopped"
        body: dict[str, object] = {"state": state}
        notices = self.tickets.notices(token)
        if notices:  # the last word on it, so the page need not ask /notices once more
            body["notices"] = [{"en": notice.en, "zh": notice.zh} for notice in notices]
        if outcome.result is not None and _spoken_live(outcome.result.request):
            body["timeline"] = finished_timeline(outcome.result)  # the whole of it, at last
        return Response(
            json.dumps(body, ensure_ascii=False),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


class LiveNotices:
    """`GET /live/<ticket>/notices`: what the stream has said so far ("part 2 of 3", a retry),
    in both languages, for the player to show under it while it plays."""

    def __init__(self, tickets: LiveTickets) -> None:
        self.tickets = tickets

    async def serve(self, request: Request) -> Response:
        notices = self.tickets.notices(request.path_params["ticket"])
        if notices is None:
            return error_response(DemoError(say("live_refused")), 403)
        body = [{"en": notice.en, "zh": notice.zh} for notice in notices]
        return Response(
            json.dumps({"notices": body}, ensure_ascii=False),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


class LiveWords:
    """`GET /live/<ticket>/words`: a realtime model's words (or sentences) with their times in
    the audio, as far as they have arrived, for the page to light them in step with the live
    player (realtime.js asks while the stream plays; the PCM body stays raw audio)."""

    def __init__(self, synthesizer: Synthesizer, tickets: LiveTickets) -> None:
        self.catalogue, self.tickets = synthesizer.catalogue, tickets

    async def serve(self, request: Request) -> Response:
        speech = self.tickets.speech(request.path_params["ticket"])
        if speech is False:
            return error_response(DemoError(say("live_refused")), 403)
        body: dict[str, object] = {"timing": ""}  # nothing to light (yet, or for this model)
        if speech is not None and _spoken_live(speech.plan.request):
            words, starts = speech.progress()
            word_times = self.catalogue.model(speech.plan.request.model).word_times
            text = speech.typed.text if speech.typed is not None else speech.plan.request.text
            body = timeline(text, words, starts, word_times)
        return Response(
            json.dumps(body, ensure_ascii=False),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


class LiveText:
    """`POST /live/<ticket>/text`: speak as I type. The page sends {"text": piece} as the visitor
    types and {"finish": true} at a pause; each piece goes to the open session (server_commit),
    within the session's bounds. The answer: {"billed": characters so far, "cap": its cap}, or
    what went wrong in both languages."""

    def __init__(self, synthesizer: Synthesizer, tickets: LiveTickets) -> None:
        self.settings, self.tickets = synthesizer.settings, tickets

    async def serve(self, request: Request) -> Response:
        ip = visitor_of(request, self.settings.trusted_proxy_hops).ip
        typed = self.tickets.typed(request.path_params["ticket"], ip)
        if typed is None:
            return error_response(DemoError(say("live_refused")), 403)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_TEXT_BODY_BYTES:
                return error_response(
                    errors.InputError(say("typed_piece_too_long", cap=TYPED_PIECE_MAX_CHARS)), 413
                )
        try:
            sent = json.loads(body or b"{}")
            piece = sent.get("text") or ""
            if not isinstance(piece, str):
                raise TypeError
        except (ValueError, TypeError, AttributeError):
            return error_response(errors.InputError(say("typed_unreadable")), 400)
        try:
            billed = typed.append(piece) if piece else typed.billed
        except DemoError as err:
            return error_response(err)
        if sent.get("finish") is True:
            typed.finish()
        return Response(
            json.dumps({"billed": billed, "cap": typed.max_chars}),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


def _spoken_live(request: SynthesisRequest) -> bool:
    """A WebSocket model's request: its words or sentences are lit (its controls are sent)."""
    return request.speech_rate is not None


def _stream_headers(request: SynthesisRequest) -> dict[str, str]:
    """A stream's headers; WORDS_HEADER tells the page whether /words has any to light (none
    for an HTTP model: it need not ask)."""
    return {"Cache-Control": "no-store", WORDS_HEADER: "1" if _spoken_live(request) else "0"}


def routes(synthesizer: Synthesizer, tickets: LiveTickets) -> list[Route]:
    """The live routes, for the page's FastAPI app."""
    return [
        Route(END_ROUTE, LiveEnd(tickets).serve, methods=["GET"]),
        Route(NOTICES_ROUTE, LiveNotices(tickets).serve, methods=["GET"]),
        Route(WORDS_ROUTE, LiveWords(synthesizer, tickets).serve, methods=["GET"]),
        Route(TEXT_ROUTE, LiveText(synthesizer, tickets).serve, methods=["POST"]),
        Route(ROUTE, LiveRoute(synthesizer, tickets).serve, methods=["GET"]),
    ]


def _as_demo_error(failure: BaseException) -> DemoError | None:
    """A failure before the first audio as the visitor's error; None for a cancellation."""
    if isinstance(failure, DemoError):
        return failure
    if isinstance(failure, Exception):
        log.exception("Live stream failed before its first audio", exc_info=failure)
        return unexpected_error()
    return None

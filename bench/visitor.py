"""A visitor as the browser behaves, on Gradio's own queue protocol (join, then the SSE stream).

It joins the queue, reads `/gradio_api/queue/data`, and as soon as the live player's HLS
playlist appears it fetches its segments; "first audio" is the moment the first AAC segment's
bytes are in hand. The playlist is read again on every message of the event (each yield may add
a segment) and at least twice a second, so what is measured is when the app made the audio
available, not a browser player's polling. Times are `time.time()`, the simulator's clock too.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass

import httpx

PLAYLIST_POLL_S = 0.5  # besides after every message of the event, as hls.js does when live
PLAYER_GRACE_S = 10.0  # a player still waiting this long after the event ended gives up
ENDLIST = "#EXT-X-ENDLIST"


@dataclass
class Visit:
    """What one visitor saw, in time.time() seconds."""

    joined_at: float
    first_audio_at: float | None = None
    completed_at: float | None = None
    error: str | None = None  # Gradio's message when the event failed or the queue refused it
    busy: bool = False  # the queue was full (HTTP 503 on join)
    audio_bytes: int = 0  # AAC the player fetched

    @property
    def first_audio_s(self) -> float:
        return self.first_audio_at - self.joined_at

    @property
    def total_s(self) -> float:
        return self.completed_at - self.joined_at


class App:
    """The app's endpoints as the page calls them (fn_index found by api_name in /config)."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http
        self.fn_index: dict[str, int] = {}
        # (fn_index, the inputs' opening values, whether the event goes through the queue)
        self.load_events: list[tuple[int, list, bool]] = []
        # fn_index: the events the page runs once it has ended, as (fn_index, the inputs'
        # opening values, queued, only after a success)
        self.follow_ups: dict[int, list[tuple[int, list, bool, bool]]] = {}
        self.opening: dict[int, list] = {}  # fn_index: its inputs' opening values
        self.queued: dict[int, bool] = {}  # fn_index: whether the event goes through the queue

    async def connect(self) -> App:
        config = (await self.http.get(self.url + "/config")).json()
        dependencies = config["dependencies"]
        self.fn_index = {d["api_name"]: d["id"] for d in dependencies if d.get("api_name")}
        values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
        self.load_events = [
            (d["id"], [values.get(i) for i in d["inputs"]], d.get("queue") is not False)
            for d in dependencies
            if d.get("backend_fn") and any(event == "load" for _, event in d["targets"])
        ]
        self.opening = {d["id"]: [values.get(i) for i in d["inputs"]] for d in dependencies}
        self.queued = {d["id"]: d.get("queue") is not False for d in dependencies}
        for d in dependencies:
            if d.get("backend_fn") and d.get("trigger_after") is not None:
                self.follow_ups.setdefault(d["trigger_after"], []).append(
                    (
                        d["id"],
                        [values.get(i) for i in d["inputs"]],
                        d.get("queue") is not False,
                        bool(d.get("trigger_only_on_success")),
                    )
                )
        return self

    async def open_page(self) -> str:
        """A visitor's session as a browser makes it: the page's load events run on the server.

        Gradio builds a session's state on its first event; in a browser that is the page's
        load, before the visitor can press anything."""
        session = uuid.uuid4().hex[:11]
        for fn_index, data, queued in self.load_events:
            run = self._run if queued else self._post
            loaded = await run(fn_index, data, session)
            if loaded.error:
                raise RuntimeError(f"the page's load event {fn_index} failed: {loaded.error}")
        return session

    async def visit(self, api_name: str, data: list, session: str | None = None) -> Visit:
        """Run one event to completion, playing any streamed audio as a browser would; in a new
        session unless one is given."""
        return await self._run(self.fn_index[api_name], data, session or uuid.uuid4().hex[:11])

    async def event(self, api_name: str, data: list, session: str) -> Visit:
        """One event as the page sends it: through the queue or not, as the app set it."""
        fn_index = self.fn_index[api_name]
        return await (self._run if self.queued[fn_index] else self._post)(fn_index, data, session)

    def inputs(self, api_name: str, *first) -> list:
        """The event's inputs: `first`, then the opening values of the rest (as the page holds
        them until the visitor changes them)."""
        return [*first, *self.opening[self.fn_index[api_name]][len(first) :]]

    async def then(self, api_name: str, session: str, succeeded: bool = True) -> list[Visit]:
        """The events the page runs once the event `api_name` has ended (its `.then` and, after
        a success, its `.success`), all at once as the page sends them; their visits."""
        return list(
            await asyncio.gather(
                *(
                    (self._run if queued else self._post)(fn_index, data, session)
                    for fn_index, data, queued, on_success in self.follow_ups.get(
                        self.fn_index[api_name], []
                    )
                    if succeeded or not on_success
                )
            )
        )

    @staticmethod
    def _body(fn_index: int, data: list, session: str) -> dict:
        return {
            "data": data,
            "fn_index": fn_index,
            "session_hash": session,
            "event_data": None,
            "trigger_id": None,
        }

    async def _post(self, fn_index: int, data: list, session: str) -> Visit:
        """An event outside the queue, as the page sends it: one POST, its outputs the answer."""
        visit = Visit(joined_at=time.time())
        answer = await self.http.post(
            self.url + "/gradio_api/run/predict", json=self._body(fn_index, data, session)
        )
        visit.completed_at = time.time()
        if answer.status_code != 200:
            visit.error = answer.text
        return visit

    async def _run(self, fn_index: int, data: list, session: str) -> Visit:
        visit = Visit(joined_at=time.time())
        joined = await self.http.post(
            self.url + "/gradio_api/queue/join", json=self._body(fn_index, data, session)
        )
        if joined.status_code == 503:
            visit.busy, visit.error = True, joined.json().get("detail", "")
            return visit
        joined.raise_for_status()
        players: list[asyncio.Task] = []
        news = asyncio.Event()  # set on every message of the event
        try:
            await self._follow(session, visit, players, news)
        finally:
            await asyncio.gather(*players)
        return visit

    async def _follow(
        self, session: str, visit: Visit, players: list[asyncio.Task], news: asyncio.Event
    ) -> None:
        params = {"session_hash": session}
        async with self.http.stream(
            "GET", self.url + "/gradio_api/queue/data", params=params
        ) as events:
            async for line in events.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                news.set()
                if kind == "process_generating" and not players:
                    stream = _stream_url(message["output"]["data"])
                    if stream:
                        players.append(asyncio.create_task(self._play(stream, visit, news)))
                elif kind == "process_completed":
                    visit.completed_at = time.time()
                    if not message.get("success"):
                        visit.error = str(message.get("output", {}).get("error"))
                elif kind in ("close_stream", "unexpected_error"):
                    visit.error = visit.error or message.get("message")
                    return
                if visit.completed_at:
                    return

    async def _play(self, playlist_url: str, visit: Visit, news: asyncio.Event) -> None:
        """Fetch each segment once it is listed, until the playlist ends."""
        base = playlist_url.rsplit("/", 1)[0]
        fetched: set[str] = set()
        while True:
            news.clear()  # before reading: a message that arrives meanwhile wakes the next read
            playlist = (await self.http.get(playlist_url)).text
            for name in (line for line in playlist.splitlines() if line.endswith(".aac")):
                if name not in fetched:
                    fetched.add(name)
                    segment = (await self.http.get(f"{base}/{name}")).content
                    visit.audio_bytes += len(segment)
                    if segment and visit.first_audio_at is None:
                        visit.first_audio_at = time.time()
            if ENDLIST in playlist:
                return
            if visit.completed_at and time.time() - visit.completed_at > PLAYER_GRACE_S:
                visit.error = visit.error or "the live playlist never ended"
                return
            try:
                await asyncio.wait_for(news.wait(), PLAYLIST_POLL_S)
            except asyncio.TimeoutError:
                pass


def _stream_url(outputs: list) -> str | None:
    """The live player's playlist URL in a message's outputs, sent whole or as a diff.

    Gradio sends a generator's first yield whole and later ones as diff operations against the
    previous yield, e.g. [["add", ["url"], "…/playlist.m3u8"], ["add", ["is_stream"], True]].
    """
    for output in outputs:
        if isinstance(output, list):  # a diff: the fields it adds or replaces
            output = {
                (path[0] if path else None): value for _, path, value in output if len(path) <= 1
            }
            output = output.get(None) if isinstance(output.get(None), dict) else output
        if isinstance(output, dict) and output.get("is_stream") and output.get("url"):
            return output["url"]
    return None


def http_client() -> httpx.AsyncClient:
    """One connection pool for every visitor of a run, large enough that none waits for it."""
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120.0))

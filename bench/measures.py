"""The measurements, each against a running simulator and app (see run.py for the order)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import math
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from dashscope_sim import most_at_once
from qwen_tts_showcase.catalogue import AUTO_LANGUAGE

from . import browser
from .services import Service
from .visitor import App, Visit

MODEL, VOICE, REGION = "qwen-tts-latest", "Cherry", "beijing"
OWNER = ""  # the browser's owner token of custom voices: none
# The realtime models' controls the Studio also sends (rate, pitch, volume, sample rate, format,
# speak as written); the bench's model ignores them.
REALTIME_CONTROLS = [1.0, 1.0, 50, 24000, "pcm", False]


def studio_inputs(text: str, streaming: bool = True, owner: str | None = OWNER) -> list:
    """The Studio's Generate inputs, as the page sends them."""
    return [text, MODEL, VOICE, AUTO_LANGUAGE, "", REGION, "", streaming, owner, *REALTIME_CONTROLS]


OVERHEAD_AUDIO_S = 2.0  # short syntheses for the overhead samples
CROWD_AUDIO_S = 2.0
CROWD_FIRST_CHUNK_S = 1.0  # "each asking for a synthesis with 1 s upstream latency"
MEMORY_SAMPLE_S = 0.1
CACHED_AUDIO_S = 8.0  # about one gallery sample

_numbers = itertools.count(1)


def unique_text() -> str:
    """A text no earlier request used, so no cache can answer it (the simulator fixes the length)."""
    return f"Benchmark sentence number {next(_numbers)}, spoken once."


@dataclass(frozen=True)
class Upstream:
    """How the simulated DashScope behaves in time (see dashscope_sim.UpstreamProfile)."""

    first_chunk_s: float
    realtime_factor: float
    chunk_s: float


@dataclass
class Lab:
    """The running services and one HTTP client shared by every visitor."""

    app_service: Service
    simulator: Service
    upstream: Upstream
    http: httpx.AsyncClient
    app: App = field(init=False)
    # The page sessions whose Studio shows a finished run's results (page.js's resultsShown);
    # shared by the Labs browsers() copies from this one.
    shown_results: set[str] = field(default_factory=set)

    async def connect(self) -> Lab:
        self.app = await App(self.app_service.url, self.http).connect()
        return self

    async def set_upstream(
        self,
        audio_s: float,
        first_chunk_s: float | None = None,
        realtime_factor: float | None = None,
    ) -> None:
        up = self.upstream
        profile = {
            "first_chunk_delay_s": up.first_chunk_s if first_chunk_s is None else first_chunk_s,
            "realtime_factor": up.realtime_factor if realtime_factor is None else realtime_factor,
            "chunk_seconds": up.chunk_s,
            "fixed_audio_seconds": audio_s,
        }
        reply = await self.http.post(self.simulator.url + "/_sim/profile", json=profile)
        reply.raise_for_status()

    async def reset_simulator(self) -> None:
        (await self.http.post(self.simulator.url + "/_sim/reset")).raise_for_status()

    async def upstream_first_audio_at(self, text: str) -> float:
        """When the simulator sent the first audio of the request for `text`."""
        return (await self.requests_for(text))[-1]["first_audio_sent_at"]

    async def requests_for(self, *texts: str) -> list[dict]:
        """What the simulator recorded for these texts."""
        rows = (await self.http.get(self.simulator.url + "/_sim/requests")).json()["requests"]
        return [r for r in rows if (r.get("body") or {}).get("input", {}).get("text") in texts]

    async def generate(
        self, streaming: bool, text: str | None = None, session: str | None = None
    ) -> tuple[Visit, str]:
        """The page's Generate button; raises if the visitor saw an error."""
        text = text or unique_text()
        visit = await self.app.visit("generate", studio_inputs(text, streaming), session)
        if visit.error or visit.first_audio_at is None:
            raise RuntimeError(f"generate failed: {visit.error or 'no audio reached the player'}")
        return visit, text


@dataclass
class FirstAudio:
    """Streaming against the blog's approach for one length of speech."""

    audio_s: float
    streaming_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    cpu_per_audio_s: list[float] = field(default_factory=list)  # streaming path, app process

    @property
    def ratio(self) -> float:
        return statistics.median(self.streaming_s) / statistics.median(self.baseline_s)


async def first_audio(lab: Lab, lengths: list[float], repetitions: int) -> list[FirstAudio]:
    """Interleaved: every repetition runs each length both ways, alternating which goes first."""
    results = [FirstAudio(seconds) for seconds in lengths]
    for repetition in range(repetitions):
        for result in results:
            await lab.set_upstream(result.audio_s)
            order = (True, False) if repetition % 2 == 0 else (False, True)
            for streaming in order:
                cpu_before = lab.app_service.cpu_s()
                visit, _ = await lab.generate(streaming)
                if streaming:
                    used = lab.app_service.cpu_s() - cpu_before
                    result.streaming_s.append(visit.first_audio_s)
                    result.cpu_per_audio_s.append(used / result.audio_s)
                else:
                    result.baseline_s.append(visit.first_audio_s)
    return results


async def browser_first_sound(
    lab: Lab, audio_s: float, repetitions: int
) -> tuple[list[float], list[float]]:
    """First sound in Chromium, streaming and the blog's way, interleaved."""
    await lab.set_upstream(audio_s)
    plan = []
    for repetition in range(repetitions):
        pair = [(unique_text(), True), (unique_text(), False)]
        plan += pair if repetition % 2 == 0 else pair[::-1]
    sounds = await browser.first_sound(lab.app_service.url, plan)
    streaming = [s for (_, is_streaming), s in zip(plan, sounds, strict=True) if is_streaming]
    baseline = [s for (_, is_streaming), s in zip(plan, sounds, strict=True) if not is_streaming]
    return streaming, baseline


@dataclass
class PlayerSound:
    """First sound in Chromium, the live player against today's streamed one."""

    live_after_upstream_s: list[float] = field(default_factory=list)  # minus upstream's 1st chunk
    stream_after_upstream_s: list[float] = field(default_factory=list)
    live_click_s: list[float] = field(default_factory=list)  # click to first sound
    stream_click_s: list[float] = field(default_factory=list)
    live_cache_hit_s: list[float] = field(default_factory=list)  # click to sound, cached
    # the same two, as the page's thread noticed the worklet's message (the measure before)
    live_after_upstream_noticed_s: list[float] = field(default_factory=list)
    live_cache_hit_noticed_s: list[float] = field(default_factory=list)
    live_gaps: int = 0  # silent runs over 30 ms inside the live streams
    live_presses_ready: int = 0  # presses that found their ticket asked for ahead
    live_presses: int = 0


async def player_first_sound(
    lab: Lab, audio_s: float, repetitions: int, cache_hits: int
) -> PlayerSound:
    """The live player and today's streamed player, `repetitions` fresh pages each (the two
    interleaved), each first sound against the moment the simulator sent its first audio."""
    await lab.set_upstream(audio_s)
    result = PlayerSound()
    for repetition in range(repetitions):
        order = ("live", "stream") if repetition % 2 == 0 else ("stream", "live")
        for player in order:
            hits = cache_hits if player == "live" and repetition == repetitions - 1 else 0
            sounds = await browser.player_first_sound(
                lab.app_service.url, [unique_text()], player, repeat_last=hits
            )
            first, cached = sounds[0], sounds[1:]
            upstream_at = await lab.upstream_first_audio_at(first["text"])
            after = first["firstSoundAt"] - upstream_at
            click = first["firstSoundAt"] - first["pressedAt"]
            if player == "live":
                result.live_presses += len(sounds)
                result.live_presses_ready += sum(s["ticket"] == "ready" for s in sounds)
                result.live_after_upstream_s.append(after)
                result.live_click_s.append(click)
                result.live_gaps += first["gaps"]
                result.live_cache_hit_s += [s["firstSoundAt"] - s["pressedAt"] for s in cached]
                result.live_after_upstream_noticed_s.append(first["noticedAt"] - upstream_at)
                result.live_cache_hit_noticed_s += [s["noticedAt"] - s["pressedAt"] for s in cached]
            else:
                result.stream_after_upstream_s.append(after)
                result.stream_click_s.append(click)
    return result


async def stop_closes(lab: Lab, repetitions: int, audio_s: float = 60.0) -> list[float]:
    """Seconds from a click on the live player's Stop to the simulator seeing its stream closed
    (a long stream at real time, so only the Stop ends it)."""
    await lab.set_upstream(audio_s, realtime_factor=1.0)
    texts = [unique_text() for _ in range(repetitions)]
    samples = []
    for stop in await browser.stop_clicks(lab.app_service.url, texts):
        for _ in range(200):  # the simulator notes the hang-up as it happens; wait to read it
            (sent,) = (await lab.requests_for(stop["text"]))[-1:]
            if sent.get("hung_up_at"):
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("the stopped stream was not closed within 10 s")
        samples.append(sent["hung_up_at"] - stop["stoppedAt"])
    return samples


async def overhead(lab: Lab, count: int) -> list[float]:
    """First audio at the client minus the upstream's first audio frame, per streaming request."""
    await lab.set_upstream(OVERHEAD_AUDIO_S)
    samples = []
    for _ in range(count):
        visit, text = await lab.generate(streaming=True)
        samples.append(visit.first_audio_at - await lab.upstream_first_audio_at(text))
    return samples


async def cache_hits(lab: Lab, count: int) -> tuple[list[float], list[float]]:
    """One text asked again and again: first audio on the page, and the finished WAV by API."""
    await lab.set_upstream(CACHED_AUDIO_S)
    _, text = await lab.generate(streaming=True)  # the miss that fills the cache
    # One visitor on the page pressing Generate again and again, one API client (gradio_client
    # keeps its session too).
    on_page, client = await lab.app.open_page(), uuid.uuid4().hex[:11]
    page, api = [], []
    for _ in range(count):
        visit, _ = await lab.generate(streaming=True, text=text, session=on_page)
        page.append(visit.first_audio_s)
        wav = await lab.app.visit("synthesize", [text, VOICE, MODEL], session=client)
        if wav.error or not wav.completed_at:
            raise RuntimeError(f"synthesize failed: {wav.error}")
        api.append(wav.total_s)
    if len(await lab.requests_for(text)) != 1:
        raise RuntimeError("the repeated text reached the upstream again: the cache did not answer")
    return page, api


@dataclass
class Crowd:
    visitors: int
    makespan_s: float
    ideal_s: float
    failed: int
    busy: int
    upstream_peak: int  # the most syntheses the simulator was working on at one moment

    @property
    def ratio(self) -> float:
        return self.makespan_s / self.ideal_s


async def crowd(lab: Lab, visitors: int, concurrency_limit: int) -> Crowd:
    """`visitors` press Generate at once; the ideal runs ceil(N / limit) rounds of the upstream."""
    await lab.set_upstream(CROWD_AUDIO_S, first_chunk_s=CROWD_FIRST_CHUNK_S, realtime_factor=0.0)
    data = [studio_inputs(unique_text()) for _ in range(visitors)]
    # Each visitor has the page open (its session made by the page's load), then all press
    # Generate in the same instant.
    sessions = await asyncio.gather(*(lab.app.open_page() for _ in range(visitors)))
    visits = await asyncio.gather(
        *(
            lab.app.visit("generate", row, session)
            for row, session in zip(data, sessions, strict=True)
        )
    )
    done = [v for v in visits if v.completed_at and not v.error]
    makespan = max(v.completed_at for v in done) - min(v.joined_at for v in visits) if done else 0
    ideal = math.ceil(visitors / concurrency_limit) * CROWD_FIRST_CHUNK_S
    upstream = await lab.requests_for(*(row[0] for row in data))
    return Crowd(
        visitors,
        makespan,
        ideal,
        failed=len(visits) - len(done),
        busy=sum(v.busy for v in visits),
        upstream_peak=most_at_once((r["received_at"], r["first_audio_sent_at"]) for r in upstream),
    )


class MemorySampler:
    """The highest resident memory of the app and its ffmpeg children while it runs."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(MEMORY_SAMPLE_S):
            self.peak_bytes = max(self.peak_bytes, self.service.rss_bytes())


def cold_starts(app_service: Service, hello: Service, repetitions: int) -> tuple[list, list]:
    """Seconds from the command to the first HTTP 200 of the page, interleaved app and hello."""
    app_s, hello_s = [], []
    for repetition in range(repetitions):
        pair = [(app_service, app_s), (hello, hello_s)]
        for service, samples in pair if repetition % 2 == 0 else reversed(pair):
            try:
                samples.append(service.start())
            finally:
                service.stop()
    return app_s, hello_s


# The live player's path over HTTP, as page.js drives it. Today's page asks for its ticket ahead
# (the `live_ahead` event, outside the queue, while the page is open and idle), so a press is
# GET /live/<ticket> read to its end (with the page's `live_use` event, which clears the
# previous results, sent once the first audio is in if a finish has shown any, and /notices as
# page.js asks it), GET /live/<ticket>/end, then the finish event outside the queue (live_done)
# that brings the recording into gr.Audio, the download and the history row. The press as it
# was before (the ticket event in the press) is kept as a comparison.
LIVE_FOOTPRINT_STREAMS = 16
LIVE_FOOTPRINT_AUDIO_S = 10.0
AHEAD, IN_PRESS = "ahead", "in the press"  # how a press gets its ticket
LIVE_DONE = "live_done"  # the event that brings a complete stream's recording


@dataclass
class LiveVisit:
    """One press of Generate on the live player, in time.time() seconds."""

    pressed_at: float
    first_audio_at: float | None = None
    delivered_at: float | None = None  # the stream read to its end: all the audio is heard
    completed_at: float | None = None  # the finish event done: the recording is offered
    audio_bytes: int = 0
    error: str | None = None
    stages: dict[str, float] = field(default_factory=dict)  # when each later request was done


def _headers(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address} if address else {}


async def _page_event(
    lab: Lab, api_name: str, data: list, session: str, address: str
) -> httpx.Response:
    """One of the page's events outside the queue, as the browser sends it."""
    return await lab.http.post(
        lab.app_service.url + "/gradio_api/run/predict",
        json=App._body(lab.app.fn_index[api_name], data, session),
        headers=_headers(address),
    )


async def live_ticket_ahead(lab: Lab, text: str, session: str, address: str = "") -> str:
    """The ticket the page asks for while it is open and idle (`live_ahead`, stamped as page.js
    stamps it); raises when the app refuses it."""
    answer = await _page_event(lab, "live_ahead", [*studio_inputs(text), "1"], session, address)
    answer.raise_for_status()
    stamp, ticket = answer.json()["data"][0].split(" ")
    if stamp != "1" or not ticket:
        raise RuntimeError(f"live_ahead answered {answer.json()['data']!r}")
    return ticket


async def live_press(
    lab: Lab, text: str, session: str, address: str = "", ticket: str | None = None
) -> LiveVisit:
    """Generate on the live player for a visitor whose page is open (its session loaded), from
    this address (the app trusts one proxy hop in the bench, so each crowd visitor can have one
    of its own: tickets are bounded per address). With `ticket` (asked for ahead) the press is
    the stream; without, it first asks for one (the press before tickets were asked ahead). A
    broken connection is a failed visit."""
    visit = LiveVisit(pressed_at=time.time())
    try:
        return await _live_press(lab, text, session, visit, address, ticket)
    except httpx.HTTPError as exc:
        visit.error = f"{type(exc).__name__}: {exc}"
        return visit


async def _live_press(
    lab: Lab, text: str, session: str, visit: LiveVisit, address: str, ticket: str | None
) -> LiveVisit:
    ahead = ticket is not None
    if not ahead:
        answer = await _page_event(lab, "live_ticket", studio_inputs(text), session, address)
        if answer.status_code != 200:
            visit.error = f"ticket event: HTTP {answer.status_code}"
            return visit
        ticket = answer.json()["data"][0]
    notices_url = f"{lab.app_service.url}/live/{ticket}/notices"
    heeding = asyncio.create_task(_heed(lab, notices_url, _headers(address)))
    try:
        return await _listen(lab, ticket, session, visit, address, ahead, heeding)
    finally:
        heeding.cancel()


# page.js asks what a stream has said (/notices) once it has run NOTICE_FIRST_S, then every
# NOTICE_POLL_S until /end has answered (which says the rest). It asks /words only for a
# stream that has some (X-Live-Words), none of the bench's.
NOTICE_FIRST_S, NOTICE_POLL_S = 1.5, 0.5


async def _heed(lab: Lab, notices_url: str, headers: dict[str, str]) -> None:
    await asyncio.sleep(NOTICE_FIRST_S)
    while True:
        await lab.http.get(notices_url, headers=headers)
        await asyncio.sleep(NOTICE_POLL_S)


async def _listen(
    lab: Lab,
    ticket: str,
    session: str,
    visit: LiveVisit,
    address: str,
    ahead: bool,
    heeding: asyncio.Task,
) -> LiveVisit:
    app, url, headers = lab.app, lab.app_service.url, _headers(address)
    using: asyncio.Task | None = None
    async with lab.http.stream("GET", f"{url}/live/{ticket}", headers=headers) as body:
        if body.status_code != 200:
            visit.error = f"live route: HTTP {body.status_code}"
            return visit
        async for chunk in body.aiter_bytes():
            if chunk and visit.first_audio_at is None:
                visit.first_audio_at = time.time()
                # page.js presses live_use once a ticket it had ahead sounds, when a finish has
                # shown results on the page since (none before a page's first press)
                if ahead and session in lab.shown_results:
                    lab.shown_results.discard(session)
                    using = asyncio.create_task(
                        _page_event(lab, "live_use", [ticket], session, address)
                    )
            visit.audio_bytes += len(chunk)
    visit.delivered_at = time.time()
    end = (await lab.http.get(f"{url}/live/{ticket}/end", headers=headers)).json()
    heeding.cancel()
    visit.stages["/end"] = time.time()
    if end.get("state") != "complete":
        visit.error = f"the stream ended {end}"
        return visit
    if using is not None and (await using).status_code != 200:  # the finish waits for it
        visit.error = "live_use event failed"
        return visit
    visit.stages["live_use"] = time.time()
    # A complete stream's recording, download and history row, as page.js asks for them
    # (studio.py's wire_live_done)
    finished = await app.event(LIVE_DONE, app.inputs(LIVE_DONE, ticket), session)
    if finished.error:
        visit.error = f"finish event: {finished.error}"
        return visit
    visit.stages["finish"] = time.time()
    lab.shown_results.add(session)
    for after in await app.then(LIVE_DONE, session):  # any event the page chains after it
        if after.error:
            visit.error = f"after the finish event: {after.error}"
            return visit
    visit.completed_at = time.time()
    return visit


async def live_visit(lab: Lab, text: str, session: str, address: str = "") -> LiveVisit:
    """The page's whole visit: its ticket asked for ahead, then the press."""
    return await live_press(
        lab, text, session, address, await live_ticket_ahead(lab, text, session, address)
    )


BROWSER_CONNECTIONS = 6  # what a browser opens to one origin at most


@contextlib.asynccontextmanager
async def browsers(lab: Lab, count: int):
    """`count` visitors, each with a connection pool of its own as a browser has (one pool of
    hundreds shared by all costs the bench more than the app: httpcore scans it whole for every
    request); each a Lab of its own."""
    async with contextlib.AsyncExitStack() as stack:
        labs = []
        for _ in range(count):
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    limits=httpx.Limits(max_connections=BROWSER_CONNECTIONS),
                    timeout=lab.http.timeout,
                )
            )
            mine = copy.copy(lab)
            mine.http, mine.app = http, copy.copy(lab.app)
            mine.app.http = http
            labs.append(mine)
        yield labs


@dataclass
class LiveCrowd:
    """A crowd of live-player presses: when the last visitor had heard all the audio, and when
    the last had the finished recording offered."""

    visitors: int
    style: str  # AHEAD or IN_PRESS
    delivered_s: float
    offered_s: float
    ideal_s: float
    failed: int
    upstream_peak: int
    app_cpu_s: float = 0.0  # CPU the app process used from the press to the last visit done
    bench_cpu_s: float = 0.0  # and the bench's own visitors (this process), on the same cores

    @property
    def delivered_ratio(self) -> float:
        return self.delivered_s / self.ideal_s

    @property
    def offered_ratio(self) -> float:
        return self.offered_s / self.ideal_s


async def live_crowd(lab: Lab, visitors: int, concurrency_limit: int, style: str) -> LiveCrowd:
    """`visitors` with the page open press Generate on the live player at once, against a 1 s
    upstream; the ideal runs ceil(N / limit) rounds of the upstream. With AHEAD each page got
    its ticket (live_ahead) before the common instant, as the page does while it is idle."""
    await lab.set_upstream(CROWD_AUDIO_S, first_chunk_s=CROWD_FIRST_CHUNK_S, realtime_factor=0.0)
    texts = [unique_text() for _ in range(visitors)]
    addresses = [f"198.51.100.{number}" for number in range(1, visitors + 1)]
    async with browsers(lab, visitors) as labs:
        sessions = await asyncio.gather(*(mine.app.open_page() for mine in labs))
        tickets: list[str | None] = [None] * visitors
        if style == AHEAD:
            tickets = list(
                await asyncio.gather(
                    *(
                        live_ticket_ahead(*visitor)
                        for visitor in zip(labs, texts, sessions, addresses, strict=True)
                    )
                )
            )
        app_cpu, bench_cpu = lab.app_service.cpu_s(), time.process_time()
        visits = await asyncio.gather(
            *(
                live_press(*visitor)
                for visitor in zip(labs, texts, sessions, addresses, tickets, strict=True)
            )
        )
        app_cpu, bench_cpu = lab.app_service.cpu_s() - app_cpu, time.process_time() - bench_cpu
    done = [v for v in visits if v.completed_at and not v.error]
    for error in sorted({v.error for v in visits if v.error}):
        print(f"live crowd of {visitors}, ticket {style}: {error}")
    start = min(v.pressed_at for v in visits)
    upstream = await lab.requests_for(*texts)
    return LiveCrowd(
        visitors,
        style,
        delivered_s=max(v.delivered_at for v in done) - start if done else 0,
        offered_s=max(v.completed_at for v in done) - start if done else 0,
        ideal_s=math.ceil(visitors / concurrency_limit) * CROWD_FIRST_CHUNK_S,
        failed=len(visits) - len(done),
        upstream_peak=most_at_once((r["received_at"], r["first_audio_sent_at"]) for r in upstream),
        app_cpu_s=app_cpu,
        bench_cpu_s=bench_cpu,
    )


@dataclass
class LiveFootprint:
    """What live streams cost the app process."""

    streams: int
    audio_s: float  # per stream
    cpu_per_audio_s: float  # app CPU seconds per second of audio streamed, all streams at once
    single_cpu_per_audio_s: list[float]  # one stream at a time
    rss_per_stream_bytes: float  # peak resident memory while they stream, minus before, per stream


async def live_footprint(
    lab: Lab, streams: int = LIVE_FOOTPRINT_STREAMS, audio_s: float = LIVE_FOOTPRINT_AUDIO_S
) -> LiveFootprint:
    """App CPU and resident memory around live streams: `streams` at once (memory, and CPU),
    then three one at a time (CPU, comparable with the streamed player's row). Each visit is
    all the page asks of the app: its ticket ahead, the press, the finish."""
    await lab.set_upstream(audio_s)
    session = await lab.app.open_page()
    await live_visit(lab, unique_text(), session)  # first-use costs out of the samples
    single = []
    for _ in range(3):
        before = lab.app_service.cpu_s()
        visit = await live_visit(lab, unique_text(), session)
        if visit.error:
            raise RuntimeError(f"a live stream failed: {visit.error}")
        single.append((lab.app_service.cpu_s() - before) / audio_s)
    async with browsers(lab, streams) as labs:
        sessions = await asyncio.gather(*(mine.app.open_page() for mine in labs))
        idle = lab.app_service.rss_bytes()
        before = lab.app_service.cpu_s()
        with MemorySampler(lab.app_service) as memory:
            visits = await asyncio.gather(
                *(
                    live_visit(mine, unique_text(), s, f"198.51.100.{number}")
                    for number, (mine, s) in enumerate(zip(labs, sessions, strict=True), 1)
                )
            )
        used = lab.app_service.cpu_s() - before
    failed = [v.error for v in visits if v.error]
    if failed:
        raise RuntimeError(f"{len(failed)} live streams failed: {failed[0]}")
    return LiveFootprint(
        streams,
        audio_s,
        used / (streams * audio_s),
        single,
        max(0, memory.peak_bytes - idle) / streams,
    )


LIVE_PHASE_VISITS = 20
# the last: any event the page chains after the finish (before 2026-12-04 evening, the download
# offered and the history row; the finish now brings both)
LIVE_PHASES = ("ticket ahead", "live_use", "stream and /end", "finish event", "after the finish")


async def live_phases(
    lab: Lab,
    visits: int = LIVE_PHASE_VISITS,
    audio_s: float = CROWD_AUDIO_S,
    session: str | None = None,
) -> dict[str, float]:
    """App CPU seconds per visit for each request the page makes, one visit at a time, in a
    page already open (the process's CPU in clock ticks, so summed over `visits` first)."""
    await lab.set_upstream(audio_s, first_chunk_s=0.0, realtime_factor=0.0)
    session = session or await lab.app.open_page()
    app, used = lab.app, dict.fromkeys(LIVE_PHASES, 0.0)

    async def timed(phase: str, work):
        before = lab.app_service.cpu_s()
        answer = await work
        used[phase] += lab.app_service.cpu_s() - before
        return answer

    for number in range(visits + 1):  # the first one warms up, uncounted
        if number == 1:
            used.update(dict.fromkeys(LIVE_PHASES, 0.0))
        text = unique_text()
        ticket = await timed("ticket ahead", live_ticket_ahead(lab, text, session))
        await timed("live_use", _page_event(lab, "live_use", [ticket], session, ""))

        await timed("stream and /end", _stream_and_end(lab, ticket))
        data = app.inputs(LIVE_DONE, ticket)
        finished = await timed("finish event", app.event(LIVE_DONE, data, session))
        if finished.error:
            raise RuntimeError(f"finish event: {finished.error}")
        for after in await timed("after the finish", app.then(LIVE_DONE, session)):
            if after.error:
                raise RuntimeError(f"after the finish event: {after.error}")
    return {phase: cpu / visits for phase, cpu in used.items()}


async def _stream_and_end(lab: Lab, ticket: str) -> None:
    url = lab.app_service.url
    (await lab.http.get(f"{url}/live/{ticket}")).raise_for_status()
    (await lab.http.get(f"{url}/live/{ticket}/end")).raise_for_status()

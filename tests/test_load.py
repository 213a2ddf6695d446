"""Fifty visitors at once against the simulator: every request served, nobody sees another's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gradio_client import Client

from qwen_tts_showcase.audio import wav_to_pcm

from .conftest import BEIJING_KEY, close_client, submit_generate

VISITORS = 50
ROUNDS = 3  # requests each visitor makes, one after another: a count, not a time window
CLIENT_TIMEOUT_S = (
    60  # gradio_client's 5 s for /config and /info is short for 50 at once on 2 cores
)
OWN_KEY_EVERY = 4  # visitors 1, 5, 9, ... bring their own key (through /generate)


@dataclass
class Visit:
    """One request of one visitor and everything it showed them."""

    visitor: int
    text: str
    key: str  # the key the visitor expected to be used
    audio_path: str
    shown: list[str] = field(default_factory=list)  # every other output: readout, stream URLs


def own_key(number: int) -> str:
    return f"sk-visitor{number:02d}own" if number % OWN_KEY_EVERY == 1 else ""


@pytest.fixture(scope="module")
def crowd_app(launch_app, simulator_server):
    """The app with default concurrency and queue, and a key of its own for some visitors."""
    keys = {own_key(n): "beijing" for n in range(VISITORS) if own_key(n)}
    simulator_server.keys.update(keys)
    # Patient with the simulator: on 2 busy cores, 50 at once may keep a stream silent for more
    # than the tests' usual 2 s; what this test checks is who gets which audio.
    _, url = launch_app(SHOWCASE_READ_TIMEOUT_S="60")
    yield url
    for key in keys:
        simulator_server.keys.pop(key)


def visit(url: str, number: int) -> list[Visit]:
    """One visitor: their own session, a unique text per request, /generate or /synthesize."""
    client = Client(url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT_S})
    visits: list[Visit] = []
    try:
        for round_ in range(ROUNDS):
            text = f"第{number}位访客的第{round_}句话。Visitor {number}, line {round_}."
            if number % 2:  # the page's event, streaming, some with their own key
                key = own_key(number)
                job = submit_generate(client, text, api_key=key)
                live = [str(output[0]) for output in job if isinstance(output[0], str)]
                _, complete, readout, _ = job.result()  # and the lit words
                visits.append(Visit(number, text, key or BEIJING_KEY, complete, [readout, *live]))
            else:
                path = client.predict(text, "Cherry", "qwen-tts-latest", api_name="/synthesize")
                visits.append(Visit(number, text, BEIJING_KEY, path))
    finally:
        close_client(client)
    return visits


def pcm_of(path: str) -> bytes:
    return wav_to_pcm(Path(path).read_bytes())  # checks it is 24 kHz mono 16-bit, too


def segments_of(playlist: str) -> set[str]:
    lines = Path(playlist).read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_fifty_concurrent_visitors_each_get_exactly_their_own_audio(crowd_app, simulator):
    simulator.profile.fixed_audio_seconds = 1.0  # light audio: the load is the point
    with ThreadPoolExecutor(max_workers=VISITORS) as pool:
        futures = [pool.submit(visit, crowd_app, number) for number in range(VISITORS)]
        visits = [v for future in futures for v in future.result()]  # any failure raises here

    assert len({v.visitor for v in visits}) == VISITORS and len(visits) == VISITORS * ROUNDS
    sent = {r.body["input"]["text"]: r for r in simulator.generation_requests()}
    assert len(sent) == len(visits), "one API call per request, none lost or repeated"
    every_key = {BEIJING_KEY} | {own_key(n) for n in range(VISITORS)} - {""}
    for v in visits:
        request = sent[v.text]
        assert request.headers["authorization"] == f"Bearer {v.key}", "the visitor's own key"
        assert pcm_of(v.audio_path) == request.pcm, "exactly the audio made for this text"
        outputs = " ".join(v.shown) + Path(v.audio_path).read_bytes().decode("latin-1")
        assert not any(key in outputs for key in every_key), "no key is ever shown"
    assert len({v.audio_path for v in visits}) == len(visits), "no two visits share a file"
    # The client names a downloaded playlist after its content, so two playlists with no
    # segment yet land on one path: compare the segments they list instead.
    streams = [set().union(*map(segments_of, v.shown[1:])) for v in visits]
    assert any(streams), "the live players got audio segments"
    assert all(not a & b for i, a in enumerate(streams) for b in streams[i + 1 :]), (
        "no two visits share a live stream"
    )

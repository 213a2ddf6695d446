"""Visitors do not wait behind each other up to the limit; beyond limit and queue they are told to retry."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from gradio_client import Client
from gradio_client.utils import QueueError, Status

from dashscope_sim import most_at_once as simulator_peak
from qwen_tts_showcase.config import Settings
from qwen_tts_showcase.ui import launch_options

from .conftest import WAIT_LIMIT_S, wait_until
from .helpers import assert_wav_is


def most_at_once(requests) -> int:
    return simulator_peak((r.received_at, r.first_audio_sent_at) for r in requests)


def synthesize(client: Client, number: int) -> Future:
    return client.submit(
        f"Visitor number {number} says hello.", "Cherry", "qwen-tts-latest", api_name="/synthesize"
    )


def test_more_visitors_than_gradios_default_threads_all_run_at_once(
    launch_app, simulator, new_client
):
    visitors = 44  # Gradio's default pool has 40 threads; each synthesis holds one while it waits
    _, url = launch_app(SHOWCASE_CONCURRENCY_LIMIT=str(visitors), SHOWCASE_READ_TIMEOUT_S="60")
    simulator.hold()  # no answer before every visitor has reached DashScope
    client = new_client(url, max_workers=visitors)
    jobs = [synthesize(client, number) for number in range(visitors)]
    wait_until(
        lambda: len(simulator.generation_requests()) == visitors, "every visitor to start", jobs
    )
    simulator.release()
    paths = [job.result(timeout=WAIT_LIMIT_S) for job in jobs]
    sent = simulator.generation_requests()
    assert len(sent) == visitors
    assert most_at_once(sent) == visitors
    by_text = {request.body["input"]["text"]: request.pcm for request in sent}
    for number, path in enumerate(paths):
        assert_wav_is(path, by_text[f"Visitor number {number} says hello."])


def test_beyond_the_limit_visitors_queue_and_beyond_the_queue_they_are_told_to_retry(
    launch_app, simulator
):
    client, _ = launch_app(
        SHOWCASE_CONCURRENCY_LIMIT="2", SHOWCASE_QUEUE_SIZE="1", SHOWCASE_READ_TIMEOUT_S="60"
    )
    simulator.hold()  # the two running syntheses run until the next two are queued and refused
    running = []
    for number in range(2):
        # One at a time: Gradio counts only waiting jobs against the queue size, and a job joined
        # while the one before still waits to be picked up would find the queue full.
        running.append(synthesize(client, number))
        wait_until(
            lambda: len(simulator.generation_requests()) == len(running),
            f"synthesis {number} to start",
            running,
        )
    waiting = synthesize(client, 2)
    wait_until(lambda: waiting.status().code == Status.IN_QUEUE, "the third visitor to queue")
    refused = synthesize(client, 3)
    with pytest.raises(QueueError, match="Queue is full"):
        refused.result(timeout=WAIT_LIMIT_S)
    simulator.release()
    for job in running + [waiting]:
        job.result(timeout=WAIT_LIMIT_S)
    sent = simulator.generation_requests()
    assert len(sent) == 3, "the refused visitor never reached DashScope"
    assert most_at_once(sent) == 2, "the queued visitor started only when a slot was free"


@pytest.mark.parametrize("limit", [1, 16, 64, 200])
def test_the_thread_pool_always_leaves_room_beyond_the_concurrency_limit(limit):
    threads = launch_options(Settings(concurrency_limit=limit))["max_threads"]
    assert threads > limit and threads >= 40  # never below Gradio's own default


def test_gradios_idle_queue_looks_for_work_every_20_ms_not_every_millisecond(simulator, catalogue):
    # Gradio's default (1 ms, and 10 ms for progress) costs an idle app about 55 ms of CPU a
    # second, taken from the live streams; queued events still run (the tests above)
    from qwen_tts_showcase.ui import QUEUE_IDLE_POLL_S, build_demo

    from .conftest import simulator_settings

    queue = build_demo(simulator_settings(simulator, catalogue), catalogue)._queue
    assert QUEUE_IDLE_POLL_S == 0.02
    assert queue.sleep_when_free == queue.progress_update_sleep_when_free == QUEUE_IDLE_POLL_S

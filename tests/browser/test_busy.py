"""A full queue in Chromium: the page still works, and Generate says it is busy in both languages."""

from __future__ import annotations

import pytest
from gradio_client.utils import Status
from playwright.sync_api import expect

from dashscope_sim import UpstreamProfile

from ..conftest import WAIT_LIMIT_S, wait_until
from .pages import choose, run_and_wait_for_readout, toast


@pytest.fixture(scope="module")
def app(launch_app):
    """One synthesis at a time and one place in the queue; the held synthesis's deadline (one
    for the whole synthesis) is far beyond the test's own waits."""
    return launch_app(
        SHOWCASE_CONCURRENCY_LIMIT="1",
        SHOWCASE_QUEUE_SIZE="1",
        SHOWCASE_READ_TIMEOUT_S="300",
        SHOWCASE_TOTAL_TIMEOUT_S="300",
    )


def fill_the_queue(client, simulator) -> list:
    """One synthesis running (held by the simulator) and one waiting."""
    simulator.profile = UpstreamProfile(first_chunk_delay_s=100)  # until simulator.clear()
    jobs = []
    for number in range(2):  # one at a time: a second join before the first ran finds it full
        jobs.append(
            client.submit(
                f"Holding the queue, {number}.", "Cherry", "qwen-tts-latest", api_name="/synthesize"
            )
        )
        wait_until(
            lambda: (
                len(simulator.generation_requests()) == 1
                and jobs[-1].status().code in (Status.PROCESSING, Status.IN_QUEUE)
            ),
            f"job {number} to hold the queue",
            jobs,
        )
    return jobs


def test_with_the_queue_full_the_page_works_and_generate_says_busy_in_both_languages(
    open_page, app, simulator
):
    client, _ = app
    held = fill_the_queue(client, simulator)
    page = open_page(locale="zh-CN")
    # The page's own events run outside the queue: the model change updates the voices.
    choose(page, "model", "Qwen3-TTS Flash")
    choose(page, "voice", "Rocky · 粤语 Cantonese · ♂")
    expect(page.locator("#page_footer")).to_contain_text("qwen3-tts-flash")
    expect(toast(page)).to_have_count(0)
    page.locator("#text textarea").fill("喂，老友！")
    page.locator("#generate").click()
    busy = toast(page).get_by_test_id("toast-text")
    expect(busy).to_have_text(
        "排队名额已满，演示正忙。请过一分钟再试。\n"
        "Every place in the queue is taken: the demo is busy. "
        "Please try again in a minute."
    )
    assert len(simulator.generation_requests()) == 1, "the refused visitor reached no API"

    simulator.clear()  # the held synthesis is dropped, retried at once, and the queue drains
    for job in held:
        job.result(timeout=WAIT_LIMIT_S)
    page.get_by_test_id("toast-close").first.click()
    run_and_wait_for_readout(page, page.locator("#generate").click)
    assert simulator.generation_requests()[-1].body["input"]["voice"] == "Rocky"

"""Two replicas behind HAProxy in Chromium: a visitor's page sticks to one replica; when that one
dies, the page on the other says in words that a History row's recording is not here, and a new
generation works there."""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ..conftest import WAIT_LIMIT_S
from ..real_services import AppProcess, HAProxy, RedisServer
from .pages import open_tab, run_and_wait_for_readout, toast

LINE = "Replicas keep their own audio."


@pytest.fixture
def replicas(simulator_server):
    """Redis, two app processes with their own caches, and HAProxy in front; each test its own,
    since each kills one."""
    tmp = Path(tempfile.mkdtemp(prefix="replicas-"))
    redis_server = RedisServer().start()
    env = {"SHOWCASE_REDIS_URL": redis_server.url, "SHOWCASE_CACHE_MAX_MB": "50"}
    apps = [AppProcess(simulator_server, env, tmp, f"app{i + 1}") for i in range(2)]
    proxy = None
    try:
        with ThreadPoolExecutor(2) as pool:  # both import gradio at once: half the wait
            list(pool.map(AppProcess.start, apps))
        proxy = HAProxy([(app.name, app.port) for app in apps], tmp).start()
        yield proxy, apps
    finally:
        if proxy:
            proxy.stop()
        for app in apps:
            app.stop()
        redis_server.stop()


@pytest.fixture
def app(replicas):
    """What open_page opens: the proxy's address."""
    proxy, _ = replicas
    return None, proxy.url


def _load(page, url: str) -> None:
    """Open the page, again while HAProxy still sends to the dead replica (a 503 or a blank)."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        answer = page.goto(url)
        if answer and answer.status == 200:
            try:
                page.locator("#input_counter .input-counter").wait_for(timeout=15_000)
                return
            except Exception:
                pass
        assert time.monotonic() < deadline, "the page never came back"
        time.sleep(0.5)


def test_a_history_row_made_on_a_dead_replica_says_it_is_gone_and_a_new_one_plays(
    open_page, replicas, simulator
):
    proxy, apps = replicas
    page = open_page()
    page.locator("#text textarea").fill(LINE)
    run_and_wait_for_readout(page, page.locator("#generate").click)
    # the row is in the browser's history (its event comes after the readout's) before the
    # replica dies
    open_tab(page, "History")
    expect(page.locator("#history_table [data-testid=cell-0-3]")).to_contain_text(LINE[:10])
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["SHOWCASE_REPLICA"]
    served_by = next(app for app in apps if app.name == cookie)
    served_by.kill()

    _load(page, proxy.url)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["SHOWCASE_REPLICA"] != served_by.name  # HAProxy moved the visitor
    open_tab(page, "History")
    page.locator("#history_table [data-testid=cell-0-3]").click()
    info = page.locator("#history_info")
    expect(info).to_contain_text(LINE)
    expect(info).to_contain_text("no longer in the server's cache")
    expect(page.locator("#history_audio audio")).to_have_count(0)

    open_tab(page, "Studio")
    page.locator("#text textarea").fill(LINE)
    shown = run_and_wait_for_readout(page, page.locator("#generate").click)
    assert shown  # generated again, on the replica alive
    assert len(simulator.generation_requests()) == 2


def test_a_generation_whose_replica_dies_says_so_in_words_and_works_after_a_reload(
    open_page, replicas, simulator
):
    proxy, apps = replicas
    page = open_page()
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["SHOWCASE_REPLICA"]
    serving = next(app for app in apps if app.name == cookie)
    page.locator("#text textarea").fill(LINE + " Again.")
    simulator.hold()
    try:
        page.locator("#generate").click()
        deadline = time.monotonic() + WAIT_LIMIT_S
        while not simulator.generation_requests():
            assert time.monotonic() < deadline, "the generation never reached the simulator"
            time.sleep(0.05)
        serving.kill()
    finally:
        simulator.release()
    expect(toast(page).first).to_contain_text("The server handling this page stopped")
    expect(toast(page).first).to_contain_text("处理本页面的服务器")
    expect(page.locator("body")).not_to_contain_text("Connection to the server was lost")
    _load(page, proxy.url)  # reloaded, as the message says: another replica answers
    page.locator("#text textarea").fill(LINE + " Again.")
    assert run_and_wait_for_readout(page, page.locator("#generate").click)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["SHOWCASE_REPLICA"] != serving.name

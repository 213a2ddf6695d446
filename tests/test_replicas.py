"""Replicas with the real parts: two `python app.py` processes sharing one real redis-server,
against the simulator, with a real HAProxy in front (deploy/haproxy.cfg); and the compose file's
structure (docker compose config where docker can run it)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from gradio_client import Client

from qwen_tts_showcase.audio import wav_to_pcm

from .conftest import WAIT_LIMIT_S, close_client, submit_generate, wait_until
from .helpers import event_stream
from .real_services import ROOT, AppProcess, HAProxy, RedisServer

BUDGET = 200  # characters a day on the owner's key, for every replica together
TEXT = "Sentence number {:03d}."  # 20 characters, each billed 1 by qwen3-tts-flash
MODEL, VOICE = "qwen3-tts-flash", "Cherry"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def start_apps(simulator, redis_server, tmp_path):
    """A factory: n replicas sharing the Redis (emptied first), stopped after the test."""
    import redis

    redis.Redis.from_url(redis_server.url).flushdb()
    apps: list[AppProcess] = []

    def start(n: int, **env: str) -> list[AppProcess]:
        settings = {"SHOWCASE_REDIS_URL": redis_server.url, **env}
        started = [AppProcess(simulator, settings, tmp_path, f"app{i + 1}") for i in range(n)]
        apps.extend(started)
        with ThreadPoolExecutor(n) as pool:  # both import gradio at once: half the wait
            list(pool.map(AppProcess.start, started))
        return started

    yield start
    for app in apps:
        app.stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        close_client(client)


def _client(clients: list[Client], url: str) -> Client:
    clients.append(Client(url, verbose=False, download_files=False))
    return clients[-1]


def synthesize(url: str, number: int) -> str:
    return event_stream(f"{url}/", "synthesize", [TEXT.format(number), VOICE, MODEL])


def test_100_requests_racing_across_2_replicas_never_pass_the_daily_budget(start_apps, simulator):
    apps = start_apps(2, SHOWCASE_DAILY_CHAR_BUDGET=str(BUDGET))
    # each request on its own connection: one gradio_client Client shares one event stream among
    # its jobs, and under load it sometimes closes it between two and cancels the next (not the app)
    with ThreadPoolExecutor(100) as pool:
        answers = list(pool.map(lambda i: synthesize(apps[i % 2].url, i), range(100)))
    done = [a for a in answers if "event: complete" in a]
    refusals = [a for a in answers if "event: error" in a]
    sent = simulator.generation_requests()
    billed = sum(len(r.body["input"]["text"]) for r in sent)
    assert billed <= BUDGET
    assert len(done) == len(sent) == BUDGET // 20  # nothing lost to the race either
    assert len(refusals) == 100 - len(done)
    odd = [words for words in refusals if "today's budget" not in words]
    assert odd == []


def test_redis_stopped_refuses_the_owner_key_on_every_replica_and_recovers(
    start_apps, redis_server, simulator, clients
):
    app = start_apps(1, SHOWCASE_DAILY_CHAR_BUDGET=str(BUDGET))[0]
    client = _client(clients, app.url)
    redis_server.kill()
    try:
        with pytest.raises(Exception) as refused:
            client.predict(TEXT.format(1), VOICE, MODEL, api_name="/synthesize")
        assert "shared usage counters" in str(refused.value)
        assert simulator.generation_requests() == []  # nothing spent unchecked
        # a visitor's own key: the page's Generate with a key pasted still works
        own = submit_generate(
            client, TEXT.format(2), model=MODEL, voice=VOICE, api_key="sk-sim-beijing",
            streaming=False,
        )  # fmt: skip
        own.result(timeout=WAIT_LIMIT_S)
        assert len(simulator.generation_requests()) == 1
    finally:
        redis_server.start()
    path = client.predict(TEXT.format(3), VOICE, MODEL, api_name="/synthesize")
    assert path and len(simulator.generation_requests()) == 2


@pytest.fixture
def balanced(start_apps, tmp_path) -> Iterator[tuple[HAProxy, list[AppProcess]]]:
    apps = start_apps(2)
    proxy = HAProxy([(app.name, app.port) for app in apps], tmp_path).start()
    yield proxy, apps
    proxy.stop()


def _replica_of(client: Client) -> str:
    return client.cookies.get("SHOWCASE_REPLICA", "")


def test_a_replica_killed_mid_crowd_leaves_the_others_alone_and_its_visitors_succeed_on_retry(
    balanced, simulator, clients
):
    proxy, apps = balanced
    crowd = [_client(clients, proxy.url) for _ in range(6)]
    by_replica = {app.name: [c for c in crowd if _replica_of(c) == app.name] for app in apps}
    assert all(by_replica.values()), by_replica  # sticky cookies spread over both replicas
    killed, survivor = apps
    simulator.hold()  # every synthesis stays under way until the replica is killed
    try:
        jobs = {
            c: c.submit(TEXT.format(i), VOICE, MODEL, api_name="/synthesize")
            for i, c in enumerate(crowd)
        }
        wait_until(
            lambda: len(simulator.generation_requests()) == 6,
            "the whole crowd sent",
            list(jobs.values()),
        )
        killed.kill()
    finally:
        simulator.release()
    texts = {client: TEXT.format(i) for i, client in enumerate(crowd)}
    for client in by_replica[survivor.name]:  # unaffected: their whole audio, as sent
        wav = _wav(proxy.url, jobs[client].result(timeout=WAIT_LIMIT_S), client)
        assert wav_to_pcm(wav) == _sent_pcm(simulator, texts[client])
    for client in by_replica[killed.name]:
        # gradio_client ends the lost job (CancelledError): its stream went with the replica
        with pytest.raises(CancelledError):
            jobs[client].result(timeout=WAIT_LIMIT_S)
    # Their retry: HAProxy finds the replica down and sends them to the one alive
    for client in by_replica[killed.name]:
        deadline = time.monotonic() + WAIT_LIMIT_S
        while True:
            retry = _client(clients, proxy.url)
            try:
                done = retry.predict(texts[client], VOICE, MODEL, api_name="/synthesize")
                break
            except Exception:  # the replica is not yet marked down: a 503 or a lost stream
                assert time.monotonic() < deadline, "no retry succeeded"
                time.sleep(0.5)
        assert _replica_of(retry) == survivor.name
        assert wav_to_pcm(_wav(proxy.url, done, retry)) == _sent_pcm(simulator, texts[client])


def _sent_pcm(simulator, text: str) -> bytes:
    """The audio the simulator sent last for this text, all of it."""
    sent = [r for r in simulator.generation_requests() if r.body["input"]["text"] == text]
    return sent[-1].pcm


def _wav(base: str, file_data: dict, client: Client) -> bytes:
    """The WAV /synthesize returned, fetched through the proxy with the visitor's cookie."""
    import httpx

    url = f"{base}/gradio_api/file={file_data['path']}"
    answer = httpx.get(url, cookies=client.cookies, timeout=10)
    assert answer.status_code == 200
    return answer.content


# --- The compose file -------------------------------------------------------------------------

COMPOSE = ROOT / "deploy" / "compose.yaml"


def _docker_compose() -> list[str] | None:
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True)
        if probe.returncode == 0:
            return command
    return None


def test_the_compose_file_is_valid():
    """`docker compose config` where docker can run it; else its structure, checked here."""
    command = _docker_compose()
    if command is not None:
        done = subprocess.run(
            [*command, "-f", str(COMPOSE), "config", "--quiet"], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert set(services) == {"redis", "app", "haproxy"}
    app = services["app"]
    assert app["environment"]["SHOWCASE_REDIS_URL"].startswith("redis://redis:")
    assert app["environment"]["SHOWCASE_TRUSTED_PROXY_HOPS"] == "1"  # HAProxy's forwardfor
    assert app["deploy"]["replicas"] >= 2 and "ports" not in app  # reached through HAProxy only
    assert (COMPOSE.parent / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
    assert set(app["depends_on"]) == {"redis"}
    proxy = services["haproxy"]
    mounted = proxy["volumes"][0].split(":")
    assert (COMPOSE.parent / mounted[0]).resolve() == COMPOSE.parent / "haproxy.cfg"
    assert mounted[1] == "/usr/local/etc/haproxy/haproxy.cfg"
    assert proxy["ports"] == ["7860:7860"]
    assert "appendonly" in " ".join(services["redis"]["command"])
    for service in services.values():
        for key in service:
            assert key in {
                "image", "build", "command", "environment", "volumes", "ports", "depends_on",
                "deploy", "restart",
            }, key  # fmt: skip


def test_the_haproxy_config_is_valid_and_sticky():
    """haproxy -c on deploy/haproxy.cfg as shipped, and the parts the replicas rely on."""
    from .real_services import require

    require("haproxy")
    config = ROOT / "deploy" / "haproxy.cfg"
    check = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr + check.stdout
    text = config.read_text()
    for needed in ("cookie SHOWCASE_REPLICA insert", "option redispatch", "option forwardfor"):
        assert needed in text
    assert "server-template app" in text and "app:7860" in text
    assert Path(config).read_text().count("timeout tunnel 1h") == 1

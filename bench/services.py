"""The processes a benchmark starts (simulator, app, bare Gradio, redis-server) and what /proc
says about them; the replica tests start theirs with the same code (tests/real_services.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
START_LIMIT_S = 240.0  # importing gradio on a busy 2-core machine; a bound, never a speed check
POLL_INTERVAL_S = 0.02


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(
    name: str, process: subprocess.Popen, ready: Callable[[], bool], log_path: Path | None = None
) -> None:
    """Poll `ready` until it holds; a RuntimeError, with the end of the process's log, if the
    process exits first or START_LIMIT_S passes."""
    deadline = time.monotonic() + START_LIMIT_S
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start{_log_end(log_path)}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{name} did not answer within {START_LIMIT_S:g} s{_log_end(log_path)}"
            )
        time.sleep(POLL_INTERVAL_S)


def _log_end(log_path: Path | None) -> str:
    if log_path is None:
        return ""
    return f"; see {log_path}, which ends:\n{log_path.read_text(errors='replace')[-2000:]}"


def answers_http(url: str) -> bool:
    """Whether `url` answers 200 yet."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def start_redis(port: int, folder: Path) -> subprocess.Popen:
    """redis-server on a loopback port, without persistence (its files in `folder`), once it
    answers."""
    import redis

    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(folder), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            return bool(redis.Redis(port=port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    try:
        wait_until_ready("redis-server", process, answers)
    except RuntimeError:
        process.kill()
        process.wait()
        raise
    return process


class Service:
    """A child process serving HTTP on 127.0.0.1; started, measured and stopped by its pid."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.port = free_port()
        self.env = {**env, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(self.port)}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/") -> float:
        """Start the process; the seconds from the command to its first HTTP 200 on ready_path."""
        started = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            ready = partial(answers_http, self.url + ready_path)
            wait_until_ready(self.name, self.process, ready, self.log_path)
        except RuntimeError:
            self.stop()
            raise
        return time.perf_counter() - started

    def kill(self) -> None:
        """End the process at once (SIGKILL), as a crashed one ends."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def cpu_s(self) -> float:
        """CPU seconds used by the process and its finished children (Gradio's ffmpeg encoders)."""
        fields = _stat_fields(self.process.pid)
        return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS_PER_S

    def rss_bytes(self) -> int:
        """Resident memory of the process and its live children."""
        return sum(_status_kib(pid, "VmRSS") for pid in _tree(self.process.pid)) * 1024

    def peak_rss_bytes(self) -> int:
        """The process's own high-water mark of resident memory."""
        return _status_kib(self.process.pid, "VmHWM") * 1024


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: fields[11:15] are utime, stime, cutime, cstime."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except FileNotFoundError:  # a child that ended while we looked
        pass
    return 0


def _tree(pid: int) -> list[int]:
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        children = [int(child) for child in children_file.read_text().split()]
    except FileNotFoundError:
        children = []
    return [pid] + [grandchild for child in children for grandchild in _tree(child)]


def simulator(
    log_dir: Path, first_chunk_s: float, realtime_factor: float, chunk_s: float
) -> Service:
    """The DashScope simulator in its own process, so its work does not share the app's GIL."""
    service = Service(
        "simulator",
        [sys.executable, "-m", "dashscope_sim"],
        dict(os.environ),
        log_dir,
    )
    service.argv += [
        "--port",
        str(service.port),
        "--first-chunk-delay",
        str(first_chunk_s),
        "--realtime-factor",
        str(realtime_factor),
        "--chunk-seconds",
        str(chunk_s),
    ]
    return service


def app(log_dir: Path, simulator_service: Service, extra_env: dict[str, str]) -> Service:
    """`python app.py` exactly as a Space runs it, pointed at the simulator."""
    env = {
        **os.environ,
        "DASHSCOPE_API_KEY": "sk-sim-beijing",
        "DASHSCOPE_HTTP_BASE_URL": simulator_service.url + "/api/v1",
        "DASHSCOPE_INTL_HTTP_BASE_URL": simulator_service.url + "/intl/api/v1",
        "GRADIO_TEMP_DIR": str(log_dir / "gradio"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **extra_env,
    }
    return Service("app", [sys.executable, "app.py"], env, log_dir)


def bare_gradio(log_dir: Path) -> Service:
    """A Gradio hello-world: the floor for cold start."""
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(log_dir / "gradio-hello"),
    }
    return Service("hello", [sys.executable, str(ROOT / "bench" / "hello_gradio.py")], env, log_dir)

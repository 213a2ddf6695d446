"""Real redis-server, HAProxy and `python app.py` processes on loopback ports, for the tests of
replicas (tests/test_redis*.py, tests/test_replicas.py). Nothing is faked: Debian's packages,
installed with apt-get once when missing (as tests/browser/conftest.py does for Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import pytest

from bench.services import (
    ROOT,
    Service,
    answers_http,
    free_port,
    start_redis,
    wait_until_ready,
)

from .conftest import BEIJING_KEY

PACKAGES = {"redis-server": "redis-server", "haproxy": "haproxy"}


def require(*programs: str) -> None:
    """Install the Debian packages of missing programs with apt-get, or skip saying why."""
    missing = [PACKAGES[p] for p in programs if shutil.which(p) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        pytest.skip(f"{', '.join(missing)} missing and installing needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *missing],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            pytest.skip(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")


class RedisServer:
    """redis-server on a free loopback port, its data in a temporary folder removed by stop()."""

    def __init__(self) -> None:
        require("redis-server")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = start_redis(self.port, self.dir)
        return self

    def kill(self) -> None:
        """Stop the server at once (SIGKILL): its memory, so every counter, is gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class AppProcess(Service):
    """`python app.py` as a replica runs it, against the simulator, with its own cache folder."""

    def __init__(self, simulator, env: dict[str, str], tmp: Path, name: str) -> None:
        app_env = {
            **os.environ,
            "DASHSCOPE_API_KEY": BEIJING_KEY,
            "DASHSCOPE_HTTP_BASE_URL": simulator.base_url("beijing"),
            "DASHSCOPE_INTL_HTTP_BASE_URL": simulator.base_url("singapore"),
            "GRADIO_TEMP_DIR": str(tmp / f"{name}-gradio"),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "SHOWCASE_CACHE_DIR": str(tmp / f"{name}-cache"),
            "SHOWCASE_MAX_RETRIES": "0",
            "SHOWCASE_VISITOR_REQUESTS": "0",
            "SHOWCASE_IP_REQUESTS": "0",
            "SHOWCASE_VISITOR_DISK_MB": "0",
            "SHOWCASE_VISITOR_DAILY_CHARS": "0",
            "SHOWCASE_IP_DAILY_CHARS": "0",
            **env,
        }
        super().__init__(name, [sys.executable, "app.py"], app_env, tmp)


HAPROXY_TEMPLATE = (ROOT / "deploy" / "haproxy.cfg").read_text


def haproxy_config(port: int, replicas: list[tuple[str, int]]) -> str:
    """deploy/haproxy.cfg as it is, but listening on `port` and with loopback replicas for the
    servers compose's DNS would find (its resolvers section goes too)."""
    lines, section = [], ""
    for line in HAPROXY_TEMPLATE().splitlines():
        stripped = line.strip()
        if line and not line[0].isspace():
            section = stripped.split()[0]
        if section == "resolvers":
            continue
        if stripped.startswith("bind "):
            line = f"    bind 127.0.0.1:{port}"
        elif stripped.startswith("cookie "):  # named cookies: a test can tell who served it
            line = line.replace(" dynamic", "")
        elif stripped.startswith("dynamic-cookie-key"):
            continue
        elif stripped.startswith("server-template "):
            line = "\n".join(
                f"    server {name} 127.0.0.1:{p} check inter 1s fall 2 rise 1 cookie {name}"
                for name, p in replicas
            )
        lines.append(line)
    return "\n".join(lines) + "\n"


class HAProxy:
    """haproxy in the foreground with deploy/haproxy.cfg pointed at loopback replicas."""

    def __init__(self, replicas: list[tuple[str, int]], tmp: Path) -> None:
        require("haproxy")
        self.port = free_port()
        self.config = tmp / "haproxy.cfg"
        self.config.write_text(haproxy_config(self.port, replicas))
        self.log = tmp / "haproxy.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HAProxy:
        check = subprocess.run(["haproxy", "-c", "-f", str(self.config)], capture_output=True)
        assert check.returncode == 0, check.stderr.decode() + check.stdout.decode()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(self.config)], stdout=log, stderr=log
            )
        wait_until_ready("haproxy", self.process, partial(answers_http, self.url + "/"), self.log)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

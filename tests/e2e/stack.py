"""Run `devstack.run` (the `make run` path) as a subprocess for end-to-end tests.

The stack's output is drained by a thread for as long as it runs: the API server logs
one line per request, and a pipe nobody reads would block it after some 64 KiB.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Iterator

import requests

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"
# Set by the in-process test set-up (tests/conftest.py); the stack must use its own stage.
_INHERITED = ("TABLE_PREFIX", "MAIL_BUCKET", "STAGE", "KMS_KEY_ID", "PASSWORD_HASH_PROFILE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@contextmanager
def local_stack(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Start the local stack, yield its base URL, and stop it with SIGINT (as Ctrl-C).

    `extra_env` is applied after the test process's AWS and stage settings are removed,
    so the stack sees the same environment as `make run` plus what the test asks for.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in _INHERITED}
    env.update({"PORT": str(port), "WS_PORT": str(free_port()), "ACCESS_TOKEN": TOKEN,
                **(extra_env or {})})
    process = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # a group of its own, to kill if stuck
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "[stack  ] running" in line or process.poll() is not None:
            break  # every component is up (the websocket bridge starts after the API)
    if not any("[stack  ] running" in line for line in lines):
        _kill_group(process.pid)
        raise AssertionError("".join(lines) + "".join(process.stdout))
    assert any("[tables ] ready" in line for line in lines)
    assert any("[api    ] ready" in line for line in lines)
    drain = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    drain.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            raise
        drain.join(timeout=5)
        assert "[moto   ] stopped" in "".join(lines[-20:]), "".join(lines[-50:])


def call(base: str, method: str, path: str, body: Any = None,
         token: str | None = TOKEN) -> requests.Response:
    """One request on a new connection, as a client of the deployed API would make."""
    headers = {"X-Access-Token": token} if token else {}
    return requests.request(method, base + path, json=body, headers=headers, timeout=60)

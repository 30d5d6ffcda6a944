"""Run `devstack.run` (the `make run` path) as a subprocess for end-to-end tests.

The stack's output is drained by a thread for as long as it runs: the API server logs
one line per request, and a pipe nobody reads would block it after some 64 KiB.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import requests

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"
# Set by the in-process test set-up (tests/conftest.py); the stack must use its own stage.
_INHERITED = ("TABLE_PREFIX", "MAIL_BUCKET", "STAGE", "KMS_KEY_ID", "PASSWORD_HASH_PROFILE")


def free_port(exclude: frozenset[int] = frozenset()) -> int:
    """A free loopback port: from `LOCAL_PORT_RANGE` (`8680-8699`) when set, so runs on a
    shared machine stay inside their allotted ports, else any the kernel hands out."""
    span = os.environ.get("LOCAL_PORT_RANGE", "")
    candidates = [0]
    if span:
        low, high = (int(part) for part in span.split("-"))
        candidates = [port for port in random.sample(range(low, high + 1), high - low + 1)
                      if port not in exclude]  # shuffled: parallel workers
    for port in candidates:
        with socket.socket() as sock:
            # As the stack's servers bind: a port whose old connections linger in
            # TIME_WAIT is free for them.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError(f"no free port in LOCAL_PORT_RANGE={span}")


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class StackProcess:
    """A running `devstack.run`: its base URL, process and output so far."""

    base: str
    port: int
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    stop_seconds: float | None = None  # from SIGINT to exit, once stopped
    drain: threading.Thread | None = None  # reads the output into `lines`

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """The output so far; all of it once the stack has exited (the reader may still
        be behind the exit on a loaded machine)."""
        if self.drain is not None and self.process.poll() is not None:
            self.drain.join(timeout=5)
        return "".join(self.lines)


@contextmanager
def running_stack(extra_env: dict[str, str] | None = None) -> Iterator[StackProcess]:
    """Start the local stack, yield its handle, and stop it with SIGINT (as Ctrl-C).

    `extra_env` is applied after the test process's AWS and stage settings are removed,
    so the stack sees the same environment as `make run` plus what the test asks for.
    A port taken between choosing and binding it (parallel test workers) means another
    try on other ports.
    """
    for attempt in range(3):
        try:
            stack = _start(extra_env)
            break
        except _PortTaken:
            if attempt == 2:
                raise
    process, lines = stack.process, stack.lines
    assert process.stdout is not None
    drain = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    stack.drain = drain
    drain.start()
    try:
        yield stack
    finally:
        if process.poll() is None:  # else the test stopped it, and checks how
            stopped = time.monotonic()
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                raise
            stack.stop_seconds = time.monotonic() - stopped
            drain.join(timeout=5)
            assert "[moto   ] stopped" in "".join(lines[-20:]), "".join(lines[-50:])
        drain.join(timeout=5)


class _PortTaken(Exception):
    pass


def _start(extra_env: dict[str, str] | None) -> StackProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in _INHERITED}
    # Every port of its own: stacks of parallel tests (and a `make run`) must not share
    # a listener, or one would deliver into another's tables.
    env.update({"PORT": str(port), "WS_PORT": str(free_port()),
                "LOCAL_SMTP_PORT": str(free_port(exclude=frozenset({port}))),
                "ACCESS_TOKEN": TOKEN, **(extra_env or {})})
    if os.environ.get("LOCAL_PORT_RANGE") and "MOTO_PORT" not in env:
        env["MOTO_PORT"] = str(free_port(exclude=frozenset({port})))
    process = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # a group of its own, to kill if stuck
    assert process.stdout is not None
    stack = StackProcess(f"http://127.0.0.1:{port}", port, process)
    lines = stack.lines
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "[stack  ] running" in line or process.poll() is not None:
            break  # every component is up (the websocket bridge starts after the API)
    if not any("[stack  ] running" in line for line in lines):
        _kill_group(process.pid)
        output = "".join(lines) + "".join(process.stdout)
        if "in use" in output:
            raise _PortTaken(output)
        raise AssertionError(output)
    assert any("[tables ] ready" in line for line in lines)
    return stack


@contextmanager
def local_stack(extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`running_stack`, for tests that only need the base URL."""
    with running_stack(extra_env) as stack:
        yield stack.base


def call(base: str, method: str, path: str, body: Any = None,
         token: str | None = TOKEN) -> requests.Response:
    """One request on a new connection, as a client of the deployed API would make."""
    headers = {"X-Access-Token": token} if token else {}
    return requests.request(method, base + path, json=body, headers=headers, timeout=60)


def new_user(base: str, prefix: str = "user") -> tuple[str, str]:
    """A fresh account on the stack at `base`: its id and its INBOX's id."""
    created = call(base, "POST", "/users", {"username": f"{prefix}{uuid.uuid4().hex[:12]}",
                                            "password": "secretpass"})
    assert created.status_code == 200, created.text
    user = created.json()["id"]
    boxes = call(base, "GET", f"/users/{user}/mailboxes").json()["results"]
    return user, next(b["id"] for b in boxes if b["path"] == "INBOX")

"""Start and stop the local stack (devstack.run) for a fuzzing run.

Ports come from a fixed range (8280-8299 by default, `FUZZ_PORTS=first-last`), so a
run never lands on a port someone else's stack uses by chance.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


def port_range() -> range:
    first, _, last = os.environ.get("FUZZ_PORTS", "8280-8299").partition("-")
    return range(int(first), int(last) + 1)


def free_ports(count: int) -> list[int]:
    found = []
    for port in port_range():
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError(f"no {count} free ports in {port_range()}")


@contextmanager
def local_stack(token: str, log_path: Path) -> Iterator[str]:
    """The stack's base URL, with an access token required; stopped on exit. Its output
    (one JSON line per request, tracebacks of 500s with their requestId) goes to
    `log_path`."""
    api_port, moto_port, ws_port = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for key in ("TABLE_PREFIX", "MAIL_BUCKET", "STAGE", "KMS_KEY_ID"):
        env.pop(key, None)
    # Hashing at full strength would make every created user cost ~0.1 s of CPU.
    env.update({"ACCESS_TOKEN": token, "PASSWORD_HASH_PROFILE": "fast"})
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.run", "--port", str(api_port),
         "--moto-port", str(moto_port), "--ws-port", str(ws_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "[api    ] ready" in line or process.poll() is not None:
            break
    if not any("[api    ] ready" in line for line in lines):
        process.kill()
        raise RuntimeError("the local stack did not start:\n" + "".join(lines))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    log.writelines(lines)

    def copy() -> None:  # keeps the pipe drained, or the stack would block on a full one
        for line in process.stdout:  # type: ignore[union-attr]
            log.write(line)
            log.flush()

    copier = threading.Thread(target=copy, daemon=True)
    copier.start()
    try:
        yield f"http://127.0.0.1:{api_port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        copier.join(timeout=10)
        log.close()

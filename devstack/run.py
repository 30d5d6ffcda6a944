"""`make run`: the local stack in the foreground.

Starts a moto server on loopback as the embedded DynamoDB/S3/SES/KMS, creates the
tables and bucket from infra/tables.yaml, then runs the app under chalice's local
gateway (devstack/api_server.py) against it. One status line per component; Ctrl-C (or
SIGTERM) stops everything. Moto keeps its data in memory, so nothing is written inside
the project directory.

Moto answers one request at a time (devstack/serialmoto.py), so every DynamoDB request
and transaction is atomic as in DynamoDB; devstack/motopatch.py and devstack/heap.py
keep its memory bounded and its garbage collection short over a day of requests. The
scheduled jobs of app.py run every LOCAL_JOBS_PERIOD seconds (devstack/jobs.py).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devstack.shutdown import Shutdown

ROOT = Path(__file__).resolve().parent.parent


def _status(component: str, state: str, detail: str) -> None:
    print(f"[{component:<7}] {state:<8} {detail}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stage_env(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")))
    parser.add_argument("--ws-port", type=int, default=int(os.environ.get("WS_PORT", "8081")))
    # Not SMTP_PORT: that is the port the app writes into mobileconfig profiles.
    parser.add_argument("--smtp-port", type=int,
                        default=int(os.environ.get("LOCAL_SMTP_PORT", "2525")))
    args = parser.parse_args()

    stage_env = _stage_env("local")
    if args.moto_port == args.port:
        parser.error("the API and moto need two different ports")
    moto_port = args.moto_port
    while moto_port in (0, args.port):
        moto_port = _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    aws_env = {
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    os.environ.update(aws_env)
    os.environ.update(stage_env)

    import logging

    sys.path.insert(0, str(ROOT))
    from devstack import jobs
    from devstack.heap import GcKeeper
    from devstack.motopatch import install as install_moto_patch
    from devstack.serialmoto import SerialMotoServer
    from devstack.shutdown import Shutdown, in_background
    from devstack.tables import create_all, ensure_kms_key, ensure_ses_identity

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines

    shutdown = Shutdown().install()
    install_moto_patch()  # the server runs in this process: patch its backend class
    moto = SerialMotoServer("127.0.0.1", moto_port)
    moto.start()
    GcKeeper().start()  # moto's tables live in this process's heap
    _status("moto", "ready", f"{endpoint} (DynamoDB, Streams, S3, SES, KMS; data in memory)")

    region = aws_env["AWS_DEFAULT_REGION"]
    tables = create_all(stage_env["TABLE_PREFIX"], stage_env["MAIL_BUCKET"], region)
    ensure_kms_key(stage_env["KMS_KEY_ID"], region)
    ses_identity = stage_env.get("SES_IDENTITY") or stage_env["DEFAULT_DOMAIN"]
    ensure_ses_identity(ses_identity, region)
    _status("tables", "ready", f"{len(tables)} tables and bucket {stage_env['MAIL_BUCKET']} "
                               "from infra/tables.yaml")
    _status("ses", "ready", f"sending as {ses_identity} (verified in moto); "
                            "`make sent` lists what was sent")

    api = shutdown.track(subprocess.Popen(
        [sys.executable, "-m", "devstack.api_server", "--stage", "local",
         "--host", "127.0.0.1", "--port", str(args.port)],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}))
    if not _wait_for_port(args.port, api):
        _status("api", "failed", "the API server did not start (see its output above)")
        shutdown.stop_children()
        in_background(moto.stop, 1)
        shutdown.exit(1)
    token_note = "access token required" if stage_env.get("ACCESS_TOKEN") or \
        os.environ.get("ACCESS_TOKEN") else "no access token (loopback only)"
    _status("api", "ready", f"http://127.0.0.1:{args.port} (chalice local, {token_note})")
    from devstack import wsbridge
    bridge = wsbridge.launch(args.ws_port)
    if bridge is None or not _wait_for_port(args.ws_port, bridge):
        _status("ws", "failed", f"the websocket bridge did not start on port {args.ws_port} "
                                "(in use? set WS_PORT; or see its output above)")
    else:
        shutdown.track(bridge)
        _status("ws", "ready", f"ws://127.0.0.1:{args.ws_port} (websocket bridge; "
                               "journal and messages streams pumped to the app's handlers)")
    _start_smtp(shutdown, args.smtp_port)
    jobs.write_state(args.port, endpoint, dict(os.environ))
    shutdown.cleanups.append(lambda: jobs.remove_state(args.port))
    _start_jobs(shutdown)
    _status("stack", "running", "press Ctrl-C to stop (twice: at once)")

    try:
        while not shutdown.wait(0.3) and api.poll() is None:
            pass
    finally:
        code = 0 if shutdown.requested else (api.returncode or 1)
        shutdown.stop_children()
        _status("api", "stopped", "")
        in_background(moto.stop, 1)
        _status("moto", "stopped", "in-memory data discarded")
        shutdown.exit(code)
    return code


def _start_smtp(shutdown: Shutdown, port: int) -> None:
    """The SMTP listener (devstack/smtp.py), delivering like the SES receipt Lambda."""
    listener = shutdown.track(subprocess.Popen(
        [sys.executable, "-m", "devstack.smtp", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}))
    if not _wait_for_port(port, listener, timeout=30):
        _status("smtp", "failed", f"the SMTP listener did not start on port {port} "
                                  "(in use? set LOCAL_SMTP_PORT)")


def _start_jobs(shutdown: Shutdown) -> None:
    """The scheduled jobs of app.py, in a process of their own (devstack/jobs.py)."""
    from devstack import jobs

    period = jobs.period_from_env()
    names = ", ".join(jobs.job_names())
    if period <= 0:
        _status("jobs", "off", f"LOCAL_JOBS_PERIOD={period:g}; run one now with "
                               f"`make job NAME=<job>` ({names})")
        return
    shutdown.track(subprocess.Popen(
        [sys.executable, "-m", "devstack.jobs", "--serve", "--every", f"{period:g}"],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}))
    _status("jobs", "running", f"{names} every {period:g} s (LOCAL_JOBS_PERIOD); "
                               "one now: `make job NAME=<job>`")


if __name__ == "__main__":
    sys.exit(main())

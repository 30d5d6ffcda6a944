"""The scheduled jobs of app.py, run against the local stack.

In AWS, EventBridge invokes each `@app.schedule` handler on its rate. Locally nothing
did, so deleted mailboxes were never purged, expired messages never deleted, and the
bucket never swept. Two ways in, both calling the handler Chalice registered (the
function Lambda runs, with its job budget and log context), never a copy:

- `devstack.run` starts `python -m devstack.jobs --serve`, which runs every job in
  turn every `LOCAL_JOBS_PERIOD` seconds (default 60; 0 turns it off);
- `python -m devstack.jobs expire_messages` (`make job NAME=expire_messages`) runs one
  job now against the running stack and prints its result.

The command finds the stack through a state file the runner writes outside the project
(`$XDG_RUNTIME_DIR/wildduck-local/`, else `/tmp/wildduck-local-<uid>/`), one per API
port: the moto endpoint and the stage environment (table names, bucket, key). Local
tooling only; never shipped.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PERIOD_S = 60.0
# What the state file keeps of the runner's environment: enough to reach moto and name
# the tables; never the access token.
_STATE_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
              "AWS_ENDPOINT_URL", "AWS_ACCOUNT_ID_ENDPOINT_MODE", "STAGE", "TABLE_PREFIX",
              "MAIL_BUCKET", "KMS_KEY_ID", "PASSWORD_HASH_PROFILE")


# ----------------------------------------------------------------- the stack's state file

def state_dir() -> Path:
    """Where running stacks describe themselves: private to this user, outside the
    project (the project directory stays free of runtime files)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "wildduck-local" if runtime and Path(runtime).is_dir() else \
        Path(tempfile.gettempdir()) / f"wildduck-local-{os.getuid()}"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    return base


def state_path(api_port: int) -> Path:
    return state_dir() / f"stack-{api_port}.json"


def write_state(api_port: int, endpoint: str, env: dict[str, str]) -> Path:
    """Record the running stack (called by devstack.run once moto and the tables are up)."""
    path = state_path(api_port)
    state = {"pid": os.getpid(), "api": f"http://127.0.0.1:{api_port}", "endpoint": endpoint,
             "env": {key: env[key] for key in _STATE_ENV if key in env}}
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle)
    temporary.replace(path)
    return path


def remove_state(api_port: int) -> None:
    state_path(api_port).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(api_port: int | None = None) -> dict[str, Any]:
    """The state of the running stack on `api_port`; without a port, of the only one
    running (or the one on $PORT / 8080 when several are)."""
    live = []
    for path in sorted(state_dir().glob("stack-*.json")):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if _alive(int(state.get("pid", 0))):
            live.append((path, state))
    if api_port is None and len(live) == 1:
        return live[0][1]
    wanted = state_path(api_port or int(os.environ.get("PORT", "8080")))
    for path, state in live:
        if path == wanted:
            return state
    running = ", ".join(state["api"] for _, state in live) or "none"
    raise SystemExit(f"no local stack on {wanted.stem.removeprefix('stack-')} "
                     f"(running: {running}); start one with `make run`")


# ----------------------------------------------------------------- the jobs

@dataclass(frozen=True)
class Job:
    name: str
    schedule: str  # the deployed rate, as CloudFormation gets it
    handler: Callable[[dict[str, Any], Any], Any]


class _Context:
    """The few attributes of a Lambda context a handler might read."""

    def __init__(self, name: str) -> None:
        self.function_name = f"local-{name}"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + 900

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_app(stage: str = "local") -> Any:
    """app.py's Chalice app, loaded as `chalice local` loads it (stage environment
    applied), so table names and settings are the stage's."""
    from chalice.cli.factory import CLIFactory

    os.environ.setdefault("AWS_CHALICE_CLI_MODE", "true")
    factory = CLIFactory(str(ROOT), environ=os.environ)
    return factory.create_config_obj(chalice_stage_name=stage).chalice_app


def scheduled_jobs(app: Any) -> dict[str, Job]:
    """Every `@app.schedule` handler, by name, as Chalice registered it."""
    from chalice.app import ScheduledEventConfig

    return {source.name: Job(source.name, source.schedule_expression.to_string()
                             if hasattr(source.schedule_expression, "to_string")
                             else str(source.schedule_expression),
                             app.handler_map[source.name])
            for source in app.event_sources if isinstance(source, ScheduledEventConfig)}


def invoke(job: Job, detail: dict[str, Any] | None = None) -> Any:
    """Call the job's handler with the event EventBridge would send (`detail`: what an
    on-demand rule or invocation puts in it, for jobs that read it)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "123456789012", "time": now,
             "region": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
             "resources": [f"arn:aws:events:local:rule/{job.name}"], "detail": detail or {}}
    return job.handler(event, _Context(job.name))


def _status(state: str, detail: str) -> None:
    print(f"[jobs   ] {state:<8} {detail}", flush=True)


def serve(period: float, stage: str = "local") -> int:
    """Run every job in turn, every `period` seconds, until SIGINT or SIGTERM.

    The jobs run on a daemon thread; a signal ends the process at once, even in the
    middle of a job (every job is written to be continued by its next run)."""
    from devstack.heap import GcKeeper

    finishing: list[bool] = []

    def finish(*_: object) -> None:  # flips a flag only: see devstack/shutdown.py
        if finishing:
            os._exit(130)
        finishing.append(True)

    signal.signal(signal.SIGINT, finish)  # before the import: a Ctrl-C may come early
    signal.signal(signal.SIGTERM, finish)
    jobs = scheduled_jobs(load_app(stage))
    GcKeeper().start()
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(period):
            for job in jobs.values():
                if stop.is_set():
                    return
                try:
                    invoke(job)  # the handler logs its own summary line
                except Exception as error:  # report and go on: the next run retries
                    _status("failed", f"{job.name}: {type(error).__name__}: {error}")

    threading.Thread(target=loop, name="jobs", daemon=True).start()
    while not finishing:
        time.sleep(0.2)
    stop.set()
    return 0


def run_now(name: str, api_port: int | None, detail: dict[str, Any] | None = None) -> int:
    """Run one job against the running local stack and print what it returned."""
    state = read_state(api_port)
    os.environ.update(state["env"])
    jobs = scheduled_jobs(load_app(state["env"].get("STAGE", "local")))
    if name not in jobs:
        print(f"unknown job {name!r}; jobs: {', '.join(jobs)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    result = invoke(jobs[name], detail)
    print(json.dumps({"job": name, "stack": state["api"], "result": result,
                      "seconds": round(time.monotonic() - started, 2)}), flush=True)
    return 0


def job_names() -> list[str]:
    """The schedule handlers of app.py, read without importing it (for help texts)."""
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Call) and getattr(d.func, "attr", "") == "schedule"
                    for d in node.decorator_list)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run app.py's scheduled jobs against the local stack.",
        epilog="jobs: " + ", ".join(job_names()))
    parser.add_argument("job", nargs="?", help="the job to run now")
    parser.add_argument("--port", type=int, default=None,
                        help="API port of the stack (default: the only one running, "
                             "else $PORT or 8080)")
    parser.add_argument("--serve", action="store_true",
                        help="run every job periodically (started by devstack.run)")
    parser.add_argument("--every", type=float, default=None,
                        help="seconds between runs with --serve (default LOCAL_JOBS_PERIOD)")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--detail", type=json.loads, default=None,
                        help="JSON for the event's detail (reindex_search: "
                             "'{\"user\": \"<id>\"}' or '{\"all\": true}')")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.serve:
        period = args.every if args.every is not None else period_from_env()
        code = serve(period, args.stage)
        sys.stdout.flush()
        os._exit(code)  # a job cut short by the signal needs no tidy interpreter exit
    if not args.job:
        parser.error("name a job, or use --serve")
    return run_now(args.job, args.port, args.detail)


def period_from_env() -> float:
    """`LOCAL_JOBS_PERIOD` in seconds (default 60; 0 or less: no periodic runs)."""
    return float(os.environ.get("LOCAL_JOBS_PERIOD", DEFAULT_PERIOD_S))


if __name__ == "__main__":
    sys.exit(main())

"""`make fuzz`: Schemathesis with every check against the local stack (or a running one).

    python -m fuzz.run                         # start a stack, CI-sized run (~1 minute)
    python -m fuzz.run --long                  # every phase, 100 cases an operation
    python -m fuzz.run --url http://127.0.0.1:8280 --token T   # a stack already running

Requests go one at a time (the local stack is not safe under parallel requests).
fuzz/hooks.py points generated ids at a seeded account and counts every answer. The
run writes into --out: Schemathesis' NDJSON report, the hooks' counts (stats.json), the
stack's log (tracebacks of 5xx, by request id) and summary.json. It fails when any
answer is a 5xx or when a gating check (GATING) failed; the other checks' failures are
counted in the summary.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from fuzz.stack import ROOT, local_stack

# Checks whose failures fail the run: the answers' conformance to the document and the
# edge's own contract. Reported only: checks about what the input validation accepts
# (positive_data_acceptance, negative_data_rejection) and the stateful ones.
GATING = {"not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance",
          "unsupported_method", "allow_header_conformance", "missing_required_header",
          "ignored_auth"}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="base URL of a running stack (default: start one)")
    parser.add_argument("--token", default=os.environ.get("ACCESS_TOKEN", ""),
                        help="its access token (with --url)")
    parser.add_argument("--long", action="store_true",
                        help="also the coverage phase, and 100 cases per operation")
    parser.add_argument("--max-examples", type=int,
                        help="cases per operation in the fuzzing phase (CI: 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-time", type=int, help="time budget in seconds")
    parser.add_argument("--phases", help="default: examples,fuzzing,stateful "
                                         "(--long: and coverage)")
    parser.add_argument("--out", type=Path, default=ROOT / "fuzz" / "out")
    parser.add_argument("--verbose", action="store_true", help="show Schemathesis' output")
    args = parser.parse_args(argv)
    args.max_examples = args.max_examples or (100 if args.long else 5)
    args.phases = args.phases or ("examples,coverage,fuzzing,stateful" if args.long
                                  else "examples,fuzzing,stateful")
    return args


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.url:
        yield args.url.rstrip("/"), args.token
        return
    token = secrets.token_hex(16)
    with local_stack(token, args.out / "stack.log") as url:
        yield url, token


def _read_report(report: Path) -> dict[str, Any]:
    """Every answer of the run (also the checks' own extra requests, which no hook sees):
    statuses, 5xx with what reproduces them, and failures by check."""
    statuses: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    server_errors: list[dict[str, Any]] = []
    examples: dict[tuple[str, str], dict[str, Any]] = {}
    for line in report.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            status = response.get("status_code")
            statuses[str(status)] += 1
            if isinstance(status, int) and status >= 500:
                request = interaction["request"]
                body = (request.get("body") or {}).get("$base64")
                server_errors.append({
                    "status": status, "method": request["method"], "url": request["uri"],
                    "body": base64.b64decode(body).decode("utf-8", "replace")[:2000]
                    if body else None,
                    "requestId": (response.get("headers", {}).get("x-request-id") or [None])[0],
                    "response": base64.b64decode(response.get("content", {}).get("$base64", ""))
                    .decode("utf-8", "replace")[:300]})
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failures[check["name"]] += 1
                case = recorder["cases"][case_id]["value"]
                key = (check["name"], f"{case['method']} {case['path']}")
                info = (check.get("failure_info") or {}).get("failure") or {}
                examples.setdefault(key, {
                    "check": check["name"], "operation": key[1],
                    "message": str(info.get("message", ""))[:500],
                    "pathParameters": case.get("path_parameters"),
                    "query": case.get("query"), "body": case.get("body")})
    return {"cases": sum(statuses.values()), "statuses": dict(statuses),
            "serverErrors": server_errors, "checkFailures": dict(failures),
            "failureExamples": list(examples.values())}


def run(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report, stats_path = args.out / "report.ndjson", args.out / "stats.json"
    for stale in (report, stats_path):
        stale.unlink(missing_ok=True)
    started = time.monotonic()
    with _target(args) as (url, token):
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file", str(ROOT / "fuzz" / "schemathesis.toml"),
            "run", f"{url}/openapi.json", "--url", url,
            "-H", f"X-Access-Token: {token}", "--generation-with-security-parameters", "false",
            "--checks", "all", "--workers", "1", "--seed", str(args.seed),
            "--max-examples", str(args.max_examples), "--phases", args.phases,
            # no example database: a seed alone decides the run (and nothing is written
            # into the project)
            "--generation-database", "none",
            "--report", "ndjson", "--report-ndjson-path", str(report),
            "--no-color", "--continue-on-failure", "--max-failures", "100000",
            # chalice local's HTTP server now and then resets a connection under a
            # long run; without a retry Schemathesis takes the API for gone and stops.
            "--request-retries", "3"]
        if args.max_time:
            command += ["--max-time", str(args.max_time)]
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz.hooks", "FUZZ_BASE_URL": url,
               "FUZZ_TOKEN": token, "FUZZ_SEED": str(args.seed), "FUZZ_STATS": str(stats_path),
               "PYTHONPATH": str(ROOT)}
        output = None if args.verbose else subprocess.DEVNULL
        subprocess.run(command, cwd=ROOT, env=env, stdout=output, check=False)
    elapsed = time.monotonic() - started
    found = _read_report(report) if report.exists() else {"cases": 0}
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    gating = {name: count for name, count in found.get("checkFailures", {}).items()
              if name in GATING}
    summary = {"seconds": round(elapsed, 1), **found, "gatingFailures": gating,
               "codes": stats.get("codes", {}), "worlds": stats.get("worlds", 0),
               "hookSetupErrors": stats.get("setupErrors", {})}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    server_errors = len(found.get("serverErrors", []))
    print(f"fuzz: {found['cases']} cases in {elapsed:.0f} s; 5xx: {server_errors}; "
          f"check failures: {found.get('checkFailures') or 'none'} "
          f"(details: {args.out / 'summary.json'})")
    return 1 if server_errors or gating or not found["cases"] else 0


if __name__ == "__main__":
    sys.exit(run())

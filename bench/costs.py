"""Cost model: dollars per million requests of the main routes, and per 1,000 mailboxes
a month, from measured DynamoDB units, S3 and KMS calls at on-demand list prices.

    python -m bench.costs          (part of `make bench`)

DynamoDB read and write units are counted per request as DynamoDB bills them
(devstack/calls: reads per started 4 KB, transactions 2 units per KB and item). Lambda
duration is a model, not a moto timing: a base per request plus a round trip per AWS
call, plus the password hashing a route does, measured here and scaled to the CPU
share Lambda gives at the configured memory. docs/operations.md explains the prices
and the usage profile.
"""
from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import dataclass
from typing import Any, Callable
from unittest import mock

# List prices, us-east-1, on demand (docs/operations.md "Cost model").
API_GATEWAY_PER_M = 3.50
LAMBDA_REQUESTS_PER_M = 0.20
LAMBDA_GB_S = 0.0000166667
LAMBDA_MEMORY_GB = 1.0  # prod stage (infra/stages.py)
LAMBDA_VCPU = 0.58  # CPU share of a 1,024 MB function
READ_UNIT_PER_M = 0.125
WRITE_UNIT_PER_M = 0.625
S3_PUT_PER_M = 5.00
S3_GET_PER_M = 0.40
KMS_PER_M = 3.00
# Logs (~1.4 KB per request: request line, EMF metrics, START/END/REPORT, access log)
# at $0.50 per GB ingested, and 5% of requests traced at $5 per million traces.
LOGS_AND_TRACES_PER_M = 1.4 * 1_000_000 / 1024 ** 2 * 0.50 + 0.05 * 5.00

BASE_MS = 12.0  # Python work of a request outside AWS calls
CALL_MS = 6.0  # one AWS round trip inside the region

S3_WRITES = {"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart",
             "CompleteMultipartUpload", "ListObjectsV2"}

# Requests per mailbox and month (docs/operations.md): route name -> count.
PROFILE = {
    "POST .../messages (upload, small)": 1500,
    "POST /authenticate (password)": 300,
    "POST /authenticate (ASP)": 300,
    "GET .../messages (page of 20)": 3000,
    "GET .../messages/{uid}": 1500,
    "GET .../message.eml": 300,
    "PUT .../messages/{uid} (flags)": 1200,
    "PUT .../messages/{uid} (move)": 150,
    "DELETE .../messages/{uid}": 600,
    "GET /users/{user}": 1500,
    "GET /users/{user}/mailboxes": 1500,
    "POST .../2fa/totp/check": 30,
}
# Per 1,000 mailboxes and month, besides requests: 1 GB of mail each (S3 $0.023/GB plus
# 30 days of deleted versions), ~100 GB of DynamoDB items ($0.25/GB) and their
# point-in-time recovery ($0.20/GB), and the fixed per-stage part (metrics, alarms, KMS
# key, secret).
MONTHLY_FIXED = {"S3 storage (1 TB + deleted versions)": 24.0,
                 "DynamoDB storage (~100 GB)": 25.0,
                 "point-in-time recovery": 20.0,
                 "metrics, alarms, key, secret (per stage)": 35.0}


@dataclass
class RouteCost:
    name: str
    status: int
    read_units: float
    write_units: float
    aws_calls: int
    s3_writes: int
    s3_reads: int
    kms: int
    hashing_ms: float

    @property
    def duration_ms(self) -> float:
        return BASE_MS + CALL_MS * self.aws_calls + self.hashing_ms / LAMBDA_VCPU

    def dollars(self) -> dict[str, float]:
        """Each part's cost per million requests."""
        return {
            "gateway": API_GATEWAY_PER_M + LAMBDA_REQUESTS_PER_M,
            "lambda": self.duration_ms / 1000 * LAMBDA_MEMORY_GB * LAMBDA_GB_S * 1_000_000,
            "dynamodb": self.read_units * READ_UNIT_PER_M + self.write_units * WRITE_UNIT_PER_M,
            "s3": self.s3_writes * S3_PUT_PER_M + self.s3_reads * S3_GET_PER_M,
            "kms": self.kms * KMS_PER_M,
            "logs": LOGS_AND_TRACES_PER_M,
        }

    def total(self) -> float:
        return sum(self.dollars().values())


class _HashTimer:
    """CPU time spent hashing or verifying passwords during a request."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - started
        return timed


def _measure(client: Any, name: str, method: str, path: str, body: Any = None,
             raw: bytes | None = None) -> tuple[RouteCost, Any]:
    from chalicelib.security import passwords
    from devstack.calls import counting
    timer = _HashTimer()
    headers = {"content-type": "message/rfc822" if raw is not None else "application/json",
               "accept": "*/*"}
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
    with mock.patch.object(passwords, "hash_password", timer.wrap(passwords.hash_password)), \
            mock.patch.object(passwords, "verify_password",
                              timer.wrap(passwords.verify_password)), \
            counting(measure_capacity=True) as log:
        response = client.http.request(method, path, headers=headers, body=payload)
    try:
        parsed = json.loads(response.body)
    except ValueError:
        parsed = None
    s3 = [operation for service, operation in log.calls if service == "s3"]
    cost = RouteCost(name, response.status_code, log.read_units, log.write_units,
                     len(log.calls), sum(1 for op in s3 if op in S3_WRITES),
                     sum(1 for op in s3 if op not in S3_WRITES), log.count("kms"),
                     timer.seconds * 1000)
    return cost, parsed


def scenario(client: Any) -> list[RouteCost]:
    """One request of each main route, on an account with a few messages."""
    import pyotp

    from chalicelib.store.mailboxes import MailboxItem
    rows: list[RouteCost] = []

    def run(name: str, method: str, path: str, body: Any = None,
            raw: bytes | None = None) -> Any:
        cost, parsed = _measure(client, name, method, path, body, raw)
        if cost.status >= 400:
            raise RuntimeError(f"{name}: {cost.status} {parsed}")
        rows.append(cost)
        return parsed

    user = run("POST /users", "POST", "/users",
               {"username": "costs", "password": "costs-password",
                "address": "costs@example.com"})["id"]
    run("GET /users/{user}", "GET", f"/users/{user}")
    run("GET /users/{user}/mailboxes", "GET", f"/users/{user}/mailboxes")
    run("POST /authenticate (password)", "POST", "/authenticate",
        {"username": "costs", "password": "costs-password"})
    asp = run("POST /users/{user}/asps", "POST", f"/users/{user}/asps",
              {"description": "mail client", "scopes": ["imap"]})["password"]
    rows.pop()  # set-up, not a priced route
    run("POST /authenticate (ASP)", "POST", "/authenticate",
        {"username": "costs", "password": asp, "scope": "imap"})
    seed = run("setup", "POST", f"/users/{user}/2fa/totp/setup", {})["seed"]
    rows.pop()
    totp = pyotp.TOTP(seed)
    run("enable", "POST", f"/users/{user}/2fa/totp/enable", {"token": totp.now()})
    rows.pop()
    # The next 30-second step: a code is accepted once.
    run("POST .../2fa/totp/check", "POST", f"/users/{user}/2fa/totp/check",
        {"token": totp.at(time.time() + 30)})

    boxes = {box.path: box.id for box in MailboxItem.query(user)}
    inbox, trash = boxes["INBOX"], boxes["Trash"]
    messages = f"/users/{user}/mailboxes/{inbox}/messages"
    raw = ("From: Sender <sender@example.com>\r\nTo: costs@example.com\r\n"
           "Subject: Costs\r\nMessage-ID: <costs-{n}@example.com>\r\n\r\nShort body.\r\n")
    for n in range(20):
        run("POST .../messages (upload, small)", "POST", messages,
            raw=raw.format(n=n).encode())
        if n:
            rows.pop()  # one upload row is enough
    run("GET .../messages (page of 20)", "GET", messages)
    run("GET .../messages/{uid}", "GET", f"{messages}/1")
    run("GET .../message.eml", "GET", f"{messages}/1/message.eml")
    run("PUT .../messages/{uid} (flags)", "PUT", f"{messages}/2", {"flagged": True})
    run("PUT .../messages/{uid} (move)", "PUT", f"{messages}/3", {"moveTo": trash})
    run("DELETE .../messages/{uid}", "DELETE", f"{messages}/4")
    archived = run("list", "GET", f"/users/{user}/archived")["results"][0]["id"]
    rows.pop()
    run("POST .../archived/{id}/restore", "POST", f"/users/{user}/archived/{archived}/restore",
        {})
    return rows


def monthly(rows: list[RouteCost], mailboxes: int = 1000) -> tuple[float, float]:
    """Requests and their dollars a month for `mailboxes` under PROFILE."""
    by_name = {row.name: row for row in rows}
    requests = sum(PROFILE.values()) * mailboxes
    dollars = sum(by_name[name].total() * count * mailboxes / 1_000_000
                  for name, count in PROFILE.items())
    return requests, dollars


def main() -> None:
    from bench.harness import setup
    from devstack.motopatch import install
    install()
    with contextlib.redirect_stdout(io.StringIO()):  # the app's request log lines
        rows = scenario(setup())
    print(f"{'route':<36} {'RRU':>5} {'WRU':>5} {'calls':>5} {'est ms':>6}   "
          f"{'GW+req':>6} {'Lambda':>6} {'Dynamo':>6} {'S3':>5} {'KMS':>5} {'logs':>5}  "
          f"{'$ per M':>8}")
    for row in rows:
        parts = row.dollars()
        print(f"{row.name:<36} {row.read_units:5.1f} {row.write_units:5.1f} {row.aws_calls:5d} "
              f"{row.duration_ms:6.0f}   {parts['gateway']:6.2f} {parts['lambda']:6.2f} "
              f"{parts['dynamodb']:6.2f} {parts['s3']:5.2f} {parts['kms']:5.2f} "
              f"{parts['logs']:5.2f}  {row.total():8.2f}")
    requests, dollars = monthly(rows)
    fixed = sum(MONTHLY_FIXED.values())
    print(f"\nper 1,000 mailboxes a month: {requests / 1e6:.1f} M requests ${dollars:.0f}"
          + "".join(f" + {name} ${cost:.0f}" for name, cost in MONTHLY_FIXED.items())
          + f" = ${dollars + fixed:.0f} (${(dollars + fixed) / 1000:.2f} per mailbox)")


if __name__ == "__main__":
    main()

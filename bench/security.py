"""Security benchmark: DynamoDB calls, KMS calls, capacity and latency of the 2FA, ASP,
rate-limit and user-token paths, with the production password-hashing profile.

Run with `make bench`. Counts are deterministic; times are for humans only.
"""
from __future__ import annotations

import json
import time
from typing import Any

from bench.harness import setup


def measure(client: Any, name: str, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[str, Any]:
    from devstack.calls import counting
    started = time.perf_counter()
    with counting(measure_capacity=True) as log:
        response = client.http.request(
            method, path, headers={"content-type": "application/json", **(headers or {})},
            body=json.dumps(body) if body is not None else None)
    elapsed = (time.perf_counter() - started) * 1000
    calls = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation().items())) or "none"
    kms = ", ".join(f"{op} {n}" for op, n in sorted(log.by_operation("kms").items()))
    line = (f"{name:<40} {response.status_code:>3}  {calls:<58} {kms:<12} "
            f"{log.capacity:>5.1f} CU {elapsed:>6.0f} ms")
    return line, json.loads(response.body) if response.body else None


def main() -> None:
    import pyotp

    client = setup()
    rows = []
    _, user = measure(client, "", "POST", "/users", {"username": "sec", "password": "sec-pw"})
    uid = user["id"]
    line, asp = measure(client, "POST /users/{user}/asps", "POST", f"/users/{uid}/asps",
                        {"description": "bench", "scopes": ["imap"]})
    rows.append(line)
    for _ in range(4):
        measure(client, "", "POST", f"/users/{uid}/asps", {"description": "more"})
    rows.append(measure(client, "GET /users/{user}/asps (5)", "GET", f"/users/{uid}/asps")[0])
    rows.append(measure(client, "POST /authenticate (ASP, 5 ASPs)", "POST", "/authenticate",
                        {"username": "sec", "password": asp["password"], "scope": "imap"})[0])
    rows.append(measure(client, "POST /authenticate (wrong, 1st)", "POST", "/authenticate",
                        {"username": "sec", "password": "nope"})[0])
    rows.append(measure(client, "POST /authenticate (wrong, 2nd)", "POST", "/authenticate",
                        {"username": "sec", "password": "nope"})[0])
    line, login = measure(client, "POST /authenticate (token: true)", "POST", "/authenticate",
                          {"username": "sec", "password": "sec-pw", "token": True})
    rows.append(line)
    rows.append(measure(client, "GET /users/{user} (user token)", "GET", f"/users/{uid}",
                        headers={"X-Access-Token": login["token"]})[0])
    line, setup_reply = measure(client, "POST .../2fa/totp/setup", "POST",
                                f"/users/{uid}/2fa/totp/setup", {})
    rows.append(line)
    totp = pyotp.TOTP(setup_reply["seed"])
    rows.append(measure(client, "POST .../2fa/totp/enable", "POST",
                        f"/users/{uid}/2fa/totp/enable", {"token": totp.now()})[0])
    rows.append(measure(client, "POST .../2fa/totp/check", "POST",
                        f"/users/{uid}/2fa/totp/check", {"token": totp.now()})[0])
    rows.append(measure(client, "POST .../2fa/totp/check (replayed)", "POST",
                        f"/users/{uid}/2fa/totp/check", {"token": totp.now()})[0])
    print(f"{'request':<40} {'st':>3}  {'DynamoDB calls':<58} {'KMS':<12} capacity  latency")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()

"""Foundation benchmark: DynamoDB calls and capacity of one request per endpoint, and
the cold import time of the app relative to `import boto3`.

Run with `make bench`. Counts are deterministic; times are for humans only.
"""
from __future__ import annotations

from bench.harness import import_ratio, measure, setup


def main() -> None:
    client = setup()
    rows = []
    m, body = measure(client, "POST /users", "POST", "/users",
                      {"username": "bench", "password": "bench-password",
                       "address": "bench@example.com"})
    rows.append(m)
    user = body["id"]
    rows.append(measure(client, "GET /users/{user}", "GET", f"/users/{user}")[0])
    rows.append(measure(client, "POST /authenticate (username)", "POST", "/authenticate",
                        {"username": "bench", "password": "bench-password"})[0])
    rows.append(measure(client, "POST /authenticate (address)", "POST", "/authenticate",
                        {"username": "bench@example.com", "password": "bench-password"})[0])
    rows.append(measure(client, "POST /authenticate (wrong password)", "POST",
                        "/authenticate", {"username": "bench", "password": "nope"})[0])
    rows.append(measure(client, "GET /users/{user}/authlog", "GET",
                        f"/users/{user}/authlog")[0])
    rows.append(measure(client, "GET /users", "GET", "/users")[0])
    rows.append(measure(client, "PUT /users/{user}", "PUT", f"/users/{user}",
                        {"name": "Bench"})[0])
    print(f"{'request':<44} {'st':>3}  {'DynamoDB calls':<48} {'capacity':>9}")
    for row in rows:
        print(row.line())
    print("(capacity of TransactWriteItems is estimated: moto does not report it)")
    app_s, boto_s = import_ratio()
    print(f"\ncold import: app {app_s * 1000:.0f} ms, boto3 {boto_s * 1000:.0f} ms, "
          f"ratio {app_s / boto_s:.2f}")


if __name__ == "__main__":
    main()

"""Shared benchmark plumbing: a moto account with the real tables, an app client, and
per-request DynamoDB call counts and consumed capacity."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Callable

BENCH_ENV = {
    "STAGE": "local", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "TABLE_PREFIX": "bench-", "MAIL_BUCKET": "bench-mail", "KMS_KEY_ID": "alias/bench",
    # The production hashing profile: the numbers should describe what deploys.
    "PASSWORD_HASH_PROFILE": "strong",
}


@dataclass
class Measurement:
    name: str
    status: int
    calls: dict[str, int]
    capacity: float

    def line(self) -> str:
        calls = ", ".join(f"{op} {n}" for op, n in sorted(self.calls.items())) or "none"
        return f"{self.name:<44} {self.status:>3}  {calls:<48} {self.capacity:>6.1f} CU"


def setup() -> Any:
    os.environ.update(BENCH_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws
    mock = mock_aws()
    mock.start()
    from chalicelib.config import settings
    from devstack.tables import create_all, ensure_kms_key, ensure_ses_identity
    config = settings()
    create_all(config.table_prefix, config.mail_bucket, config.region)
    ensure_kms_key(config.kms_key_id, config.region)
    ensure_ses_identity(config.ses_identity, config.region)
    from chalice.test import Client
    from app import app
    return Client(app)


def measure(client: Any, name: str, method: str, path: str, body: Any = None,
            expect: Callable[[dict[str, Any]], None] | None = None) -> tuple[Measurement, Any]:
    from devstack.calls import counting
    with counting(measure_capacity=True) as log:
        response = client.http.request(method, path,
                                       headers={"content-type": "application/json"},
                                       body=json.dumps(body) if body is not None else None)
    payload = json.loads(response.body) if response.body else None
    return Measurement(name, response.status_code, log.by_operation(), log.capacity), payload


def import_ratio(module: str = "app", repeats: int = 5) -> tuple[float, float]:
    """Median cold-import seconds of `module` and of `boto3` alone, in fresh processes."""
    def timed(statement: str) -> float:
        code = f"import time; t=time.perf_counter(); {statement}; print(time.perf_counter()-t)"
        samples = []
        for _ in range(repeats):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 env={**os.environ, **BENCH_ENV}, check=True)
            samples.append(float(out.stdout.strip().splitlines()[-1]))
        samples.sort()
        return samples[len(samples) // 2]
    return timed(f"import {module}"), timed("import boto3")

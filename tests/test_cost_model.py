"""The cost model's inputs are measured, and its arithmetic is the documented one."""
from __future__ import annotations

import pytest

from bench.costs import PROFILE, RouteCost, monthly, scenario
from tests.conftest import new_client


def test_every_priced_route_runs_and_its_units_are_the_measured_ones(app):
    rows = {row.name: row for row in scenario(new_client(app))}
    assert set(PROFILE) <= set(rows)
    assert all(row.status < 400 for row in rows.values())
    # The account (one consistent read unit) and its filters' ids (one more), no write.
    assert (rows["GET /users/{user}"].read_units, rows["GET /users/{user}"].write_units) == (2, 0)
    # An upload writes its message, counters and journal in one transaction, and its
    # source to S3 once.
    upload = rows["POST .../messages (upload, small)"]
    assert upload.write_units > 10 and upload.s3_writes == 1
    assert rows["POST .../2fa/totp/check"].kms == 1  # the seed is decrypted


def test_dollars_per_million_add_up_from_the_parts():
    row = RouteCost("GET x", 200, read_units=2, write_units=0, aws_calls=1, s3_writes=0,
                    s3_reads=0, kms=0, hashing_ms=0)
    parts = row.dollars()
    assert parts["dynamodb"] == pytest.approx(0.25)
    assert parts["lambda"] == pytest.approx(18 / 1000 * 16.6667, rel=1e-4)  # 18 ms at 1 GB
    assert row.total() == pytest.approx(sum(parts.values()))
    requests, dollars = monthly([RouteCost(name, 200, 0, 0, 0, 0, 0, 0, 0) for name in PROFILE])
    assert requests == sum(PROFILE.values()) * 1000
    assert dollars == pytest.approx(sum(PROFILE.values()) * 1000 / 1e6 * (3.70 + 0.2 + 0.92),
                                    rel=0.01)
